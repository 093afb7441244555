/**
 * The Mini-Apps as a library: `mass(pilot, options)` starts producers, `masa(pilot, options)`
 * consumers, each as compute units on the pilot's nodes; `runRecords(pilot)` reads the records
 * of a pilot's finished runs (after a kernel restart too).
 */
import { readdir } from 'node:fs/promises';
import { isAbsolute, join, resolve as resolvePath } from 'node:path';
import { MiniAppInputError } from './errors.js';
import { getDefaultPilotService, type Pilot, type PilotComputeService } from '../pilot/index.js';
import { readRunRecord, type RunRecord } from './metrics/run-record.js';
import {
  parseMasaOptions,
  parseMassOptions,
  type MasaOptions,
  type MassOptions
} from './runs/options.js';
import { MiniAppRun, type RunPlace } from './runs/run.js';
import { runSweep, type SweepOptions, type SweepResult, type SweepRow } from './sweeps/sweep.js';

export type { MasaOptions, MassOptions } from './runs/options.js';
export type { MiniAppRun, RunSummary } from './runs/run.js';
export type { SweepGrid, SweepOptions, SweepResult, SweepRow } from './sweeps/sweep.js';

async function resolve(pilot: Pilot | string, service: PilotComputeService): Promise<Pilot> {
  return typeof pilot === 'string' ? service.getPilot(pilot) : pilot;
}

async function placeOf(pilot: Pilot, service: PilotComputeService): Promise<RunPlace> {
  const record = await pilot.refresh();
  return {
    unitCommand: await service.libraryCommand(record, 'miniapps-unit'),
    recordDirectory: service.runRecordDirectory(record),
    sharesFiles: record.resourceHome === undefined
  };
}

/**
 * Paths in options name files on the pilot's nodes. Where they share this machine's files, a
 * relative path means the same as here (the units run in their own directories); elsewhere it
 * would mean nothing, so it is refused.
 */
function absolutePath(path: string, key: string, place: RunPlace): string {
  if (isAbsolute(path)) return path;
  if (place.sharesFiles) return resolvePath(path);
  throw new MiniAppInputError(
    `${key} = ${JSON.stringify(path)}: a relative path on a remote resource; give the absolute path there`
  );
}

/** The options as the record keeps them (a function as its source text). */
function describe(options: object): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(options, (_, value: unknown) =>
      typeof value === 'function' ? value.toString() : value
    )
  ) as Record<string, unknown>;
}

/** Starts MASS producers; every option is checked before anything is created. */
export async function mass(
  pilot: Pilot | string,
  options: MassOptions,
  service: PilotComputeService = getDefaultPilotService()
): Promise<MiniAppRun> {
  const parsed = parseMassOptions(options);
  const target = await resolve(pilot, service);
  const place = await placeOf(target, service);
  if (parsed.source.kind === 'lightsource')
    parsed.source.file = absolutePath(parsed.source.file, 'source.file', place);
  return MiniAppRun.startMass(target, place, parsed, describe(options));
}

/** Starts MASA consumers; every option is checked before anything is created. */
export async function masa(
  pilot: Pilot | string,
  options: MasaOptions,
  service: PilotComputeService = getDefaultPilotService()
): Promise<MiniAppRun> {
  const parsed = parseMasaOptions(options);
  const target = await resolve(pilot, service);
  const place = await placeOf(target, service);
  const processor = parsed.processor;
  if ('output' in processor && processor.output !== undefined)
    processor.output = absolutePath(processor.output, 'processor.output', place);
  return MiniAppRun.startMasa(target, place, parsed, describe(options));
}

/** Records of the pilot's finished runs, oldest first; a damaged one is skipped with a warning. */
export async function runRecords(
  pilot: Pilot | string,
  service: PilotComputeService = getDefaultPilotService()
): Promise<RunRecord[]> {
  const target = await resolve(pilot, service);
  const directory = service.runRecordDirectory(await target.refresh());
  let names: string[];
  try {
    names = (await readdir(directory)).filter(name => name.endsWith('.json'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const records: RunRecord[] = [];
  for (const name of names) {
    try {
      records.push(await readRunRecord(join(directory, name)));
    } catch (error) {
      console.warn(`skipping run record ${name}: ${(error as Error).message}`);
    }
  }
  return records.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

/**
 * Runs a grid of MASS + MASA runs on the pilot (or the pilots the grid names), one after the
 * other, and writes the table (Markdown), plot (SVG) and rows (JSON) beside the run records.
 */
export async function sweep(
  pilot: Pilot | string,
  options: SweepOptions,
  onRow?: (row: SweepRow, index: number, total: number) => void,
  service: PilotComputeService = getDefaultPilotService()
): Promise<SweepResult> {
  const target = await resolve(pilot, service);
  const directory = join(service.runRecordDirectory(await target.refresh()), 'sweeps');
  return runSweep(
    {
      mass: (id, massOptions) => mass(id, massOptions, service),
      masa: (id, masaOptions) => masa(id, masaOptions, service)
    },
    target.id,
    options,
    directory,
    onRow
  );
}
