import { describe, expect, it } from 'vitest';
import { MiniAppInputError } from '../../../../src/miniapps/errors.js';
import {
  expectedCount,
  parseRateProfile,
  rateAt,
  timeOfCount,
  type RateProfile
} from '../../../../src/miniapps/rates/profile.js';

const parse = (input: unknown) => parseRateProfile(input);

/** The error parseRateProfile raises for `input`, checked to be a MiniAppInputError. */
function parseError(input: unknown): string {
  try {
    parseRateProfile(input);
  } catch (error) {
    expect(error).toBeInstanceOf(MiniAppInputError);
    return (error as Error).message;
  }
  throw new Error(`parseRateProfile accepted ${JSON.stringify(input)}`);
}

/** Midpoint rule with a million steps: an independent check of the closed forms. */
function integrate(profile: RateProfile, from: number, to: number, steps = 1_000_000): number {
  const h = (to - from) / steps;
  let sum = 0;
  for (let i = 0; i < steps; i++) sum += rateAt(profile, from + (i + 0.5) * h);
  return sum * h;
}

describe('fixed and bytes', () => {
  it('fixed: a constant rate', () => {
    const profile = parse({ kind: 'fixed', rate: 200 });
    expect(rateAt(profile, 0)).toBe(200);
    expect(rateAt(profile, 1234.5)).toBe(200);
    expect(expectedCount(profile, 0, 30)).toBe(6000);
    expect(expectedCount(profile, 10, 10.5)).toBe(100);
    expect(timeOfCount(profile, 6000)).toBe(30);
  });

  it('a number is a fixed rate, "unlimited" the unlimited profile', () => {
    expect(parse(50)).toEqual({ kind: 'fixed', rate: 50 });
    expect(parse('unlimited')).toEqual({ kind: 'unlimited' });
  });

  it('bytes: bytes per second over the message size', () => {
    const profile = parse({ kind: 'bytes', bytesPerSecond: 1_000_000, messageBytes: 4000 });
    expect(rateAt(profile, 3)).toBe(250);
    expect(expectedCount(profile, 0, 4)).toBe(1000);
    expect(timeOfCount(profile, 1000)).toBe(4);
  });
});

describe('unlimited', () => {
  it('is infinitely fast: everything is due at 0', () => {
    const profile = parse({ kind: 'unlimited' });
    expect(rateAt(profile, 5)).toBe(Infinity);
    expect(expectedCount(profile, 0, 1)).toBe(Infinity);
    expect(expectedCount(profile, 1, 1)).toBe(0);
    expect(timeOfCount(profile, 1e9)).toBe(0);
  });
});

describe('step', () => {
  const profile = parse({
    kind: 'step',
    steps: [
      { at: 0, rate: 100 },
      { at: 10, rate: 200 },
      { at: 20, rate: 50 }
    ]
  });

  it('holds each rate until the next step, the last for ever', () => {
    expect(rateAt(profile, 0)).toBe(100);
    expect(rateAt(profile, 9.999)).toBe(100);
    expect(rateAt(profile, 10)).toBe(200);
    expect(rateAt(profile, 19.5)).toBe(200);
    expect(rateAt(profile, 500)).toBe(50);
  });

  it('counts piece by piece', () => {
    expect(expectedCount(profile, 0, 30)).toBe(1000 + 2000 + 500);
    expect(expectedCount(profile, 5, 15)).toBe(500 + 1000);
    expect(expectedCount(profile, 12, 18)).toBe(1200);
    expect(timeOfCount(profile, 1500)).toBe(12.5);
    expect(timeOfCount(profile, 3250)).toBe(25);
    expect(timeOfCount(profile, 1000)).toBe(10);
  });
});

describe('ramp', () => {
  it('rises linearly, then holds', () => {
    const profile = parse({ kind: 'ramp', from: 100, to: 300, over: 10 });
    expect(rateAt(profile, 0)).toBe(100);
    expect(rateAt(profile, 5)).toBe(200);
    expect(rateAt(profile, 10)).toBe(300);
    expect(rateAt(profile, 99)).toBe(300);
    expect(expectedCount(profile, 0, 5)).toBe(750);
    expect(expectedCount(profile, 0, 10)).toBe(2000);
    expect(expectedCount(profile, 0, 20)).toBe(5000);
    expect(expectedCount(profile, 5, 15)).toBe(1250 + 1500);
    expect(timeOfCount(profile, 750)).toBeCloseTo(5, 12);
    expect(timeOfCount(profile, 5000)).toBe(20);
  });

  it('falls as well', () => {
    const profile = parse({ kind: 'ramp', from: 300, to: 100, over: 10 });
    expect(rateAt(profile, 5)).toBe(200);
    expect(expectedCount(profile, 0, 5)).toBe(1250);
    expect(expectedCount(profile, 0, 10)).toBe(2000);
    expect(timeOfCount(profile, 1250)).toBeCloseTo(5, 12);
    expect(timeOfCount(profile, 2100)).toBeCloseTo(11, 12);
  });
});

describe('sine', () => {
  it('swings around the mean', () => {
    const profile = parse({ kind: 'sine', mean: 100, amplitude: 50, period: 20 });
    expect(profile).toEqual({ kind: 'sine', mean: 100, amplitude: 50, period: 20, floor: 1 });
    expect(rateAt(profile, 0)).toBe(100);
    expect(rateAt(profile, 5)).toBe(150);
    expect(rateAt(profile, 15)).toBeCloseTo(50, 12);
    expect(expectedCount(profile, 0, 20)).toBeCloseTo(2000, 9);
    expect(expectedCount(profile, 0, 200)).toBeCloseTo(20_000, 9);
    // ∫ 100 + 50 sin(πt/10) from 0 to 5 = 500 + 50 · 10/π.
    expect(expectedCount(profile, 0, 5)).toBeCloseTo(500 + 500 / Math.PI, 9);
    expect(timeOfCount(profile, 500 + 500 / Math.PI)).toBeCloseTo(5, 9);
  });

  it('never goes below the floor', () => {
    const profile = parse({ kind: 'sine', mean: 100, amplitude: 200, period: 20, floor: 10 });
    expect(rateAt(profile, 15)).toBe(10);
    expect(rateAt(profile, 5)).toBe(300);
    for (const [from, to] of [
      [0, 20],
      [0, 13],
      [12, 17],
      [3, 47.5]
    ])
      expect(expectedCount(profile, from, to)).toBeCloseTo(integrate(profile, from, to), 5);
    const count = expectedCount(profile, 0, 16.25);
    expect(timeOfCount(profile, count)).toBeCloseTo(16.25, 9);
    expect(
      timeOfCount(profile, count, { t: 14, count: expectedCount(profile, 0, 14) })
    ).toBeCloseTo(16.25, 9);
  });
});

describe('burst', () => {
  const profile = parse({ kind: 'burst', base: 100, burst: 1000, length: 2, every: 10 });

  it('starts every period with a burst', () => {
    expect(rateAt(profile, 0)).toBe(1000);
    expect(rateAt(profile, 1.99)).toBe(1000);
    expect(rateAt(profile, 2)).toBe(100);
    expect(rateAt(profile, 11)).toBe(1000);
    expect(rateAt(profile, 19)).toBe(100);
  });

  it('counts whole and partial periods', () => {
    expect(expectedCount(profile, 0, 10)).toBe(2800);
    expect(expectedCount(profile, 0, 25)).toBe(2 * 2800 + 2000 + 300);
    expect(expectedCount(profile, 1, 11)).toBe(2800);
    expect(timeOfCount(profile, 2000)).toBe(2);
    expect(timeOfCount(profile, 2900)).toBeCloseTo(10.1, 12);
    expect(timeOfCount(profile, 2800 + 2000 + 400)).toBeCloseTo(16, 12);
  });
});

describe('function', () => {
  it('runs the source text', () => {
    const profile = parse({ kind: 'function', source: 't => 100 + 10 * t' });
    expect(rateAt(profile, 2)).toBe(120);
    expect(expectedCount(profile, 0, 10)).toBeCloseTo(1500, 9);
    expect(expectedCount(profile, 2.3, 7.1)).toBeCloseTo(100 * 4.8 + 5 * (7.1 ** 2 - 2.3 ** 2), 9);
    expect(timeOfCount(profile, 1500)).toBeCloseTo(10, 9);
    expect(timeOfCount(profile, 1500, { t: 9, count: 1305 })).toBeCloseTo(10, 9);
  });

  it('integrates a curved function to well below a message', () => {
    const profile = parse({
      kind: 'function',
      source: 'function (t) { return 300 + 200 * Math.sin(t / 3); }'
    });
    const exact = 300 * 40 + 600 * (1 - Math.cos(40 / 3));
    expect(expectedCount(profile, 0, 40)).toBeCloseTo(exact, 6);
    expect(timeOfCount(profile, exact)).toBeCloseTo(40, 6);
  });

  it('takes a JavaScript function and keeps its source', () => {
    const profile = parse({ kind: 'function', source: (t: number) => 50 + t });
    expect(profile.kind).toBe('function');
    expect(typeof (profile as { source: unknown }).source).toBe('string');
    expect(rateAt(profile, 10)).toBe(60);
  });

  it('reports a failure later in the run with the t it was called with', () => {
    const profile = parse({
      kind: 'function',
      source: 't => { if (t > 4000) throw new Error("out of data"); return 10; }'
    });
    expect(() => rateAt(profile, 5000)).toThrow(/threw at t = 5000 s: Error: out of data/);
  });
});

describe('every profile is JSON', () => {
  it.each([
    { kind: 'fixed', rate: 1 },
    { kind: 'bytes', bytesPerSecond: 10, messageBytes: 3 },
    { kind: 'unlimited' },
    { kind: 'step', steps: [{ at: 0, rate: 5 }] },
    { kind: 'ramp', from: 1, to: 2, over: 3 },
    { kind: 'sine', mean: 10, amplitude: 2, period: 5, floor: 0.5 },
    { kind: 'burst', base: 1, burst: 9, length: 1, every: 4 },
    { kind: 'function', source: 't => 7' }
  ])('$kind survives a JSON round trip', input => {
    const profile = parse(input);
    expect(parse(JSON.parse(JSON.stringify(profile)))).toEqual(profile);
  });
});

describe('timeOfCount inverts expectedCount', () => {
  const profiles: RateProfile[] = [
    parse(37),
    parse({
      kind: 'step',
      steps: [
        { at: 0, rate: 3 },
        { at: 1.5, rate: 300 }
      ]
    }),
    parse({ kind: 'ramp', from: 1000, to: 5, over: 60 }),
    parse({ kind: 'sine', mean: 20, amplitude: 19.9, period: 7 }),
    parse({ kind: 'burst', base: 5, burst: 500, length: 0.3, every: 2 }),
    parse({ kind: 'function', source: 't => 1 + t * t' })
  ];
  it.each(profiles.map(profile => [profile.kind, profile] as const))('%s', (_kind, profile) => {
    for (const t of [0.01, 0.7, 1.5, 3.3, 12, 59.9, 61, 99]) {
      const count = expectedCount(profile, 0, t);
      expect(timeOfCount(profile, count)).toBeCloseTo(t, 7);
    }
  });
});

describe('bad input', () => {
  it.each([
    [
      { kind: 'fixed', rate: 0 },
      'rate.rate = 0: expected a positive number of messages per second'
    ],
    [
      { kind: 'fixed', rate: -5 },
      'rate.rate = -5: expected a positive number of messages per second'
    ],
    [
      { kind: 'fixed', rate: NaN },
      'rate.rate = NaN: expected a positive number of messages per second'
    ],
    [{ kind: 'fixed' }, 'rate.rate = missing: expected a positive number of messages per second'],
    [
      { kind: 'fixed', rate: '5' },
      'rate.rate = "5": expected a positive number of messages per second'
    ],
    [-1, 'rate = -1: expected a positive number of messages per second'],
    [null, 'rate = null: expected messages per second, "unlimited" or a profile object'],
    [
      { kind: 'warp' },
      'rate.kind = "warp": expected one of fixed, bytes, unlimited, step, ramp, sine, burst, function'
    ],
    [{ rate: 5 }, 'rate.kind = missing: expected one of fixed'],
    [
      { kind: 'fixed', rate: 5, over: 2 },
      'rate.over: unknown key for a fixed rate; expected only kind, rate'
    ],
    [
      { kind: 'bytes', bytesPerSecond: 100, messageBytes: 1.5 },
      'rate.messageBytes = 1.5: expected a whole number of bytes, at least 1'
    ],
    [{ kind: 'step', steps: [] }, 'rate.steps = []: expected a non-empty list'],
    [
      { kind: 'step', steps: [{ at: 1, rate: 5 }] },
      'rate.steps[0].at = 1: expected 0, the first step sets the rate from the start'
    ],
    [
      {
        kind: 'step',
        steps: [
          { at: 0, rate: 5 },
          { at: 10, rate: 6 },
          { at: 10, rate: 7 }
        ]
      },
      'rate.steps[2].at = 10: expected a time after rate.steps[1].at = 10 (step times must increase)'
    ],
    [
      {
        kind: 'step',
        steps: [
          { at: 0, rate: 5 },
          { at: 10, rate: 6 },
          { at: 4, rate: 7 }
        ]
      },
      'rate.steps[2].at = 4: expected a time after rate.steps[1].at = 10'
    ],
    [
      { kind: 'step', steps: [{ at: 0, rate: 0 }] },
      'rate.steps[0].rate = 0: expected a positive number'
    ],
    [
      { kind: 'ramp', from: 10, to: 20, over: 0 },
      'rate.over = 0: expected a positive number of seconds'
    ],
    [
      { kind: 'ramp', from: 0, to: 20, over: 5 },
      'rate.from = 0: expected a positive number of messages per second'
    ],
    [
      { kind: 'sine', mean: 10, amplitude: -1, period: 5 },
      'rate.amplitude = -1: expected messages per second, at least 0'
    ],
    [
      { kind: 'sine', mean: 10, amplitude: 1, period: 5, floor: 20 },
      'rate.floor = 20: expected a positive number of messages per second, at most the mean 10'
    ],
    [
      { kind: 'burst', base: 1, burst: 5, length: 4, every: 4 },
      'rate.every = 4: expected more than the burst length rate.length = 4 s'
    ],
    [
      { kind: 'function', source: '' },
      'rate.source = "": expected the source of a function (t) => rate'
    ],
    [
      { kind: 'function', source: 't => {' },
      'rate.source = "t => {" does not compile: SyntaxError'
    ],
    [
      { kind: 'function', source: '42' },
      'rate.source = "42" is 42: expected the source of a function (t) => rate'
    ]
  ])('%j', (input, message) => {
    expect(parseError(input)).toContain(message);
  });

  it('a user function that throws: its message, stack and t', () => {
    const message = parseError({
      kind: 'function',
      source: 't => { if (t >= 60) throw new RangeError("no plan after a minute"); return 5; }'
    });
    expect(message).toContain('rate.source "t => { if (t >= 60)');
    expect(message).toContain(
      'threw at t = 60 s: RangeError: no plan after a minute\n    at line 1, column 27'
    );
  });

  it('a user function that is not self-contained', () => {
    expect(parseError({ kind: 'function', source: 't => base * 2' })).toContain(
      'threw at t = 0 s: ReferenceError: base is not defined'
    );
  });

  it.each([
    ['t => t', 'returned 0 at t = 0 s'],
    ['t => 5 - t', 'returned -5 at t = 10 s'],
    ['t => NaN', 'returned NaN at t = 0 s'],
    ['t => (t > 100 ? Infinity : 1)', 'returned Infinity at t = 120 s'],
    ['t => "10"', 'returned "10" at t = 0 s'],
    ['t => {}', 'returned missing at t = 0 s']
  ])('a user function %s: %s', (source, found) => {
    expect(parseError({ kind: 'function', source })).toContain(
      `${found}: expected a positive finite number of messages per second`
    );
  });

  it('uses the given key', () => {
    expect(() => parseRateProfile({ kind: 'fixed', rate: 0 }, 'producers[1].rate')).toThrow(
      'producers[1].rate.rate = 0'
    );
  });

  it('checks times and counts given to the evaluators', () => {
    const profile = parse(10);
    expect(() => rateAt(profile, -1)).toThrow('t = -1: expected seconds since the start');
    expect(() => expectedCount(profile, 5, 2)).toThrow('toT = 2: expected at least fromT = 5');
    expect(() => timeOfCount(profile, NaN)).toThrow('count = NaN: expected a number of messages');
  });
});
