/**
 * What producer and consumer units publish on a run's metrics topic, once per report interval
 * and once more when they end. Counts are cumulative (a report that arrives twice or late does
 * no harm); latency and sequence numbers are what is new since the unit's previous report.
 */
import { z } from 'zod';
import type { LatencyHistogramJSON } from '../metrics/latency.js';
import type { ProcessorView } from '../masa/processors.js';

export const REPORT_VERSION = 1;

export interface WindowCount {
  /** Start of a 1 s window, epoch ms (a multiple of 1000). */
  startMs: number;
  messages: number;
  bytes: number;
}

/** Sequence numbers a consumer received for the first time, as half-open ranges. */
export interface SequenceRanges {
  runId: string;
  producerId: number;
  ranges: [number, number][];
}

export interface UnitReport {
  v: typeof REPORT_VERSION;
  runId: string;
  role: 'producer' | 'consumer';
  unit: string;
  /** Producers: the id in their messages' headers. */
  producerId?: number;
  node: string;
  pid: number;
  /** Epoch ms. */
  t: number;
  state: 'running' | 'ended' | 'failed';
  messages: number;
  bytes: number;
  /** Producers: sends skipped because they fell behind the rate. */
  behind: number;
  /** Consumers: messages received again (this consumer had seen them). */
  duplicates: number;
  errors: number;
  /** This unit's counts for each window that changed since its previous report. */
  windows: WindowCount[];
  latency?: LatencyHistogramJSON;
  sequences?: SequenceRanges[];
  newErrors: { at: string; message: string }[];
  view?: ProcessorView;
}

const count = z.number().int().nonnegative();

// Reports are checked loosely: the topic is open to any client of the pilot, and one foreign
// message must not stop a coordinator.
const reportSchema = z.object({
  v: z.literal(REPORT_VERSION),
  runId: z.string(),
  role: z.enum(['producer', 'consumer']),
  unit: z.string(),
  producerId: count.optional(),
  node: z.string(),
  pid: count,
  t: z.number(),
  state: z.enum(['running', 'ended', 'failed']),
  messages: count,
  bytes: count,
  behind: count,
  duplicates: count,
  errors: count,
  windows: z.array(z.object({ startMs: z.number(), messages: count, bytes: count })),
  latency: z
    .custom<LatencyHistogramJSON>(value => typeof value === 'object' && value !== null)
    .optional(),
  sequences: z
    .array(
      z.object({
        runId: z.string(),
        producerId: count,
        ranges: z.array(z.tuple([count, count]))
      })
    )
    .optional(),
  newErrors: z.array(z.object({ at: z.string(), message: z.string() })),
  view: z.custom<ProcessorView>(value => typeof value === 'object' && value !== null).optional()
});

/** A report from a metrics message, or undefined when the message is not one. */
export function parseReport(value: Buffer | null): UnitReport | undefined {
  if (value === null) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch {
    return undefined;
  }
  const result = reportSchema.safeParse(json);
  return result.success ? (result.data as UnitReport) : undefined;
}

/** Sorted, distinct numbers as half-open ranges: [3, 4, 5, 9] → [[3, 6], [9, 10]]. */
export function toRanges(sorted: readonly number[]): [number, number][] {
  const ranges: [number, number][] = [];
  for (const n of sorted) {
    const last = ranges[ranges.length - 1];
    if (last !== undefined && last[1] === n) last[1] = n + 1;
    else ranges.push([n, n + 1]);
  }
  return ranges;
}
