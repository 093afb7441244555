import type { KafkaLagView, LagSample } from '../protocol/index.js';
import type { LagSnapshot } from './kafka-lag.js';

export interface LagMonitorOptions {
  pilotId: string;
  topic: string;
  groupId: string;
  /** Time between the starts of two samples. */
  intervalMs: number;
  /** Samples kept for the time series. */
  historyLimit: number;
  /** Takes one sample; may fail (broker restarting, pilot gone). */
  sample: () => Promise<LagSnapshot>;
  /** Shows a new state of the view (the display handle's update). */
  publish: (view: KafkaLagView) => void;
  /** Asked before every sample; a reason stops monitoring (e.g. the pilot ended). */
  stopReason?: () => string | undefined;
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

function withoutError(view: KafkaLagView): KafkaLagView {
  const copy = { ...view };
  delete copy.error;
  return copy;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Samples a group's lag on a timer and publishes the whole view after every sample.
 * Failures never escape the timer: they go into the view's `error`, the last good numbers
 * stay, and sampling goes on. Samples never overlap: the next is scheduled after the last ends.
 */
export class LagMonitor {
  private current: KafkaLagView;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private finishing: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: LagMonitorOptions) {
    this.now = options.now ?? Date.now;
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
   * Stops sampling and publishes the final view (marked stopped, with the reason if any). A
   * sample in flight is not waited for (its broker may be gone); its result is dropped.
   */
  async stop(reason?: string): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.finish(reason);
  }

  private finish(reason: string | undefined): Promise<void> {
    this.finishing ??= (async () => {
      this.running = false;
      const problems = reason !== undefined ? [reason] : [];
      try {
        await this.options.onStop?.();
      } catch (error) {
        problems.push(`releasing the monitor failed: ${messageOf(error)}`);
      }
      this.current = withoutError({ ...this.current, stopped: true });
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
    const stopReason = this.options.stopReason?.();
    if (stopReason !== undefined) {
      await this.finish(stopReason);
      return;
    }
    const started = this.now();
    try {
      const snapshot = await this.options.sample();
      if (!this.running) return;
      const t = this.now();
      this.current = {
        ...withoutError(this.current),
        partitions: snapshot.partitions,
        totalLag: snapshot.totalLag,
        history: appendSample(
          this.current.history,
          { t, totalLag: snapshot.totalLag },
          this.options.historyLimit
        ),
        updatedAt: new Date(t).toISOString()
      };
    } catch (error) {
      if (!this.running) return;
      this.current = { ...this.current, error: messageOf(error) };
    }
    this.options.publish(this.current);
    if (this.running) {
      this.schedule(Math.max(0, this.options.intervalMs - (this.now() - started)));
    }
  }
}
