import { describe, expect, it } from 'vitest';
import { UsageError, replaceLineMagics } from '../../../src/kernel/executor/magics.js';

describe('replaceLineMagics', () => {
  it('finds magics at the start of lines and keeps the line count', () => {
    const source =
      'const a = 1;\n%pilot create kafka --resource fork://localhost\n  %pilot list\nconsole.log(a % 2);\n%time';
    const { code, magics } = replaceLineMagics(source, 'k.magic');
    expect(magics).toEqual([
      { line: 2, name: 'pilot', args: 'create kafka --resource fork://localhost' },
      { line: 3, name: 'pilot', args: 'list' },
      { line: 5, name: 'time', args: '' }
    ]);
    const lines = code.split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe('const a = 1;');
    expect(lines[1]).toBe('await k.magic("pilot", "create kafka --resource fork://localhost");');
    expect(lines[2]).toBe('  await k.magic("pilot", "list");');
    expect(lines[3]).toBe('console.log(a % 2);');
    expect(lines[4]).toBe('await k.magic("time", "");');
  });

  it('quotes arguments safely', () => {
    const { code } = replaceLineMagics('%say "hi" \\ `there` ${x}', 'm');
    expect(code).toBe('await m("say", "\\"hi\\" \\\\ `there` ${x}");');
  });

  it('leaves code without magics alone', () => {
    const source = 'const pct = 5 % 3;\nconst s = "%notmagic";';
    expect(replaceLineMagics(source, 'm')).toEqual({ code: source, magics: [] });
  });

  it('rejects cell magics with a clear message', () => {
    expect(() => replaceLineMagics('\n%%bash\nls', 'm')).toThrow(UsageError);
    expect(() => replaceLineMagics('%%bash\nls', 'm')).toThrow(/%%bash is not supported/);
  });
});
