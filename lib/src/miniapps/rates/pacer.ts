/**
 * Send times for one producer that follows a rate profile, alone or as one of N producers
 * sharing the profile's total rate.
 *
 * Scheduling is absolute: send k of the group is due where the integral of the rate from the
 * start reaches k, so late timers and rounding never add up to drift. Producer j of N takes the
 * sends k = j, j + N, j + 2N, …: each gets rate / N, offset by 1/N of its interval from the
 * previous producer, so their sends interleave.
 */
import { MiniAppInputError } from '../errors.js';
import { expectedCount, timeOfCount, type CountPoint, type RateProfile } from './profile.js';

/** Time for pacing; tests pass a fake one. */
export interface Clock {
  /** Milliseconds. Producers that share a rate must share the origin (see `systemClock`). */
  now(): number;
  /** Resolves true once now() ≥ untilMs, or false as soon as `signal` aborts. */
  wait(untilMs: number, signal?: AbortSignal): Promise<boolean>;
}

// setTimeout fires up to about a millisecond late; the last stretch is spun with setImmediate.
const SPIN_MS = 1;
const DEFAULT_MAX_BEHIND = 1000;

/** Epoch milliseconds with sub-millisecond resolution, monotonic within this process. */
function systemNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Resolves true at `untilMs` (on `systemClock`) or false as soon as `signal` aborts. A timer
 * covers all but the last ~1 ms, setImmediate turns the rest, so the wake-up is within a
 * fraction of a millisecond on an idle event loop.
 */
export function wait(untilMs: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise(resolve => {
    if (signal?.aborted) {
      resolve(false);
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    let immediate: ReturnType<typeof setImmediate> | undefined;
    const finish = (reached: boolean) => {
      signal?.removeEventListener('abort', onAbort);
      resolve(reached);
    };
    const onAbort = () => {
      clearTimeout(timer);
      clearImmediate(immediate);
      finish(false);
    };
    const check = () => {
      const remaining = untilMs - systemNow();
      if (remaining <= 0) finish(true);
      else if (remaining >= SPIN_MS + 1) timer = setTimeout(check, Math.floor(remaining - SPIN_MS));
      else immediate = setImmediate(check);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    check();
  });
}

/** The real clock: epoch milliseconds, so producers on several nodes can share a start time. */
export const systemClock: Clock = { now: systemNow, wait };

export interface PacerOptions {
  readonly profile: RateProfile;
  /** Producers sharing the profile's total rate (default 1). */
  readonly producers?: number;
  /** This producer's index, 0 … producers − 1 (default 0). */
  readonly index?: number;
  /**
   * When more sends than this are overdue, all but the latest are skipped and counted in
   * `behind` instead of being sent in a burst (default 1000; Infinity never skips).
   */
  readonly maxBehind?: number;
  /** Clock time (ms) of t = 0; producers sharing a rate must share it. Default: now. */
  readonly startMs?: number;
  readonly clock?: Clock;
}

export class Pacer {
  readonly startMs: number;
  private readonly profile: RateProfile;
  private readonly producers: number;
  private readonly index: number;
  private readonly maxBehind: number;
  private readonly clock: Clock;
  // This producer's next send number, and the last point computed on the group's count curve
  // (the numeric profiles search on from there).
  private slot = 0;
  private cursor: CountPoint = { t: 0, count: 0 };
  private skipped = 0;

  constructor(options: PacerOptions) {
    this.profile = options.profile;
    this.producers = options.producers ?? 1;
    this.index = options.index ?? 0;
    this.maxBehind = options.maxBehind ?? DEFAULT_MAX_BEHIND;
    this.clock = options.clock ?? systemClock;
    this.startMs = options.startMs ?? this.clock.now();
    if (!Number.isSafeInteger(this.producers) || this.producers < 1)
      throw new MiniAppInputError(
        `producers = ${this.producers}: expected a whole number of producers, at least 1`
      );
    if (!Number.isSafeInteger(this.index) || this.index < 0 || this.index >= this.producers)
      throw new MiniAppInputError(
        `index = ${this.index}: expected a whole number from 0 to ${this.producers - 1} (producers = ${this.producers})`
      );
    if (Number.isNaN(this.maxBehind) || this.maxBehind < 1)
      throw new MiniAppInputError(
        `maxBehind = ${this.maxBehind}: expected a number of messages, at least 1 (Infinity never skips)`
      );
    if (!Number.isFinite(this.startMs))
      throw new MiniAppInputError(`startMs = ${this.startMs}: expected a clock time in ms`);
  }

  /** Sends handed out so far by nextSendTime() (skipped ones not included). */
  get scheduled(): number {
    return this.slot - this.skipped;
  }

  /** Sends skipped because this producer fell more than `maxBehind` behind. */
  get behind(): number {
    return this.skipped;
  }

  /**
   * The clock time (ms) of this producer's next send, which it hereby takes. A time in the past
   * means the send is overdue: send at once. `unlimited` always answers now.
   */
  nextSendTime(): number {
    if (this.profile.kind === 'unlimited') {
      this.slot++;
      return this.clock.now();
    }
    let at = this.sendTimeOf(this.slot);
    if (Number.isFinite(this.maxBehind)) {
      const now = this.clock.now();
      if (at < now) {
        const latestDue = this.latestDueSlot(now);
        if (latestDue - this.slot + 1 > this.maxBehind) {
          this.skipped += latestDue - this.slot;
          this.slot = latestDue;
          at = this.sendTimeOf(this.slot);
        }
      }
    }
    this.slot++;
    return at;
  }

  /** Waits until the next send is due; false when `signal` aborted the wait. */
  async next(signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return false;
    const at = this.nextSendTime();
    if (this.profile.kind === 'unlimited') return true;
    return this.clock.wait(at, signal);
  }

  private sendTimeOf(slot: number): number {
    const count = slot * this.producers + this.index;
    const t = timeOfCount(this.profile, count, this.cursor);
    this.cursor = { t, count };
    return this.startMs + t * 1000;
  }

  /** This producer's last slot whose time has come at clock time `now`. */
  private latestDueSlot(now: number): number {
    const elapsed = (now - this.startMs) / 1000;
    const due = this.cursor.count + expectedCount(this.profile, this.cursor.t, elapsed);
    return Math.max(this.slot, Math.floor((due - this.index) / this.producers));
  }
}
