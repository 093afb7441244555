import { SourceMap } from 'node:module';
import { describe, expect, it } from 'vitest';
import { checkCompleteness, untranspiled } from '../../../src/kernel/executor/transpile.js';

describe('checkCompleteness (is_complete_request)', () => {
  it('says incomplete for code that only ends too early', async () => {
    for (const code of [
      'const a = {',
      'const a = {\n  b: 1,',
      'x.',
      'f(1,',
      'if (x) {',
      'function f(a: number',
      'const s = `open template',
      'const s = `${"`"}',
      '/* an open comment'
    ]) {
      expect({ code, status: await checkCompleteness(code) }).toEqual({
        code,
        status: 'incomplete'
      });
    }
  });

  it('says invalid for real syntax errors, and complete for code that parses', async () => {
    for (const code of [
      'const a = }',
      'a b',
      'const s = "no end',
      "const q = '`';\nconst s = 'x"
    ]) {
      expect({ code, status: await checkCompleteness(code) }).toEqual({ code, status: 'invalid' });
    }
    expect(await checkCompleteness('const a = { b: 1 };\na.b')).toBe('complete');
  });
});

describe('untranspiled (a cell magic cell)', () => {
  it('keeps the code and maps every position of the cell to itself, blank lines too', () => {
    const source = 'first\n\n%%cu --pilot p\nconst body = 1;\nreturn body;';
    const code = 'first\n\n  await magic("cu", "--pilot p", "const body...");\n\n';
    const transpiled = untranspiled(code, source, '<cell-2>');
    expect(transpiled.code).toBe(code);
    const map = new SourceMap(JSON.parse(transpiled.map));
    for (const [line, column] of [
      [0, 0],
      [0, 4],
      [2, 2],
      [2, 30],
      [3, 6],
      [4, 10]
    ] as const) {
      expect(map.findEntry(line, column)).toMatchObject({
        originalLine: line,
        originalColumn: column
      });
    }
  });
});
