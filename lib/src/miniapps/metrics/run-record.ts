/**
 * The record of one Mini-App run: what was asked, what producers and consumers counted, the
 * latency and the rates over time. Written as `<id>.json` plus `<id>.csv` (the time series, for
 * plotting) into a directory; each file is written to a temporary file beside it and renamed
 * into place, so a reader sees the old record or the new one, never half of one.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { formatProblem, problemsFromIssues } from '../../protocol/validation.js';
import { MiniAppInputError } from '../errors.js';
import { LatencyHistogram, type LatencyHistogramJSON, type LatencySummary } from './latency.js';
import { ratePerSecond, type RateWindow } from './rates.js';

export const RUN_RECORD_VERSION = 1;

export interface ProducerCounts {
  readonly id: string;
  readonly node?: string;
  readonly messages: number;
  readonly bytes: number;
  /** Sends the pacer skipped because the producer fell behind. */
  readonly behind: number;
  readonly errors: number;
}

export interface ConsumerCounts {
  readonly id: string;
  readonly node?: string;
  readonly messages: number;
  readonly bytes: number;
  readonly errors: number;
}

export interface RunError {
  /** ISO 8601 time. */
  readonly at: string;
  /** Who saw it, e.g. "producer-0" or "consumer-2@node7". */
  readonly source: string;
  readonly message: string;
}

export interface RunRecord {
  readonly version: typeof RUN_RECORD_VERSION;
  /** Names the files: letters, digits, '.', '_' and '-'. */
  readonly id: string;
  /** The run's description as given (rate profile, message size, producers, …). */
  readonly description: Readonly<Record<string, unknown>>;
  /** ISO 8601 times. */
  readonly startedAt: string;
  readonly endedAt: string;
  readonly producers: readonly ProducerCounts[];
  readonly consumers: readonly ConsumerCounts[];
  /** Messages produced but never processed, and messages processed more than once. */
  readonly lost: number;
  readonly duplicated: number;
  /** Producer-to-consumer latency; null when no message was processed. */
  readonly latency: LatencySummary | null;
  /** The merged histogram behind `latency`, for other percentiles later. */
  readonly latencyHistogram?: LatencyHistogramJSON;
  /** Counts per window, oldest first. */
  readonly rates: readonly RateWindow[];
  readonly errors: readonly RunError[];
}

/** Where writeRunRecord put a record. */
export interface RunRecordPaths {
  readonly recordPath: string;
  readonly csvPath: string;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const count = z.number().int().nonnegative();
const amount = z.number().nonnegative();
const isoTime = z.iso.datetime({ offset: true });

const latencySummarySchema = z.object({
  count,
  minMs: amount,
  meanMs: amount,
  p50Ms: amount,
  p95Ms: amount,
  p99Ms: amount,
  maxMs: amount
});

const rateWindowSchema = z.object({
  startMs: z.number(),
  durationMs: z.number().positive(),
  producedMessages: amount,
  producedBytes: amount,
  processedMessages: amount,
  processedBytes: amount
});

const runRecordSchema = z.object({
  version: z.literal(RUN_RECORD_VERSION),
  id: z.string().regex(ID_PATTERN, 'a name of letters, digits, ".", "_" and "-"'),
  description: z.record(z.string(), z.unknown()),
  startedAt: isoTime,
  endedAt: isoTime,
  producers: z.array(
    z.object({
      id: z.string(),
      node: z.string().optional(),
      messages: count,
      bytes: count,
      behind: count,
      errors: count
    })
  ),
  consumers: z.array(
    z.object({
      id: z.string(),
      node: z.string().optional(),
      messages: count,
      bytes: count,
      errors: count
    })
  ),
  lost: count,
  duplicated: count,
  latency: latencySummarySchema.nullable(),
  latencyHistogram: z
    .custom<LatencyHistogramJSON>()
    .superRefine((value, context) => {
      try {
        LatencyHistogram.fromJSON(value, 'latencyHistogram');
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
      }
    })
    .optional(),
  rates: z.array(rateWindowSchema),
  errors: z.array(z.object({ at: isoTime, source: z.string(), message: z.string() }))
}) satisfies z.ZodType<RunRecord>;

function problemsOf(input: unknown): string | undefined {
  const result = runRecordSchema.safeParse(input);
  if (result.success) return undefined;
  return problemsFromIssues(input, result.error.issues).map(formatProblem).join('; ');
}

const CSV_COLUMNS = [
  'window_start_ms',
  'seconds_since_start',
  'produced_messages',
  'produced_bytes',
  'processed_messages',
  'processed_bytes',
  'produced_messages_per_s',
  'processed_messages_per_s'
];

/** The rates of a record as CSV, one line per window. */
export function ratesCsv(record: RunRecord): string {
  const startMs = Date.parse(record.startedAt);
  const lines = [CSV_COLUMNS.join(',')];
  for (const window of record.rates) {
    const perSecond = ratePerSecond(window);
    lines.push(
      [
        window.startMs,
        (window.startMs - startMs) / 1000,
        window.producedMessages,
        window.producedBytes,
        window.processedMessages,
        window.processedBytes,
        perSecond.producedMessages,
        perSecond.processedMessages
      ].join(',')
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Writes `contents` to `path` through a temporary file in the same directory (a rename does not
 * cross file systems); the temporary file is removed when anything fails.
 */
async function writeAtomically(path: string, contents: string): Promise<void> {
  const suffix = `${process.pid}.${randomBytes(4).toString('hex')}`;
  const temporary = join(dirname(path), `.${basename(path)}.${suffix}.tmp`);
  try {
    const file = await open(temporary, 'wx', 0o644);
    try {
      await file.writeFile(contents, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * Writes `<directory>/<id>.csv`, then `<directory>/<id>.json` (the record itself, last, so that a
 * record never points at a missing time series), creating the directory if needed. Both texts
 * are made before either file is touched, so a record that cannot be serialised changes nothing.
 */
export async function writeRunRecord(
  directory: string,
  record: RunRecord
): Promise<RunRecordPaths> {
  const problems = problemsOf(record);
  if (problems !== undefined)
    throw new MiniAppInputError(`run record ${JSON.stringify(record.id)} is invalid: ${problems}`);
  const csv = ratesCsv(record);
  const json = `${JSON.stringify(record, null, 2)}\n`;
  await mkdir(directory, { recursive: true });
  const recordPath = join(directory, `${record.id}.json`);
  const csvPath = join(directory, `${record.id}.csv`);
  await writeAtomically(csvPath, csv);
  await writeAtomically(recordPath, json);
  return { recordPath, csvPath };
}

/** Reads a record written by writeRunRecord; a missing or corrupt file is a MiniAppInputError. */
export async function readRunRecord(path: string): Promise<RunRecord> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new MiniAppInputError(`no run record at ${path}: the file does not exist`);
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new MiniAppInputError(
      `run record ${path} is corrupt: not JSON (${(error as Error).message})`
    );
  }
  const version = (json as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version !== RUN_RECORD_VERSION)
    throw new MiniAppInputError(
      `run record ${path} has version = ${version}: expected version ${RUN_RECORD_VERSION}`
    );
  const problems = problemsOf(json);
  if (problems !== undefined)
    throw new MiniAppInputError(`run record ${path} is corrupt: ${problems}`);
  return json as RunRecord;
}
