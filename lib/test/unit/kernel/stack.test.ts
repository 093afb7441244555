import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import {
  KERNEL_HELPER,
  cellHelpers,
  declareInterruptBindings,
  rewriteCell
} from '../../../src/kernel/executor/rewrite.js';
import { CellSources, cellFileName, reportError } from '../../../src/kernel/executor/stack.js';
import {
  transpileCell,
  CellSyntaxError,
  checkCompleteness
} from '../../../src/kernel/executor/transpile.js';

/** A context with what rewritten cells call, as the executor provides it. */
function cellContext(): vm.Context {
  const context = vm.createContext({});
  context[KERNEL_HELPER] = cellHelpers(vm.runInContext('globalThis', context) as object);
  declareInterruptBindings(context);
  return context;
}

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
    const context = cellContext();
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

  /**
   * Runs a cell's transpiled code (not rewritten: its functions become globals of the context
   * as they are) with its map recorded in `sources`; returns what it throws.
   */
  async function runCell(sources: CellSources, label: string, source: string, context: vm.Context) {
    const transpiled = await transpileCell(source, cellFileName(label));
    sources.add(label, transpiled.map, source, transpiled.code.split('\n').length);
    try {
      new vm.Script(transpiled.code, { filename: cellFileName(label) }).runInContext(context);
    } catch (error) {
      return error;
    }
    return undefined;
  }

  const THROWER = [
    '// defined early, called much later',
    'function boom(): never {',
    "  throw new RangeError('old cell');",
    '}'
  ].join('\n');

  it('keeps a bounded number of parsed maps, and still maps frames of an old cell', async () => {
    const sources = new CellSources();
    const context = cellContext();
    await runCell(sources, 'cell-1', THROWER, context);
    const filler = await transpileCell('const n: number = 1;\nn + 1;', cellFileName('x'));
    for (let count = 2; count <= 2000; count++) {
      sources.add(`cell-${count}`, filler.map, 'const n: number = 1;\nn + 1;', 2);
      // Errors in recent cells parse their maps.
      sources.map(`cell-${count}`, 1, 1);
    }
    expect(sources.retained.parsedMaps).toBeLessThanOrEqual(32);
    expect(sources.retained.cells).toBe(2000);

    const error = await runCell(sources, 'cell-2001', 'boom();', context);
    const text = reportError(error, sources, ['node:']).traceback.join('\n');
    expect(text).toMatch(/at boom \(<cell-1>:3:\d+\)/);
    expect(text).toContain("throw new RangeError('old cell');");
  });

  it('drops the least recently used cells beyond its byte budget, and says so in frames', async () => {
    const sources = new CellSources({ maxBytes: 2000 });
    const context = cellContext();
    await runCell(sources, 'cell-1', THROWER, context);
    await runCell(sources, 'cell-2', THROWER.replace(/boom/g, 'bang'), context);
    const filler = 'const n: number = 1;\nn + 1;';
    const fillerMap = (await transpileCell(filler, cellFileName('x'))).map;
    for (let count = 3; count <= 60; count++) {
      sources.add(`cell-${count}`, fillerMap, filler, 2);
      // cell-2's function keeps failing: its record stays; cell-1's is dropped.
      if (count % 10 === 0) {
        const error = await runCell(sources, `silent-${count}`, 'bang();', context);
        expect(reportError(error, sources).traceback.join('\n')).toMatch(/<cell-2>:3:\d+\)/);
      }
    }
    expect(sources.retained.bytes).toBeLessThanOrEqual(2000);
    expect(sources.retained.cells).toBeLessThan(60);

    const error = await runCell(sources, 'cell-61', 'boom();', context);
    const text = reportError(error, sources, ['node:']).traceback.join('\n');
    expect(text).toMatch(
      /at boom \(<cell-1>:\d+:\d+ \(compiled JavaScript: its source map is no longer kept\)\)/
    );
    expect(text).toMatch(/<cell-61>:1:1/);
    // A frame that is no cell of the kernel's is left alone.
    expect(sources.mapFrame('    at eval (<anonymous>:1:5)')).toEqual({
      text: '    at eval (<anonymous>:1:5)'
    });
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
