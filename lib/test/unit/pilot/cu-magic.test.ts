import { runInThisContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { CellSyntaxError } from '../../../src/kernel/executor/transpile.js';
import { cellStack, unitSourceOf } from '../../../src/pilot/cu-magic.js';

// The body of a `%%cu` line that stands on line 2 of cell 7.
const WHERE = { file: '<cell-7>', line: 3 };
const UNIT_ID = 'pilot-0123456789ab.unit-0123456789';

describe('%%cu bodies', () => {
  it('reports a syntax error at its line and column in the cell', async () => {
    const body = 'const a: number = 1;\nconst b = ;\nreturn a;';
    const error = await unitSourceOf(body, WHERE).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(CellSyntaxError);
    expect(error).toMatchObject({ line: 4, column: 11, lineText: 'const b = ;' });
  });

  it('points a body that ends too early at its last line', async () => {
    const error = await unitSourceOf('if (true) {\n  return 1;', WHERE).catch(
      (thrown: unknown) => thrown
    );
    expect(error).toMatchObject({ line: 4, lineText: '  return 1;' });
  });

  it("maps the frames of the unit's error, as the node reports them, to cell lines", async () => {
    const body = [
      'const a: number = 1;',
      'function inner(x: number): never {',
      '  throw new RangeError(`bad ${x}`);',
      '}',
      'return inner(a);'
    ].join('\n');
    const unit = await unitSourceOf(body, WHERE);
    // As the agent's function worker compiles and calls it.
    const fn = runInThisContext(`(${unit.source})`, {
      filename: `${UNIT_ID}.js`
    }) as () => Promise<unknown>;
    const error = (await fn().catch((thrown: unknown) => thrown)) as Error;
    const workerFrame = '    at run (file:///opt/lib/dist/agent/function-worker.js:47:12)';
    const stack = cellStack(`${error.stack}\n${workerFrame}`, UNIT_ID, unit, WHERE);
    const frames = stack.split('\n').filter(line => line.includes('<cell-7>'));
    expect(frames[0]).toMatch(/at inner \(<cell-7>:5:9\)$/);
    expect(frames[1]).toMatch(/at <cell-7>:7:8$/);
    expect(stack).not.toContain(UNIT_ID);
    expect(stack).not.toContain('function-worker');
  });
});
