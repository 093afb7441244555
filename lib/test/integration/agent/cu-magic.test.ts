import { describe, expect, it } from 'vitest';
import { runCells, texts } from '../../support/kernel-cells.js';
import { usePilotTestHome } from '../../support/pilot-home.js';

describe('%%cu in the real kernel', () => {
  const test = usePilotTestHome('file');

  it('runs a cell body as a compute unit on the pilot and shows its result or error', async () => {
    const [create, , unit, failing, usage, cancel] = await runCells(test, [
      '%pilot create kafka --resource fork://localhost --wait',
      "const pilot = await pilots.getPilot('{pilot_id}');",
      [
        '%%cu --pilot {pilot.id}',
        "const { cpus } = require('node:os');",
        'const xs: number[] = [1, 2, 3];',
        "return `sum ${xs.reduce((a, b) => a + b, 0)} on ${cpus().length > 0 ? 'a node' : '?'}`;"
      ].join('\n'),
      "%%cu --pilot {pilot.id}\nthrow new TypeError('from the cell');",
      '%%cu\nreturn 1;',
      '%pilot cancel {pilot_id}'
    ]);
    expect(create!.status).toBe('ok');
    const id = /pilot-[a-z0-9]{12}/.exec(texts(create!).join('\n'))![0];

    expect(unit!.status).toBe('ok');
    const shown = texts(unit!);
    expect(shown.join('\n')).toMatch(new RegExp(`${id}\\.unit-[a-z0-9]{10} Done on \\S+ in`));
    const result = unit!.outputs.find(output => output.type === 'execute_result');
    expect((result?.content.data as Record<string, string>)['text/plain']).toContain(
      'sum 6 on a node'
    );

    expect(failing!.status).toBe('error');
    expect(texts(failing!).join('\n')).toMatch(/TypeError: from the cell/);
    expect(texts(failing!).join('\n')).toMatch(
      /unit-[a-z0-9]{10} Failed: TypeError: from the cell/
    );

    expect(usage!.status).toBe('error');
    expect(texts(usage!).join('\n')).toMatch(/%%cu: --pilot <pilot id> is required/);

    expect(cancel!.status).toBe('ok');
    expect((await test.service.getPilot(id)).state).toBe('Canceled');
  });

  it('shows errors of a %%cu body at their cell lines, like those of any cell', async () => {
    const [create, , syntax, runtime, cancel] = await runCells(test, [
      '%pilot create kafka --resource fork://localhost --wait',
      "const pilot = await pilots.getPilot('{pilot_id}');",
      ['', '%%cu --pilot {pilot.id}', 'const a: number = 1;', 'const b = ;', 'return a;'].join(
        '\n'
      ),
      [
        '%%cu --pilot {pilot.id}',
        'const a: number = 1;',
        'function inner(x: number): never {',
        '  throw new RangeError(`bad ${x}`);',
        '}',
        'return inner(a);'
      ].join('\n'),
      '%pilot cancel {pilot_id}'
    ]);
    expect(create!.status).toBe('ok');

    expect(syntax!.status).toBe('error');
    const syntaxError = syntax!.outputs.find(output => output.type === 'error')!.content;
    expect(syntaxError).toMatchObject({ ename: 'SyntaxError', evalue: 'Unexpected ";" (4:11)' });
    expect((syntaxError.traceback as string[]).join('\n')).toMatch(/<cell-3>:4:11\n\s+const b = ;/);

    expect(runtime!.status).toBe('error');
    const runtimeError = runtime!.outputs.find(output => output.type === 'error')!.content;
    expect(runtimeError).toMatchObject({ ename: 'RangeError', evalue: 'bad 1' });
    const traceback = (runtimeError.traceback as string[]).join('\n');
    expect(traceback).toContain('at inner (<cell-4>:4:9)');
    expect(traceback).toContain('at <cell-4>:6:8');
    // The excerpt of the cell, as for an error in any cell.
    expect(traceback).toMatch(/-->.*4.*throw new RangeError/);
    expect(traceback).not.toMatch(/unit-[a-z0-9]{10}\.js|function-worker/);

    expect(cancel!.status).toBe('ok');
  });
});
