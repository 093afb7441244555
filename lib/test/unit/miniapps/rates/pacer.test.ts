import { describe, expect, it } from 'vitest';
import { MiniAppInputError } from '../../../../src/miniapps/errors.js';
import {
  Pacer,
  systemClock,
  wait,
  type Clock,
  type PacerOptions
} from '../../../../src/miniapps/rates/pacer.js';
import {
  expectedCount,
  parseRateProfile,
  type RateProfile
} from '../../../../src/miniapps/rates/profile.js';

/** A clock that jumps to whatever time is waited for; tests move it by hand to fall behind. */
class FakeClock implements Clock {
  waits = 0;
  constructor(public time = 0) {}
  now(): number {
    return this.time;
  }
  async wait(untilMs: number, signal?: AbortSignal): Promise<boolean> {
    this.waits++;
    if (signal?.aborted) return false;
    this.time = Math.max(this.time, untilMs);
    return true;
  }
}

/** Clock times of every send a paced producer makes before `endMs`. */
async function sendTimes(options: PacerOptions & { clock: FakeClock }, endMs: number) {
  const pacer = new Pacer(options);
  const times: number[] = [];
  for (;;) {
    const at = pacer.nextSendTime();
    if (at >= endMs) return times;
    await options.clock.wait(at);
    times.push(options.clock.now());
  }
}

function countsPerWindow(times: number[], windowMs: number, windows: number): number[] {
  const counts = new Array<number>(windows).fill(0);
  for (const time of times) counts[Math.floor(time / windowMs)]++;
  return counts;
}

/** Each 5 s window's count within ±1 % of the profile's integral over it. */
function expectWindowsFollow(profile: RateProfile, times: number[], seconds: number) {
  const counts = countsPerWindow(times, 5000, seconds / 5);
  counts.forEach((count, window) => {
    const expected = expectedCount(profile, window * 5, window * 5 + 5);
    expect(
      Math.abs(count - expected),
      `window ${window}: ${count} of ${expected}`
    ).toBeLessThanOrEqual(0.01 * expected);
  });
}

describe('Pacer with a fake clock', () => {
  it('200 msg/s for 30 s: 6000 sends, each at i · 5 ms', async () => {
    const clock = new FakeClock(1000);
    const profile = parseRateProfile({ kind: 'fixed', rate: 200 });
    const times = await sendTimes({ profile, clock, startMs: 1000 }, 31_000);
    expect(times).toHaveLength(6000);
    times.forEach((time, i) => expect(time).toBeCloseTo(1000 + i * 5, 9));
  });

  it('follows a ramp within ±1 % per 5 s window', async () => {
    const clock = new FakeClock();
    const profile = parseRateProfile({ kind: 'ramp', from: 50, to: 1000, over: 40 });
    const times = await sendTimes({ profile, clock, startMs: 0 }, 60_000);
    expectWindowsFollow(profile, times, 60);
    expect(times.length).toBe(Math.ceil(expectedCount(profile, 0, 60)));
  });

  it.each([
    {
      kind: 'step',
      steps: [
        { at: 0, rate: 100 },
        { at: 12.5, rate: 700 },
        { at: 30, rate: 60 }
      ]
    },
    { kind: 'sine', mean: 400, amplitude: 300, period: 20 },
    { kind: 'burst', base: 100, burst: 2000, length: 5, every: 15 },
    { kind: 'function', source: 't => 300 + 200 * Math.sin(t / 3)' }
  ])('follows a $kind profile within ±1 % per 5 s window', async input => {
    const clock = new FakeClock();
    const profile = parseRateProfile(input);
    const times = await sendTimes({ profile, clock, startMs: 0 }, 45_000);
    expectWindowsFollow(profile, times, 45);
  });

  it('keeps absolute times when waits come back late', async () => {
    const clock = new FakeClock();
    const pacer = new Pacer({ profile: parseRateProfile(100), clock, startMs: 0 });
    const times: number[] = [];
    for (let i = 0; i < 1000; i++) {
      await pacer.next();
      times.push(clock.now());
      clock.time += 3; // every wake-up 3 ms late, 30 % of the interval
    }
    // Lateness never adds up: send i is still due at 10·i ms.
    times.forEach((time, i) => expect(time).toBeCloseTo(i * 10, 9));
    expect(pacer.behind).toBe(0);
  });

  it('catches up in a burst while at most maxBehind sends are overdue', async () => {
    const clock = new FakeClock();
    const pacer = new Pacer({ profile: parseRateProfile(100), clock, startMs: 0, maxBehind: 10 });
    for (let i = 0; i < 10; i++) await pacer.next();
    expect(clock.now()).toBeCloseTo(90, 9);
    clock.time = 190; // sends 10 … 19 overdue: exactly 10
    const burst = Array.from({ length: 10 }, () => pacer.nextSendTime());
    burst.forEach((at, i) => expect(at).toBeCloseTo(100 + i * 10, 9));
    expect(pacer.nextSendTime()).toBeCloseTo(200, 9);
    expect(pacer.behind).toBe(0);
    expect(pacer.scheduled).toBe(21);
  });

  it('skips ahead and counts the skipped sends as behind beyond maxBehind', async () => {
    const clock = new FakeClock();
    const pacer = new Pacer({ profile: parseRateProfile(100), clock, startMs: 0, maxBehind: 10 });
    for (let i = 0; i < 10; i++) await pacer.next();
    clock.time = 1090; // sends 10 … 109 overdue: 100
    expect(pacer.nextSendTime()).toBeCloseTo(1090, 9);
    expect(pacer.behind).toBe(99);
    expect(pacer.scheduled).toBe(11);
    expect(pacer.nextSendTime()).toBeCloseTo(1100, 9);
    expect(pacer.behind).toBe(99);
  });

  it('skips on a numeric profile as well', async () => {
    const clock = new FakeClock();
    const profile = parseRateProfile({ kind: 'function', source: 't => 100' });
    const pacer = new Pacer({ profile, clock, startMs: 0, maxBehind: 5 });
    await pacer.next();
    clock.time = 2000.5;
    expect(pacer.nextSendTime()).toBeCloseTo(2000, 6);
    expect(pacer.behind).toBe(199);
    expect(pacer.nextSendTime()).toBeCloseTo(2010, 6);
  });

  it('never skips with maxBehind Infinity', () => {
    const clock = new FakeClock();
    const pacer = new Pacer({
      profile: parseRateProfile(100),
      clock,
      startMs: 0,
      maxBehind: Infinity
    });
    clock.time = 10_000;
    for (let i = 0; i < 1000; i++) expect(pacer.nextSendTime()).toBeCloseTo(i * 10, 9);
    expect(pacer.behind).toBe(0);
  });

  it('N producers share the rate and interleave', async () => {
    const profile = parseRateProfile(300);
    const perProducer = await Promise.all(
      [0, 1, 2].map(index =>
        sendTimes({ profile, clock: new FakeClock(), startMs: 0, producers: 3, index }, 10_000)
      )
    );
    for (const [index, times] of perProducer.entries()) {
      expect(times).toHaveLength(1000); // 100 msg/s each
      times.forEach((time, i) => expect(time).toBeCloseTo(((i * 3 + index) * 1000) / 300, 9));
    }
    const merged = perProducer.flat().sort((a, b) => a - b);
    expect(merged).toHaveLength(3000);
    merged.forEach((time, k) => expect(time).toBeCloseTo((k * 1000) / 300, 9));
  });

  it('N producers on a ramp together follow it', async () => {
    const profile = parseRateProfile({ kind: 'ramp', from: 30, to: 900, over: 30 });
    const perProducer = await Promise.all(
      [0, 1, 2, 3].map(index =>
        sendTimes({ profile, clock: new FakeClock(), startMs: 0, producers: 4, index }, 40_000)
      )
    );
    expectWindowsFollow(profile, perProducer.flat(), 40);
    // Each producer takes every fourth send of the group: shares differ by at most one.
    const lengths = perProducer.map(times => times.length);
    expect(Math.max(...lengths) - Math.min(...lengths)).toBeLessThanOrEqual(1);
  });

  it('unlimited never waits', async () => {
    const clock = new FakeClock(500);
    const pacer = new Pacer({ profile: parseRateProfile('unlimited'), clock });
    for (let i = 0; i < 1000; i++) expect(await pacer.next()).toBe(true);
    expect(clock.waits).toBe(0);
    expect(clock.now()).toBe(500);
    expect(pacer.scheduled).toBe(1000);
  });

  it('an aborted signal stops next() at once', async () => {
    const clock = new FakeClock();
    const pacer = new Pacer({ profile: parseRateProfile(1), clock });
    const controller = new AbortController();
    controller.abort();
    expect(await pacer.next(controller.signal)).toBe(false);
    expect(clock.waits).toBe(0);
  });

  it.each([
    [{ producers: 0 }, 'producers = 0: expected a whole number of producers, at least 1'],
    [{ producers: 3, index: 3 }, 'index = 3: expected a whole number from 0 to 2 (producers = 3)'],
    [{ maxBehind: 0 }, 'maxBehind = 0: expected a number of messages, at least 1'],
    [{ startMs: NaN }, 'startMs = NaN: expected a clock time in ms']
  ])('rejects %j', (options, message) => {
    const create = () =>
      new Pacer({ profile: parseRateProfile(1), clock: new FakeClock(), ...options });
    expect(create).toThrow(MiniAppInputError);
    expect(create).toThrow(message);
  });
});

describe('wait on the real clock', () => {
  it('an abort ends a long wait promptly', async () => {
    const controller = new AbortController();
    const started = performance.now();
    const waiting = wait(systemClock.now() + 60_000, controller.signal);
    setTimeout(() => controller.abort(), 20);
    expect(await waiting).toBe(false);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('resolves at once for a time in the past', async () => {
    expect(await wait(systemClock.now() - 5)).toBe(true);
  });

  it('200 msg/s holds within ±10 % over 1.5 s, and no send is early', async () => {
    const pacer = new Pacer({ profile: parseRateProfile(200) });
    const lateness: number[] = [];
    for (let i = 0; i < 300; i++) {
      const at = pacer.nextSendTime();
      expect(await systemClock.wait(at)).toBe(true);
      lateness.push(systemClock.now() - at);
    }
    const elapsed = systemClock.now() - pacer.startMs;
    // 300 sends take 299 intervals of 5 ms.
    expect(elapsed).toBeGreaterThanOrEqual(1495);
    expect(elapsed).toBeLessThanOrEqual(1495 * 1.1);
    expect(Math.min(...lateness)).toBeGreaterThanOrEqual(0);
  });
});
