/**
 * Sweeps: the paper's experiments as a grid (rate × message size × partitions × consumers ×
 * processor × pilot), one MASS + MASA run per point on a fresh topic, one run record each, and a
 * table and plot of the results.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MiniAppInputError } from '../errors.js';
import type { MasaOptions, MassOptions } from '../runs/options.js';
import type { MiniAppRun, RunSummary } from '../runs/run.js';
import { sweepSvg } from './plot.js';
import { sweepMarkdown } from './table.js';

/** The dimensions a sweep may vary; each lists the values to try. */
export interface SweepGrid {
  /** Messages per second of all producers together. */
  rate?: number[];
  /** Message size: bytes of a synthetic-bytes source, points of a cluster source. */
  size?: number[];
  partitions?: number[];
  consumers?: number[];
  producers?: number[];
  /** Processor kinds (kmeans, gridrec, …) or full processor options. */
  processor?: (string | Record<string, unknown>)[];
  /** Pilots, e.g. of 1, 2 and 3 nodes (labelled by their node count or name). */
  pilot?: string[];
}

export interface SweepOptions {
  grid: SweepGrid;
  /** The MASS options every point starts from (topic and partitions are set per point). */
  source: Omit<MassOptions, 'topic' | 'partitions'>;
  /** The MASA options every point starts from. */
  processor: Omit<MasaOptions, 'topic' | 'until' | 'partitions'>;
}

/** One point of the grid and what its runs measured. */
export interface SweepRow {
  point: Record<string, string | number>;
  produced: number;
  processed: number;
  lost: number;
  duplicated: number;
  producedPerSecond: number;
  processedPerSecond: number;
  processedMBPerSecond: number;
  p50Ms: number | null;
  p99Ms: number | null;
  state: string;
  massRecord: string | null;
  masaRecord: string | null;
}

export interface SweepResult {
  id: string;
  rows: SweepRow[];
  /** The table as Markdown and the plot as SVG text. */
  table: string;
  svg: string;
  /** Paths of the sweep's table (Markdown), plot (SVG) and rows (JSON). */
  files: { markdown: string; svg: string; json: string };
}

/** What a sweep needs to start runs (the library's mass/masa, bound to a service). */
export interface SweepRunner {
  mass(pilot: string, options: MassOptions): Promise<MiniAppRun>;
  masa(pilot: string, options: MasaOptions): Promise<MiniAppRun>;
}

const DIMENSIONS = [
  'rate',
  'size',
  'partitions',
  'consumers',
  'producers',
  'processor',
  'pilot'
] as const;
const MAX_POINTS = 1000;

/** Every combination of the grid's values, in the order of DIMENSIONS (last varies fastest). */
export function gridPoints(grid: SweepGrid): Record<string, unknown>[] {
  for (const key of Object.keys(grid))
    if (!(DIMENSIONS as readonly string[]).includes(key))
      throw new MiniAppInputError(
        `grid.${key}: unknown dimension; expected ${DIMENSIONS.join(', ')}`
      );
  let points: Record<string, unknown>[] = [{}];
  for (const dimension of DIMENSIONS) {
    const values = grid[dimension];
    if (values === undefined) continue;
    if (!Array.isArray(values) || values.length === 0)
      throw new MiniAppInputError(
        `grid.${dimension} = ${JSON.stringify(values)}: expected a non-empty list of values`
      );
    points = points.flatMap(point => values.map(value => ({ ...point, [dimension]: value })));
  }
  if (points.length > MAX_POINTS)
    throw new MiniAppInputError(`the grid has ${points.length} points: at most ${MAX_POINTS}`);
  return points;
}

function label(value: unknown): string | number {
  if (typeof value === 'number' || typeof value === 'string') return value;
  return String((value as { kind?: unknown }).kind ?? JSON.stringify(value));
}

/** The MASS and MASA options of one point. */
function optionsAt(
  options: SweepOptions,
  point: Record<string, unknown>,
  topic: string
): { mass: MassOptions; masa: MasaOptions } {
  const source = options.source.source;
  let sized = source;
  if (point.size !== undefined) {
    const base = typeof source === 'string' ? { kind: source } : source;
    if (typeof base === 'function' || !['synthetic-bytes', 'cluster', 'static'].includes(base.kind))
      throw new MiniAppInputError(
        'grid.size: a size applies to synthetic-bytes (bytes) and cluster or static (points) sources'
      );
    sized = (
      base.kind === 'synthetic-bytes'
        ? { ...base, size: point.size }
        : { ...base, pointsPerMessage: point.size }
    ) as MassOptions['source'];
  }
  const partitions = point.partitions as number | undefined;
  return {
    mass: {
      ...options.source,
      source: sized,
      topic,
      ...(point.rate !== undefined ? { rate: point.rate } : {}),
      ...(point.producers !== undefined ? { producers: point.producers as number } : {}),
      ...(partitions !== undefined ? { partitions } : {})
    },
    masa: {
      ...options.processor,
      topic,
      until: 'drained',
      ...(point.processor !== undefined
        ? { processor: point.processor as MasaOptions['processor'] }
        : {}),
      ...(point.consumers !== undefined ? { consumers: point.consumers as number } : {}),
      ...(partitions !== undefined ? { partitions } : {})
    }
  };
}

function row(
  point: Record<string, unknown>,
  produced: RunSummary,
  processed: RunSummary
): SweepRow {
  return {
    point: Object.fromEntries(Object.entries(point).map(([key, value]) => [key, label(value)])),
    produced: produced.produced,
    processed: processed.processed,
    lost: processed.lost,
    duplicated: processed.duplicated,
    producedPerSecond: produced.producedPerSecond,
    processedPerSecond: processed.processedPerSecond,
    processedMBPerSecond: processed.processedMBPerSecond,
    p50Ms: processed.latencyMs?.p50 ?? null,
    p99Ms: processed.latencyMs?.p99 ?? null,
    state: produced.state === 'failed' ? 'failed' : processed.state,
    massRecord: produced.record?.recordPath ?? null,
    masaRecord: processed.record?.recordPath ?? null
  };
}

/**
 * Runs the grid point by point (the consumers first, so nothing is missed), waits for each
 * point to drain, and writes the table and plot into `directory`. `onRow` hears each result.
 */
export async function runSweep(
  runner: SweepRunner,
  defaultPilot: string,
  options: SweepOptions,
  directory: string,
  onRow?: (row: SweepRow, index: number, total: number) => void
): Promise<SweepResult> {
  const points = gridPoints(options.grid);
  const id = `sweep-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const rows: SweepRow[] = [];
  for (const [index, point] of points.entries()) {
    const topic = `${id}-${index}`.toLowerCase();
    const { mass, masa } = optionsAt(options, point, topic);
    if (mass.messages === undefined && mass.duration === undefined)
      throw new MiniAppInputError(
        'source: a sweep needs messages or duration per run, or its runs would never end'
      );
    const pilot = (point.pilot as string | undefined) ?? defaultPilot;
    const sink = await runner.masa(pilot, masa);
    let source: MiniAppRun;
    try {
      source = await runner.mass(pilot, mass);
    } catch (error) {
      await sink.stop('its source could not start');
      throw error;
    }
    const [produced, processed] = await Promise.all([source.done(), sink.done()]);
    rows.push(row(point, produced, processed));
    onRow?.(rows[rows.length - 1]!, index, points.length);
  }
  await mkdir(directory, { recursive: true });
  const files = {
    markdown: join(directory, `${id}.md`),
    svg: join(directory, `${id}.svg`),
    json: join(directory, `${id}.json`)
  };
  const table = sweepMarkdown(rows);
  const svg = sweepSvg(rows);
  await writeFile(files.markdown, table);
  await writeFile(files.svg, svg);
  await writeFile(files.json, `${JSON.stringify({ id, options, rows }, null, 2)}\n`);
  return { id, rows, table, svg, files };
}
