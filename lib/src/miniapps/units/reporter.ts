import type { Producer } from 'kafkajs';
import { LatencyHistogram } from '../metrics/latency.js';
import { SequenceTracker } from '../messages/sequence-tracker.js';
import type { ProcessorView } from '../masa/processors.js';
import { REPORT_VERSION, toRanges, type UnitReport, type WindowCount } from '../runs/report.js';
import type { UnitSpec } from '../runs/spec.js';

const WINDOW_MS = 1000;
/** Errors one report carries at most; the count still counts them all. */
const MAX_ERRORS_PER_REPORT = 10;

/**
 * A unit's counters and its reports on the run's metrics topic. Reports go out on a timer and
 * once more at the end (`finish`), each one sent before the next is built.
 */
export class UnitReporter {
  private messages = 0;
  private bytes = 0;
  private errors = 0;
  private duplicates = 0;
  behind = 0;
  private readonly windows = new Map<number, WindowCount>();
  private readonly changedWindows = new Set<number>();
  private latency = new LatencyHistogram();
  private readonly tracker = new SequenceTracker();
  private fresh = new Map<string, { runId: string; producerId: number; sequences: number[] }>();
  private newErrors: { at: string; message: string }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> = Promise.resolve();
  private ended = false;

  constructor(
    private readonly spec: UnitSpec,
    private readonly producer: Producer,
    private readonly node: string,
    private readonly takeView?: () => ProcessorView | undefined
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.send('running'), this.spec.reportIntervalMs);
  }

  /** One message sent or processed at `atMs` (epoch ms). */
  count(bytes: number, atMs: number): void {
    this.messages++;
    this.bytes += bytes;
    const startMs = Math.floor(atMs / WINDOW_MS) * WINDOW_MS;
    let window = this.windows.get(startMs);
    if (window === undefined) {
      window = { startMs, messages: 0, bytes: 0 };
      this.windows.set(startMs, window);
    }
    window.messages++;
    window.bytes += bytes;
    this.changedWindows.add(startMs);
  }

  latencyMs(ms: number): void {
    this.latency.record(ms);
  }

  /** Records a received sequence number; false when this unit had received it before. */
  received(runId: string, producerId: number, sequence: number): boolean {
    if (this.tracker.record(runId, producerId, sequence) === 'duplicate') {
      this.duplicates++;
      return false;
    }
    const key = `${runId}/${producerId}`;
    let entry = this.fresh.get(key);
    if (entry === undefined) {
      entry = { runId, producerId, sequences: [] };
      this.fresh.set(key, entry);
    }
    entry.sequences.push(sequence);
    return true;
  }

  error(error: unknown): void {
    this.errors++;
    if (this.newErrors.length >= MAX_ERRORS_PER_REPORT) return;
    const message =
      error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
    this.newErrors.push({ at: new Date().toISOString(), message });
  }

  /** Sends the final report ('ended' or 'failed') and stops the timer; later calls do nothing. */
  async finish(state: 'ended' | 'failed'): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.timer);
    await this.send(state, true);
  }

  private send(state: UnitReport['state'], final = false): Promise<void> {
    if (this.ended && !final) return this.sending;
    this.sending = this.sending.then(async () => {
      const report = this.build(state);
      try {
        await this.producer.send({
          topic: this.spec.metricsTopic,
          messages: [{ key: this.spec.runId, value: JSON.stringify(report) }]
        });
      } catch (error) {
        // The report's deltas are lost with it; the counts are cumulative and the next one has
        // them. Say so on stderr, which the unit's record keeps.
        console.error(`${this.spec.unit}: cannot publish a report: ${(error as Error).message}`);
        if (final) throw error;
      }
    });
    return this.sending;
  }

  private build(state: UnitReport['state']): UnitReport {
    const windows = [...this.changedWindows].map(start => ({ ...this.windows.get(start)! }));
    this.changedWindows.clear();
    // Only the newest window can still change; older ones are dropped once reported.
    const newest = Math.max(...this.windows.keys());
    for (const start of this.windows.keys()) if (start < newest) this.windows.delete(start);
    const sequences = [...this.fresh.values()].map(({ runId, producerId, sequences }) => ({
      runId,
      producerId,
      ranges: toRanges(sequences.sort((a, b) => a - b))
    }));
    this.fresh = new Map();
    const latency = this.latency.count > 0 ? this.latency.toJSON() : undefined;
    this.latency = new LatencyHistogram();
    const newErrors = this.newErrors;
    this.newErrors = [];
    const view = this.takeView?.();
    const spec = this.spec;
    return {
      v: REPORT_VERSION,
      runId: spec.runId,
      role: spec.role,
      unit: spec.unit,
      ...(spec.role === 'producer' ? { producerId: spec.producerId } : {}),
      node: this.node,
      pid: process.pid,
      t: Date.now(),
      state,
      messages: this.messages,
      bytes: this.bytes,
      behind: this.behind,
      duplicates: this.duplicates,
      errors: this.errors,
      windows,
      ...(latency !== undefined ? { latency } : {}),
      ...(sequences.length > 0 ? { sequences } : {}),
      newErrors,
      ...(view !== undefined ? { view } : {})
    };
  }
}
