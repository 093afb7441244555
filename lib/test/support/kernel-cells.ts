import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { distModule, repoDir } from './paths.js';
import type { PilotTestHome } from './pilot-home.js';

const run = promisify(execFile);

/** One cell's execute_reply status and the iopub messages it caused. */
export interface CellResult {
  status: string;
  outputs: { type: string; content: Record<string, unknown> }[];
  /** Outputs of earlier cells that arrived while this one ran. */
  late?: { type: string; content: Record<string, unknown> }[];
  /** The reply's content, for a ShellRequest. */
  reply?: Record<string, unknown>;
}

/** Instead of a cell: a complete, inspect or is_complete request (cursor_pos: end of code). */
export type ShellRequest =
  | { complete: string; cursor_pos?: number }
  | { inspect: string; cursor_pos?: number }
  | { is_complete: string };

/** The text of each output: stream text, "ename: evalue", or the text/plain of rich output. */
export function texts(cell: CellResult): string[] {
  return cell.outputs.map(output => {
    const content = output.content;
    if (output.type === 'stream') return String(content.text);
    if (output.type === 'error') return `${String(content.ename)}: ${String(content.evalue)}`;
    return String((content.data as Record<string, unknown> | undefined)?.['text/plain'] ?? '');
  });
}

/** A cell whose run is interrupted (interrupt_request, as Jupyter does) once one of its outputs matches. */
export interface InterruptedCell {
  code: string;
  /** A regular expression (Python's syntax) tried on the JSON of each output's content. */
  interrupt_when: string;
}

/**
 * Runs cells in a real kernel through jupyter_client (kernel_session.py beside this file), with
 * the test's registry; a cell "RESTART_KERNEL" starts a new kernel process.
 */
export async function runCells(
  test: Pick<PilotTestHome, 'home' | 'cacheDir'>,
  cells: (string | InterruptedCell | ShellRequest)[]
): Promise<CellResult[]> {
  const python = join(repoDir, '.venv', 'bin', 'python');
  if (!existsSync(python))
    throw new Error(`${python} is missing: run the project's setup (npm test)`);
  const cellsFile = join(test.home, 'cells.json');
  await writeFile(cellsFile, JSON.stringify(cells));
  const { stdout } = await run(
    python,
    [join(import.meta.dirname, 'kernel_session.py'), distModule('kernel/main.js'), cellsFile],
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
