import { SourceMap } from 'node:module';
import { parseArgs } from 'node:util';
import { transform, type Message } from 'esbuild';
import type { CellMagicBody, KernelServices } from '../kernel/api.js';
import { CellSyntaxError } from '../kernel/executor/transpile.js';
import { ValidationError } from '../protocol/index.js';
import { ComputeUnitError } from './compute-unit.js';
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

/** The unit's function, built from a cell body, and the way back from its source to the cell. */
export interface UnitSource {
  /** An async arrow function, TypeScript removed: what is shipped to the node. */
  source: string;
  /** The cell position of a 1-based line and column of `source`. */
  cellPosition(line: number, column: number): { line: number; column: number } | undefined;
}

/**
 * The cell body as the source of an async arrow function. A syntax error is a CellSyntaxError at
 * its cell position, shown like that of any cell.
 */
export async function unitSourceOf(body: string, where: CellMagicBody): Promise<UnitSource> {
  // Line k (from 0) of the wrapper is line k of the body (from 1): the body's first line is the
  // cell's line `where.line`.
  const bodyLines = body.split('\n');
  const toCell = (wrapperLine: number) => where.line + wrapperLine - 1;
  let result;
  try {
    result = await transform(`(async () => {\n${body}\n})`, {
      loader: 'ts',
      format: 'esm',
      target: 'es2022',
      sourcemap: 'external',
      sourcefile: where.file
    });
  } catch (error) {
    const message = (error as { errors?: Message[] }).errors?.[0];
    if (message === undefined || message.location === null) throw error;
    // A body that ends too early fails at the wrapper's closing line: point at the body's end.
    const wrapperLine = Math.min(Math.max(message.location.line - 1, 1), bodyLines.length);
    const lineText = bodyLines[wrapperLine - 1]!;
    const column =
      wrapperLine === message.location.line - 1 ? message.location.column + 1 : lineText.length + 1;
    throw new CellSyntaxError(message.text, toCell(wrapperLine), column, lineText);
  }
  const map = new SourceMap(JSON.parse(result.map) as never);
  return {
    // esbuild's output starts at its first line and column: positions in it are the map's.
    source: result.code.trim().replace(/;$/, ''),
    cellPosition(line, column) {
      const entry = map.findEntry(line - 1, column - 1) as {
        originalLine?: number;
        originalColumn?: number;
      };
      const wrapperLine = entry.originalLine;
      if (wrapperLine === undefined || wrapperLine < 1 || wrapperLine > bodyLines.length) {
        return undefined;
      }
      return { line: toCell(wrapperLine), column: (entry.originalColumn ?? 0) + 1 };
    }
  };
}

// The agent's worker that calls the unit's function: its frames are machinery, not the cell's.
const WORKER_FRAME = /^\s+at .*[\\/]agent[\\/]function-worker\.js:\d+:\d+\)?$/;

/**
 * The stack a unit's error brought back from the node, its frames in the unit's function (which
 * the node compiled as `<unit id>.js`, wrapped in parentheses) put at their cell positions.
 */
export function cellStack(
  stack: string,
  unitId: string,
  unit: UnitSource,
  where: CellMagicBody
): string {
  const escaped = `${unitId}.js`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const position = new RegExp(`${escaped}:(\\d+):(\\d+)`, 'g');
  return stack
    .split('\n')
    .filter(line => !WORKER_FRAME.test(line))
    .map(line =>
      line.replace(position, (whole, lineText: string, columnText: string) => {
        const line = Number(lineText);
        // The node compiled `(${source})`: its first line starts one column later.
        const column = Number(columnText) - (line === 1 ? 1 : 0);
        const mapped = unit.cellPosition(line, column);
        return mapped === undefined ? whole : `${where.file}:${mapped.line}:${mapped.column}`;
      })
    )
    .join('\n');
}

/** `%%cu --pilot <id>`: runs the cell body as a compute unit and returns its value. */
export async function cuMagic(
  args: string,
  body: string,
  kernel: KernelServices,
  where: CellMagicBody
): Promise<unknown> {
  const { pilotId, timeoutMs } = parseCuArguments(splitArguments(args));
  const service = getDefaultPilotService();
  const pilot = await service.getPilot(pilotId);
  const unitSource = await unitSourceOf(body, where);
  // A function built from the cell's text: its toString() is the source shipped to the node.
  const fn = (0, eval)(unitSource.source) as () => Promise<unknown>;
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
    if (error instanceof ComputeUnitError && error.stack !== undefined) {
      error.stack = cellStack(error.stack, unit.id, unitSource, where);
    }
    throw error;
  }
}
