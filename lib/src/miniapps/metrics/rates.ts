/**
 * Produced and processed messages and bytes per time window (1 s by default) since the start of
 * a run, in a ring of the newest windows so that a long run keeps bounded memory. Totals cover
 * the whole run, including windows dropped from the ring.
 */
import { MiniAppInputError } from '../errors.js';

export interface RateCounts {
  readonly producedMessages: number;
  readonly producedBytes: number;
  readonly processedMessages: number;
  readonly processedBytes: number;
}

/** Counts of one window [startMs, startMs + durationMs). */
export interface RateWindow extends RateCounts {
  readonly startMs: number;
  readonly durationMs: number;
}

/** Counts per second. */
export type RatePerSecond = RateCounts;

export interface RateSeriesOptions {
  /** Clock time (ms) where window 0 starts: the start of the run. */
  readonly startMs: number;
  readonly windowMs?: number;
  /** Windows kept (default 3600: an hour of 1 s windows). */
  readonly maxWindows?: number;
}

export interface RateSeriesJSON {
  readonly startMs: number;
  readonly windowMs: number;
  readonly maxWindows: number;
  readonly totals: RateCounts;
  readonly outside: number;
  readonly windows: readonly RateWindow[];
}

const FIELDS = [
  'producedMessages',
  'producedBytes',
  'processedMessages',
  'processedBytes'
] as const;
type Field = (typeof FIELDS)[number];

const zeroCounts = (): Record<Field, number> => ({
  producedMessages: 0,
  producedBytes: 0,
  processedMessages: 0,
  processedBytes: 0
});

/** A window's counts divided by its length in seconds. */
export function ratePerSecond(window: RateWindow): RatePerSecond {
  const seconds = window.durationMs / 1000;
  return {
    producedMessages: window.producedMessages / seconds,
    producedBytes: window.producedBytes / seconds,
    processedMessages: window.processedMessages / seconds,
    processedBytes: window.processedBytes / seconds
  };
}

/** A value as an error shows it: numbers as written (NaN, Infinity), the rest as JSON. */
function show(value: unknown): string {
  return typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
}

function positiveNumber(key: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new MiniAppInputError(`${key} = ${show(value)}: expected a positive number`);
  return value;
}

export class RateSeries {
  readonly startMs: number;
  readonly windowMs: number;
  readonly maxWindows: number;
  // FIELDS.length numbers per window; window w lives at slot w % maxWindows.
  private readonly ring: Float64Array;
  private newest = -1;
  private readonly sums = zeroCounts();
  private outsideEvents = 0;

  constructor(options: RateSeriesOptions) {
    if (typeof options.startMs !== 'number' || !Number.isFinite(options.startMs))
      throw new MiniAppInputError(
        `startMs = ${show(options.startMs)}: expected a clock time in ms`
      );
    this.startMs = options.startMs;
    this.windowMs = positiveNumber('windowMs', options.windowMs ?? 1000);
    const maxWindows = options.maxWindows ?? 3600;
    if (!Number.isSafeInteger(maxWindows) || maxWindows < 1)
      throw new MiniAppInputError(
        `maxWindows = ${show(maxWindows)}: expected a whole number of windows, at least 1`
      );
    this.maxWindows = maxWindows;
    this.ring = new Float64Array(maxWindows * FIELDS.length);
  }

  /** Messages and bytes counted for the whole run. */
  totals(): RateCounts {
    return { ...this.sums };
  }

  /**
   * Messages (produced and processed) that fell before the start or into a window already
   * dropped from the ring: they count in the totals only.
   */
  get outside(): number {
    return this.outsideEvents;
  }

  addProduced(atMs: number, messages = 1, bytes = 0): void {
    this.add(atMs, { producedMessages: messages, producedBytes: bytes });
  }

  addProcessed(atMs: number, messages = 1, bytes = 0): void {
    this.add(atMs, { processedMessages: messages, processedBytes: bytes });
  }

  /** The kept windows, oldest first, from the oldest kept to the newest with any count. */
  windows(): RateWindow[] {
    const result: RateWindow[] = [];
    for (let window = this.oldestKept(); window <= this.newest; window++)
      result.push(this.windowAt(window));
    return result;
  }

  /**
   * Rates over the last `seconds` before `nowMs` (at most since the start, at most over the
   * kept windows), rounded out to whole windows at the old end.
   */
  rateOverLast(seconds: number, nowMs: number): RatePerSecond {
    positiveNumber('seconds', seconds);
    const nowWindow = Math.floor((nowMs - this.startMs) / this.windowMs);
    const fromMs = Math.max(this.startMs, nowMs - seconds * 1000);
    const first = Math.max(this.oldestKept(), Math.floor((fromMs - this.startMs) / this.windowMs));
    const spanSeconds = (nowMs - (this.startMs + first * this.windowMs)) / 1000;
    const sums = zeroCounts();
    for (let window = first; window <= Math.min(nowWindow, this.newest); window++) {
      const counts = this.windowAt(window);
      for (const field of FIELDS) sums[field] += counts[field];
    }
    if (!(spanSeconds > 0)) return zeroCounts();
    for (const field of FIELDS) sums[field] /= spanSeconds;
    return sums;
  }

  /** Adds another series of the same run (same start and window length), e.g. another node's. */
  merge(other: RateSeries | RateSeriesJSON): this {
    if (other.startMs !== this.startMs || other.windowMs !== this.windowMs)
      throw new MiniAppInputError(
        `rate series starting at ${other.startMs} ms with ${other.windowMs} ms windows: expected the start ${this.startMs} ms and ${this.windowMs} ms windows of this series`
      );
    const windows = other instanceof RateSeries ? other.windows() : other.windows;
    const totals = other instanceof RateSeries ? other.totals() : other.totals;
    for (const window of windows) {
      const index = Math.round((window.startMs - this.startMs) / this.windowMs);
      if (!this.addToWindow(index, window))
        this.outsideEvents += window.producedMessages + window.processedMessages;
    }
    for (const field of FIELDS) this.sums[field] += totals[field];
    this.outsideEvents += other.outside;
    return this;
  }

  toJSON(): RateSeriesJSON {
    return {
      startMs: this.startMs,
      windowMs: this.windowMs,
      maxWindows: this.maxWindows,
      totals: this.totals(),
      outside: this.outsideEvents,
      windows: this.windows()
    };
  }

  /** A series from `toJSON()` output, e.g. sent by another node; `key` names it in errors. */
  static fromJSON(input: RateSeriesJSON, key = 'rates'): RateSeries {
    const series = new RateSeries(input);
    const counted = (name: string, value: unknown) => {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
        throw new MiniAppInputError(`${name} = ${show(value)}: expected a count, at least 0`);
    };
    if (!Array.isArray(input.windows))
      throw new MiniAppInputError(
        `${key}.windows = ${show(input.windows)}: expected a list of windows`
      );
    input.windows.forEach((window, index) => {
      for (const field of FIELDS) counted(`${key}.windows[${index}].${field}`, window?.[field]);
      if (!Number.isFinite(window.startMs))
        throw new MiniAppInputError(
          `${key}.windows[${index}].startMs = ${show(window.startMs)}: expected a clock time in ms`
        );
    });
    for (const field of FIELDS) counted(`${key}.totals.${field}`, input.totals?.[field]);
    counted(`${key}.outside`, input.outside);
    return series.merge(input);
  }

  private add(atMs: number, counts: Partial<Record<Field, number>>): void {
    for (const [field, value] of Object.entries(counts)) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
        throw new MiniAppInputError(`${field} = ${value}: expected a count, at least 0`);
      this.sums[field as Field] += value;
    }
    if (!Number.isFinite(atMs))
      throw new MiniAppInputError(`atMs = ${atMs}: expected a clock time in ms`);
    const index = Math.floor((atMs - this.startMs) / this.windowMs);
    if (!this.addToWindow(index, counts))
      this.outsideEvents += (counts.producedMessages ?? 0) + (counts.processedMessages ?? 0);
  }

  /** False when window `index` is before the start or already dropped. */
  private addToWindow(index: number, counts: Partial<Record<Field, number>>): boolean {
    if (index < 0 || index < this.oldestKept()) return false;
    // Windows skipped over are zero; a slot reused for a newer window starts from zero.
    for (
      let window = Math.max(this.newest + 1, index - this.maxWindows + 1);
      window <= index;
      window++
    )
      this.ring.fill(0, this.slotOf(window), this.slotOf(window) + FIELDS.length);
    this.newest = Math.max(this.newest, index);
    const slot = this.slotOf(index);
    FIELDS.forEach((field, offset) => (this.ring[slot + offset] += counts[field] ?? 0));
    return true;
  }

  private oldestKept(): number {
    return Math.max(0, this.newest - this.maxWindows + 1);
  }

  private slotOf(window: number): number {
    return (window % this.maxWindows) * FIELDS.length;
  }

  private windowAt(window: number): RateWindow {
    const slot = this.slotOf(window);
    return {
      startMs: this.startMs + window * this.windowMs,
      durationMs: this.windowMs,
      producedMessages: this.ring[slot],
      producedBytes: this.ring[slot + 1],
      processedMessages: this.ring[slot + 2],
      processedBytes: this.ring[slot + 3]
    };
  }
}
