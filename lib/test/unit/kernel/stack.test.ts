import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { rewriteCell } from '../../../src/kernel/executor/rewrite.js';
import { CellSources, cellFileName, reportError } from '../../../src/kernel/executor/stack.js';
import {
  transpileCell,
  CellSyntaxError,
  checkCompleteness
} from '../../../src/kernel/executor/transpile.js';

/** Compiles a cell the way the executor does and returns what it throws. */
async function failingCell(
  sources: CellSources,
  label: string,
  source: string,
  context: vm.Context
) {
  const transpiled = await transpileCell(source, cellFileName(label));
  sources.add(label, transpiled.map, source, transpiled.code.split('\n').length);
  const { script } = rewriteCell(transpiled.code);
  try {
    await new vm.Script(script, { filename: cellFileName(label), lineOffset: -1 }).runInContext(
      context
    );
  } catch (error) {
    return error;
  }
  throw new Error('cell did not fail');
}

describe('stack mapping', () => {
  it('maps frames to lines of the TypeScript cell, across cells', async () => {
    const sources = new CellSources();
    const context = vm.createContext({});
    const define = [
      'interface Options {',
      '  strict: boolean;',
      '}',
      'function check(options: Options): void {',
      '  if (options.strict) {',
      "    throw new TypeError('strict mode');",
      '  }',
      '}'
    ].join('\n');
    const transpiled = await transpileCell(define, cellFileName('cell-1'));
    sources.add('cell-1', transpiled.map, define, transpiled.code.split('\n').length);
    await new vm.Script(rewriteCell(transpiled.code).script, {
      filename: cellFileName('cell-1'),
      lineOffset: -1
    }).runInContext(context);

    const error = await failingCell(
      sources,
      'cell-2',
      'type T = number;\nconst n: T = 1;\ncheck({ strict: n === 1 });',
      context
    );
    const report = reportError(error, sources, ['node:']);
    expect(report.ename).toBe('TypeError');
    expect(report.evalue).toBe('strict mode');
    const text = report.traceback.join('\n');
    expect(text).toMatch(/at check \(<cell-1>:6:\d+\)/);
    expect(text).toMatch(/<cell-2>:3:\d+/);
    expect(text).toContain("throw new TypeError('strict mode');");
    expect(text).not.toContain('node:');
  });

  it('shows an excerpt with an arrow at the failing line', () => {
    const sources = new CellSources();
    sources.add(
      'cell-9',
      '{"version":3,"sources":[],"names":[],"mappings":""}',
      'a\nb\nc\nd\ne\nf',
      1
    );
    const excerpt = sources.excerpt('cell-9', 4)!;
    expect(excerpt).toContain('--> 4');
    expect(excerpt).toContain('b');
    expect(excerpt).not.toContain(' a');
    expect(sources.excerpt('cell-9', 40)).toBeUndefined();
  });

  it('reports thrown non-errors', () => {
    const report = reportError({ weird: true }, new CellSources());
    expect(report).toMatchObject({ ename: 'Uncaught', evalue: '{ weird: true }' });
  });
});

describe('transpileCell', () => {
  it('gives syntax errors with line and column of the cell', async () => {
    const error = await transpileCell('const a = 1;\nconst b = (2 + ;', 'x').catch(
      (e: unknown) => e
    );
    expect(error).toBeInstanceOf(CellSyntaxError);
    expect(error).toMatchObject({ line: 2, column: 16, lineText: 'const b = (2 + ;' });
  });

  it('keeps imports whose bindings look unused', async () => {
    const { code } = await transpileCell("import { a } from 'm';", 'x');
    expect(code).toContain('import { a } from "m"');
  });

  it('tells incomplete from invalid code', async () => {
    expect(await checkCompleteness('if (x) {')).toBe('incomplete');
    expect(await checkCompleteness('const t = `abc')).toBe('incomplete');
    expect(await checkCompleteness('x = )')).toBe('invalid');
    expect(await checkCompleteness('x = 1')).toBe('complete');
  });
});
