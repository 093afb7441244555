import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distModule, repoDir } from '../../support/paths.js';
import {
  createPilotTestHome,
  processesMentioning,
  type PilotTestHome
} from '../../support/pilot-home.js';

const run = promisify(execFile);

interface CellResult {
  status: string;
  outputs: { type: string; content: Record<string, unknown> }[];
}

function texts(cell: CellResult): string[] {
  return cell.outputs.map(output => {
    const content = output.content;
    if (output.type === 'stream') return String(content.text);
    if (output.type === 'error') return `${String(content.ename)}: ${String(content.evalue)}`;
    return String((content.data as Record<string, unknown> | undefined)?.['text/plain'] ?? '');
  });
}

/** Runs cells in a real kernel through jupyter_client (see test/support/kernel_session.py). */
async function runCells(test: PilotTestHome, cells: string[]): Promise<CellResult[]> {
  const python = join(repoDir, '.venv', 'bin', 'python');
  if (!existsSync(python))
    throw new Error(`${python} is missing: run the project's setup (npm test)`);
  const cellsFile = join(test.home, 'cells.json');
  await writeFile(cellsFile, JSON.stringify(cells));
  const { stdout } = await run(
    python,
    [
      join(import.meta.dirname, '..', '..', 'support', 'kernel_session.py'),
      distModule('kernel/main.js'),
      cellsFile
    ],
    {
      env: {
        ...process.env,
        PILOT_STREAMING_HOME: test.home,
        PILOT_STREAMING_CACHE: test.cacheDir
      },
      timeout: 170_000,
      maxBuffer: 16 * 1024 * 1024
    }
  );
  return JSON.parse(stdout) as CellResult[];
}

describe('%%cu in the real kernel', () => {
  let test: PilotTestHome;

  beforeAll(async () => {
    test = await createPilotTestHome();
  });

  afterAll(async () => {
    await test.cleanup();
    expect(await processesMentioning(test.home)).toEqual([]);
  });

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
});
