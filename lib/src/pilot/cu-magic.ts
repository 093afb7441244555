import { parseArgs } from 'node:util';
import { transform } from 'esbuild';
import type { KernelServices } from '../kernel/api.js';
import { ValidationError } from '../protocol/index.js';
import { getDefaultPilotService } from './index.js';
import { splitArguments } from './magic-arguments.js';

export const CU_MAGIC_USAGE = `Usage:
  %%cu --pilot <pilot id> [--timeout <seconds>]
  <body of an async function, in TypeScript or JavaScript; "return" gives the result>

The body runs as a compute unit on a node of the pilot. It sees only its own variables (no
closures over the notebook's), and may use require() for Node modules.`;

/** A wrong %%cu line: says what was wrong and shows the usage. */
export class CuMagicUsageError extends Error {
  constructor(problem: string) {
    super(`%%cu: ${problem}\n${CU_MAGIC_USAGE}`);
    this.name = 'CuMagicUsageError';
  }
}

export function parseCuArguments(words: string[]): { pilotId: string; timeoutMs: number } {
  let values: { pilot?: string; timeout?: string };
  try {
    ({ values } = parseArgs({
      args: words,
      strict: true,
      options: { pilot: { type: 'string' }, timeout: { type: 'string' } }
    }));
  } catch (error) {
    throw new CuMagicUsageError((error as Error).message);
  }
  if (values.pilot === undefined) throw new CuMagicUsageError('--pilot <pilot id> is required');
  let timeoutMs = 300_000;
  if (values.timeout !== undefined) {
    const seconds = Number(values.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0) {
      throw new ValidationError('%%cu options', [
        { key: '--timeout', value: values.timeout, expected: 'a positive number of seconds' }
      ]);
    }
    timeoutMs = seconds * 1000;
  }
  return { pilotId: values.pilot, timeoutMs };
}

/** The cell body as the source of an async arrow function, TypeScript removed. */
export async function unitSourceOf(body: string): Promise<string> {
  const { code } = await transform(`(async () => {\n${body}\n})`, {
    loader: 'ts',
    format: 'esm',
    target: 'es2022'
  });
  return code.trim().replace(/;$/, '');
}

/** `%%cu --pilot <id>`: runs the cell body as a compute unit and returns its value. */
export async function cuMagic(
  args: string,
  body: string,
  kernel: KernelServices
): Promise<unknown> {
  const { pilotId, timeoutMs } = parseCuArguments(splitArguments(args));
  const service = getDefaultPilotService();
  const pilot = await service.getPilot(pilotId);
  const source = await unitSourceOf(body);
  // A function built from the cell's text: its toString() is the source shipped to the node.
  const fn = (0, eval)(source) as () => Promise<unknown>;
  const unit = await pilot.submit(fn);
  const line = (text: string) => ({ 'text/plain': `${unit.id} ${text}` });
  const status = kernel.display(line(`submitted to ${pilot.id}`));
  try {
    const value = await unit.result({ timeoutMs });
    status.update(
      line(
        `Done on ${unit.node} in ${(unit.finished!.getTime() - unit.started!.getTime()) / 1000} s`
      )
    );
    return value;
  } catch (error) {
    status.update(
      line(`${unit.state}${unit.record.reason !== undefined ? `: ${unit.record.reason}` : ''}`)
    );
    throw error;
  }
}
