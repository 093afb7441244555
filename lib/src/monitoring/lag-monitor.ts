import type { KafkaLagView, LagSample, PilotState } from '../protocol/index.js';
import type { KafkaLagSample } from './kafka-lag.js';

/** The least time between samples while something is wrong (no topic, failing samples). */
export const SLOW_INTERVAL_MS = 5000;

/** Why monitoring stopped by itself: the pilot ended, or it cannot go on (e.g. pilot gone). */
export type LagMonitorEnd = { pilotEnded: PilotState } | { error: string };

export interface LagMonitorOptions {
  pilotId: string;
  topic: string;
  groupId: string;
  /** Time between the starts of two samples. */
  intervalMs: number;
  /**
   * Time between the starts of two samples while the topic is missing or sampling fails
   * (default: the larger of intervalMs and SLOW_INTERVAL_MS): no tight loop against a broker
   * that cannot answer, while what is being waited for still shows up.
   */
  slowIntervalMs?: number;
  /** Samples kept for the time series. */
  historyLimit: number;
  /** Takes one sample; may fail (broker restarting, pilot not Running yet). */
  sample: () => Promise<KafkaLagSample>;
  /** Shows a new state of the view (the display handle's update). */
  publish: (view: KafkaLagView) => void;
  /** Asked before every sample: a pilot that has ended stops monitoring. */
  pilotEnded?: () => PilotState | undefined;
  /** Releases what sampling held (clients, listeners); runs once, before the final view. */
  onStop?: () => Promise<void> | void;
  now?: () => number;
}

/** Keeps the newest `limit` samples. */
export function appendSample(
  history: readonly LagSample[],
  sample: LagSample,
  limit: number
): LagSample[] {
  const next = [...history, sample];
  return next.length > limit ? next.slice(next.length - limit) : next;
}

function without<K extends keyof KafkaLagView>(
  view: KafkaLagView,
  ...keys: K[]
): Omit<KafkaLagView, K> {
  const copy = { ...view };
  for (const key of keys) delete copy[key];
  return copy;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Samples a group's lag on a timer and publishes the whole view after every sample.
 * Failures never escape the timer: they go into the view's `error`, the last good numbers
 * stay, and sampling goes on, more slowly. Samples never overlap: the next is scheduled after
 * the last ends.
 */
export class LagMonitor {
  private current: KafkaLagView;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private finishing: Promise<void> | undefined;
  private readonly now: () => number;
  private readonly slowIntervalMs: number;

  constructor(private readonly options: LagMonitorOptions) {
    this.now = options.now ?? Date.now;
    this.slowIntervalMs = options.slowIntervalMs ?? Math.max(options.intervalMs, SLOW_INTERVAL_MS);
    this.current = {
      pilotId: options.pilotId,
      topic: options.topic,
      groupId: options.groupId,
      partitions: [],
      totalLag: 0,
      history: [],
      updatedAt: new Date(this.now()).toISOString()
    };
  }

  /** The latest published view. */
  get view(): KafkaLagView {
    return this.current;
  }

  get stopped(): boolean {
    return this.current.stopped === true;
  }

  /** Takes the first sample at once, then one every intervalMs. */
  start(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    this.schedule(0);
  }

  /**
   * Stops sampling and publishes the final view (marked stopped, with why if it stopped by
   * itself). A sample in flight is not waited for (its broker may be gone); its result is
   * dropped.
   */
  async stop(end?: LagMonitorEnd): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.finish(end);
  }

  private finish(end: LagMonitorEnd | undefined): Promise<void> {
    this.finishing ??= (async () => {
      this.running = false;
      const problems = end !== undefined && 'error' in end ? [end.error] : [];
      try {
        await this.options.onStop?.();
      } catch (error) {
        problems.push(`releasing the monitor failed: ${messageOf(error)}`);
      }
      this.current = { ...without(this.current, 'error'), stopped: true };
      if (end !== undefined && 'pilotEnded' in end) this.current.pilotEnded = end.pilotEnded;
      if (problems.length > 0) this.current.error = problems.join('; ');
      this.options.publish(this.current);
    })();
    return this.finishing;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.tick();
    }, delayMs);
  }

  private async tick(): Promise<void> {
    const pilotEnded = this.options.pilotEnded?.();
    if (pilotEnded !== undefined) {
      await this.finish({ pilotEnded });
      return;
    }
    const started = this.now();
    let healthy = false;
    try {
      const sample = await this.options.sample();
      if (!this.running) return;
      this.current = this.withSample(sample);
      healthy = sample.topicExists;
    } catch (error) {
      if (!this.running) return;
      this.current = { ...this.current, error: messageOf(error) };
    }
    this.options.publish(this.current);
    if (this.running) {
      const interval = healthy ? this.options.intervalMs : this.slowIntervalMs;
      this.schedule(Math.max(0, interval - (this.now() - started)));
    }
  }

  private withSample(sample: KafkaLagSample): KafkaLagView {
    const t = this.now();
    const updatedAt = new Date(t).toISOString();
    const rest = without(this.current, 'error', 'group');
    // No topic, no partitions and no lag; the history stays (the topic may have been deleted).
    if (!sample.topicExists) {
      return { ...rest, topicExists: false, partitions: [], totalLag: 0, updatedAt };
    }
    return {
      ...rest,
      topicExists: true,
      group: sample.group,
      partitions: sample.partitions,
      totalLag: sample.totalLag,
      history: appendSample(
        this.current.history,
        { t, totalLag: sample.totalLag },
        this.options.historyLimit
      ),
      updatedAt
    };
  }
}
