/**
 * Rate profiles: how many messages per second a group of producers sends at each moment of a
 * run. A profile is plain JSON, because it travels to compute units on other nodes;
 * `parseRateProfile` checks one, `rateAt`, `expectedCount` and `timeOfCount` evaluate it.
 * Times are seconds since the run started; rates are messages per second for all producers
 * together (a pacer gives each of N producers its share).
 */
import { MiniAppInputError } from '../errors.js';

export const RATE_PROFILE_KINDS = [
  'fixed',
  'bytes',
  'unlimited',
  'step',
  'ramp',
  'sine',
  'burst',
  'function'
] as const;
export type RateProfileKind = (typeof RATE_PROFILE_KINDS)[number];

export interface FixedRate {
  readonly kind: 'fixed';
  /** Messages per second. */
  readonly rate: number;
}

/** A data rate; messages per second = bytesPerSecond / messageBytes. */
export interface BytesRate {
  readonly kind: 'bytes';
  readonly bytesPerSecond: number;
  /** Size of one message, the same the producers send. */
  readonly messageBytes: number;
}

/** As fast as the producers can: every send is due at once. */
export interface UnlimitedRate {
  readonly kind: 'unlimited';
}

export interface RateStep {
  /** Seconds since the start; the first step is at 0. */
  readonly at: number;
  readonly rate: number;
}

/** Each step's rate holds until the next step; the last one holds for ever. */
export interface StepRate {
  readonly kind: 'step';
  readonly steps: readonly RateStep[];
}

/** Linear from `from` to `to` over `over` seconds, then `to` for ever. */
export interface RampRate {
  readonly kind: 'ramp';
  readonly from: number;
  readonly to: number;
  readonly over: number;
}

/** mean + amplitude · sin(2πt / period), never below `floor` (default 1 % of the mean). */
export interface SineRate {
  readonly kind: 'sine';
  readonly mean: number;
  readonly amplitude: number;
  readonly period: number;
  readonly floor: number;
}

/** Every `every` seconds starts with `length` seconds at `burst`; the rest is at `base`. */
export interface BurstRate {
  readonly kind: 'burst';
  readonly base: number;
  readonly burst: number;
  readonly length: number;
  readonly every: number;
}

/**
 * A user function `(tSeconds) => rate`, kept as source text so that it can be shipped and
 * compiled with `new Function` where the producer runs. It must be self-contained: it sees its
 * argument and JavaScript's globals (Math, …) but none of the variables around the place it was
 * written. It runs with the producer's rights, like any code a user submits to a pilot.
 */
export interface FunctionRate {
  readonly kind: 'function';
  readonly source: string;
}

export type RateProfile =
  FixedRate | BytesRate | UnlimitedRate | StepRate | RampRate | SineRate | BurstRate | FunctionRate;

/** A point of the expected-count curve: `count` messages are due by `t` seconds. */
export interface CountPoint {
  readonly t: number;
  readonly count: number;
}

const SINE_FLOOR_FRACTION = 0.01;
// Times at which a user function is tried before it is accepted: the start and a spread of
// times up to an hour. Failures later in a run surface from rateAt with the same message.
const FUNCTION_PROBE_TIMES = [0, 0.25, 1, 2.5, 10, 30, 60, 120, 300, 600, 1800, 3600];
// The numeric integral of a user function uses 5-point Gauss-Legendre on a fixed grid of 1/64 s
// (a power of two, so grid points are exact): exact for polynomials up to degree 9.
const GRID_SECONDS = 1 / 64;
const GAUSS_NODES = [
  0, -0.5384693101056831, 0.5384693101056831, -0.906179845938664, 0.906179845938664
];
const GAUSS_WEIGHTS = [
  0.5688888888888889, 0.47862867049936647, 0.47862867049936647, 0.23692688505618908,
  0.23692688505618908
];
// A user function giving less than one message a day stalls a producer: report it, do not spin.
const LONGEST_SEARCH_SECONDS = 86_400;

function show(value: unknown): string {
  if (value === undefined) return 'missing';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'function') return 'a function';
  return JSON.stringify(value) ?? String(value);
}

function positive(key: string, value: unknown, unit: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new MiniAppInputError(`${key} = ${show(value)}: expected a positive ${unit}`);
  return value;
}

function checkKeys(key: string, input: Record<string, unknown>, allowed: readonly string[]): void {
  for (const name of Object.keys(input))
    if (!allowed.includes(name))
      throw new MiniAppInputError(
        `${key}.${name}: unknown key for a ${String(input.kind)} rate; expected only ${allowed.join(', ')}`
      );
}

/**
 * Checks a rate profile and returns it in canonical form (defaults filled in, a function turned
 * into its source). Besides the object forms, a number means a fixed rate and the string
 * "unlimited" the unlimited profile. Errors name `key` (e.g. `rate.steps[2].at`), the value
 * found and what is expected.
 */
export function parseRateProfile(input: unknown, key = 'rate'): RateProfile {
  if (typeof input === 'number')
    return { kind: 'fixed', rate: positive(key, input, 'number of messages per second') };
  if (input === 'unlimited') return { kind: 'unlimited' };
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw new MiniAppInputError(
      `${key} = ${show(input)}: expected messages per second, "unlimited" or a profile object with a kind (${RATE_PROFILE_KINDS.join(', ')})`
    );
  const object = input as Record<string, unknown>;
  const kind = object.kind;
  if (typeof kind !== 'string' || !(RATE_PROFILE_KINDS as readonly string[]).includes(kind))
    throw new MiniAppInputError(
      `${key}.kind = ${show(kind)}: expected one of ${RATE_PROFILE_KINDS.join(', ')}`
    );
  const perSecond = 'number of messages per second';
  switch (kind as RateProfileKind) {
    case 'fixed':
      checkKeys(key, object, ['kind', 'rate']);
      return { kind: 'fixed', rate: positive(`${key}.rate`, object.rate, perSecond) };
    case 'bytes': {
      checkKeys(key, object, ['kind', 'bytesPerSecond', 'messageBytes']);
      const bytesPerSecond = positive(
        `${key}.bytesPerSecond`,
        object.bytesPerSecond,
        'number of bytes per second'
      );
      const messageBytes = object.messageBytes;
      if (
        typeof messageBytes !== 'number' ||
        !Number.isSafeInteger(messageBytes) ||
        messageBytes < 1
      )
        throw new MiniAppInputError(
          `${key}.messageBytes = ${show(messageBytes)}: expected a whole number of bytes, at least 1`
        );
      return { kind: 'bytes', bytesPerSecond, messageBytes };
    }
    case 'unlimited':
      checkKeys(key, object, ['kind']);
      return { kind: 'unlimited' };
    case 'step':
      checkKeys(key, object, ['kind', 'steps']);
      return { kind: 'step', steps: parseSteps(`${key}.steps`, object.steps) };
    case 'ramp':
      checkKeys(key, object, ['kind', 'from', 'to', 'over']);
      return {
        kind: 'ramp',
        from: positive(`${key}.from`, object.from, perSecond),
        to: positive(`${key}.to`, object.to, perSecond),
        over: positive(`${key}.over`, object.over, 'number of seconds')
      };
    case 'sine':
      checkKeys(key, object, ['kind', 'mean', 'amplitude', 'period', 'floor']);
      return parseSine(key, object);
    case 'burst':
      checkKeys(key, object, ['kind', 'base', 'burst', 'length', 'every']);
      return parseBurst(key, object);
    case 'function':
      checkKeys(key, object, ['kind', 'source']);
      return parseFunction(key, object.source);
  }
}

function parseSteps(key: string, input: unknown): RateStep[] {
  if (!Array.isArray(input) || input.length === 0)
    throw new MiniAppInputError(
      `${key} = ${show(input)}: expected a non-empty list of { at: seconds, rate: messages per second }`
    );
  return input.map((step: unknown, index): RateStep => {
    const stepKey = `${key}[${index}]`;
    if (step === null || typeof step !== 'object')
      throw new MiniAppInputError(
        `${stepKey} = ${show(step)}: expected { at: seconds, rate: messages per second }`
      );
    const { at, rate } = step as Record<string, unknown>;
    if (typeof at !== 'number' || !Number.isFinite(at) || at < 0)
      throw new MiniAppInputError(`${stepKey}.at = ${show(at)}: expected seconds, at least 0`);
    if (index === 0 && at !== 0)
      throw new MiniAppInputError(
        `${stepKey}.at = ${at}: expected 0, the first step sets the rate from the start`
      );
    const previous = index > 0 ? (input[index - 1] as RateStep).at : undefined;
    if (previous !== undefined && !(at > previous))
      throw new MiniAppInputError(
        `${stepKey}.at = ${at}: expected a time after ${key}[${index - 1}].at = ${previous} (step times must increase)`
      );
    return { at, rate: positive(`${stepKey}.rate`, rate, 'number of messages per second') };
  });
}

function parseSine(key: string, input: Record<string, unknown>): SineRate {
  const mean = positive(`${key}.mean`, input.mean, 'number of messages per second');
  const amplitude = input.amplitude;
  if (typeof amplitude !== 'number' || !Number.isFinite(amplitude) || amplitude < 0)
    throw new MiniAppInputError(
      `${key}.amplitude = ${show(amplitude)}: expected messages per second, at least 0`
    );
  const period = positive(`${key}.period`, input.period, 'number of seconds');
  const floor = input.floor ?? mean * SINE_FLOOR_FRACTION;
  if (typeof floor !== 'number' || !Number.isFinite(floor) || floor <= 0 || floor > mean)
    throw new MiniAppInputError(
      `${key}.floor = ${show(floor)}: expected a positive number of messages per second, at most the mean ${mean}`
    );
  return { kind: 'sine', mean, amplitude, period, floor };
}

function parseBurst(key: string, input: Record<string, unknown>): BurstRate {
  const perSecond = 'number of messages per second';
  const base = positive(`${key}.base`, input.base, perSecond);
  const burst = positive(`${key}.burst`, input.burst, perSecond);
  const length = positive(`${key}.length`, input.length, 'number of seconds');
  const every = positive(`${key}.every`, input.every, 'number of seconds');
  if (!(every > length))
    throw new MiniAppInputError(
      `${key}.every = ${every}: expected more than the burst length ${key}.length = ${length} s`
    );
  return { kind: 'burst', base, burst, length, every };
}

function parseFunction(key: string, input: unknown): FunctionRate {
  const source = typeof input === 'function' ? input.toString() : input;
  if (typeof source !== 'string' || source.trim() === '')
    throw new MiniAppInputError(
      `${key}.source = ${show(source)}: expected the source of a function (t) => rate, such as "t => 100 + 50 * Math.sin(t / 10)"`
    );
  const profile: FunctionRate = { kind: 'function', source };
  compileRateFunction(profile, `${key}.source`);
  for (const t of FUNCTION_PROBE_TIMES) callRateFunction(profile, t, `${key}.source`);
  return profile;
}

type RateFunction = (t: number) => unknown;

// Compiled functions by source: few distinct sources per process, each called very often.
const compiledFunctions = new Map<string, RateFunction>();
const COMPILED_LIMIT = 64;

function excerpt(source: string): string {
  const oneLine = source.replace(/\s+/g, ' ').trim();
  return JSON.stringify(oneLine.length > 80 ? `${oneLine.slice(0, 77)}...` : oneLine);
}

// new Function puts two lines of its own and the two below before the source's first line.
const SOURCE_LINE_OFFSET = 4;

/** The error's name and message, and where in the user's source it happened. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const frames = (error.stack ?? '')
    .split('\n')
    .map(line => /<anonymous>:(\d+):(\d+)\)?$/.exec(line))
    .filter(match => match !== null)
    .slice(0, 3)
    .map(match => `    at line ${Number(match[1]) - SOURCE_LINE_OFFSET}, column ${match[2]}`);
  return [`${error.name}: ${error.message}`, ...frames].join('\n');
}

function compileRateFunction(profile: FunctionRate, key: string): RateFunction {
  const cached = compiledFunctions.get(profile.source);
  if (cached !== undefined) return cached;
  let compiled: unknown;
  try {
    compiled = new Function(`"use strict";\nreturn (\n${profile.source}\n);`)();
  } catch (error) {
    throw new MiniAppInputError(
      `${key} = ${excerpt(profile.source)} does not compile: ${describeError(error)}`
    );
  }
  if (typeof compiled !== 'function')
    throw new MiniAppInputError(
      `${key} = ${excerpt(profile.source)} is ${show(compiled)}: expected the source of a function (t) => rate`
    );
  if (compiledFunctions.size >= COMPILED_LIMIT) compiledFunctions.clear();
  compiledFunctions.set(profile.source, compiled as RateFunction);
  return compiled as RateFunction;
}

function callRateFunction(profile: FunctionRate, t: number, key = 'rate function'): number {
  const rate = compileRateFunction(profile, key);
  let value: unknown;
  try {
    value = rate(t);
  } catch (error) {
    throw new MiniAppInputError(
      `${key} ${excerpt(profile.source)} threw at t = ${t} s: ${describeError(error)}`
    );
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new MiniAppInputError(
      `${key} ${excerpt(profile.source)} returned ${show(value)} at t = ${t} s: expected a positive finite number of messages per second`
    );
  return value;
}

function gaussLegendre(rate: (t: number) => number, a: number, b: number): number {
  const half = (b - a) / 2;
  const middle = (a + b) / 2;
  let sum = 0;
  for (let i = 0; i < GAUSS_NODES.length; i++)
    sum += GAUSS_WEIGHTS[i] * rate(middle + half * GAUSS_NODES[i]);
  return sum * half;
}

function nextGridPoint(t: number): number {
  return (Math.floor(t / GRID_SECONDS) + 1) * GRID_SECONDS;
}

function integrateFunction(profile: FunctionRate, from: number, to: number): number {
  const rate = (t: number) => callRateFunction(profile, t);
  let total = 0;
  for (let left = from; left < to;) {
    const right = Math.min(to, nextGridPoint(left));
    total += gaussLegendre(rate, left, right);
    left = right;
  }
  return total;
}

function functionTimeOfCount(profile: FunctionRate, count: number, after: CountPoint): number {
  const rate = (t: number) => callRateFunction(profile, t);
  let reached = after.count;
  for (let left = after.t; left - after.t < LONGEST_SEARCH_SECONDS;) {
    const right = nextGridPoint(left);
    const piece = gaussLegendre(rate, left, right);
    if (reached + piece >= count) {
      const start = left;
      const base = reached;
      return solveIncreasing(x => base + gaussLegendre(rate, start, x), rate, count, start, right);
    }
    reached += piece;
    left = right;
  }
  throw new MiniAppInputError(
    `rate function ${excerpt(profile.source)} gives fewer than ${count - after.count} messages in the ${LONGEST_SEARCH_SECONDS} s after t = ${after.t} s: expected at least one message a day`
  );
}

/**
 * The x in [low, high] where the increasing `cumulative` reaches `target`: Newton steps with
 * the rate as derivative, falling back to bisection whenever a step leaves the bracket.
 */
function solveIncreasing(
  cumulative: (t: number) => number,
  rate: (t: number) => number,
  target: number,
  low: number,
  high: number
): number {
  let x = low;
  for (let iteration = 0; iteration < 200; iteration++) {
    const error = cumulative(x) - target;
    if (Math.abs(error) <= 1e-11 * Math.max(1, Math.abs(target))) return x;
    if (error < 0) low = x;
    else high = x;
    if (high - low <= 1e-12 * Math.max(1, high)) return high;
    const newton = x - error / rate(x);
    x = newton > low && newton < high ? newton : (low + high) / 2;
  }
  return x;
}

function checkTime(key: string, t: number): void {
  if (!Number.isFinite(t) || t < 0)
    throw new MiniAppInputError(`${key} = ${t}: expected seconds since the start, at least 0`);
}

function sineRate(profile: SineRate, t: number): number {
  return Math.max(
    profile.floor,
    profile.mean + profile.amplitude * Math.sin((2 * Math.PI * t) / profile.period)
  );
}

/** Messages per second at `t` seconds (Infinity for `unlimited`). */
export function rateAt(profile: RateProfile, t: number): number {
  checkTime('t', t);
  switch (profile.kind) {
    case 'fixed':
      return profile.rate;
    case 'bytes':
      return profile.bytesPerSecond / profile.messageBytes;
    case 'unlimited':
      return Infinity;
    case 'step': {
      let rate = profile.steps[0].rate;
      for (const step of profile.steps) if (step.at <= t) rate = step.rate;
      return rate;
    }
    case 'ramp':
      return t >= profile.over
        ? profile.to
        : profile.from + ((profile.to - profile.from) * t) / profile.over;
    case 'sine':
      return sineRate(profile, t);
    case 'burst':
      return t % profile.every < profile.length ? profile.burst : profile.base;
    case 'function':
      return callRateFunction(profile, t);
  }
}

/**
 * ∫ max(0, floor − mean − amplitude·sin x) dx from 0 to `phase`: what the floor adds to the
 * plain sine. Where the sine dips below the floor, sin x < c with c in (−1, 0]: that is the
 * interval (π + α, 2π − α) of each period, α = asin(−c).
 */
function sineFloorExcess(profile: SineRate, phase: number): number {
  const { mean, amplitude, floor } = profile;
  if (amplitude === 0 || mean - amplitude >= floor) return 0;
  const alpha = Math.asin((mean - floor) / amplitude);
  const start = Math.PI + alpha;
  const end = 2 * Math.PI - alpha;
  const antiderivative = (x: number) => (floor - mean) * x + amplitude * Math.cos(x);
  const perPeriod = antiderivative(end) - antiderivative(start);
  const periods = Math.floor(phase / (2 * Math.PI));
  const rest = phase - periods * 2 * Math.PI;
  const partial = rest <= start ? 0 : antiderivative(Math.min(rest, end)) - antiderivative(start);
  return periods * perPeriod + partial;
}

/** Expected messages in [0, t] for every kind with a closed form (not function, unlimited). */
function countSinceStart(profile: Exclude<RateProfile, FunctionRate | UnlimitedRate>, t: number) {
  switch (profile.kind) {
    case 'fixed':
      return profile.rate * t;
    case 'bytes':
      return (profile.bytesPerSecond / profile.messageBytes) * t;
    case 'step': {
      let count = 0;
      const steps = profile.steps;
      for (let i = 0; i < steps.length && steps[i].at < t; i++) {
        const end = i + 1 < steps.length ? Math.min(t, steps[i + 1].at) : t;
        count += steps[i].rate * (end - steps[i].at);
      }
      return count;
    }
    case 'ramp': {
      const { from, to, over } = profile;
      if (t <= over) return from * t + ((to - from) * t * t) / (2 * over);
      return ((from + to) * over) / 2 + to * (t - over);
    }
    case 'sine': {
      const omega = (2 * Math.PI) / profile.period;
      const plain = profile.mean * t + (profile.amplitude / omega) * (1 - Math.cos(omega * t));
      return plain + sineFloorExcess(profile, omega * t) / omega;
    }
    case 'burst': {
      const { base, burst, length, every } = profile;
      const periods = Math.floor(t / every);
      const rest = t - periods * every;
      const perPeriod = burst * length + base * (every - length);
      const partial = rest <= length ? burst * rest : burst * length + base * (rest - length);
      return periods * perPeriod + partial;
    }
  }
}

/**
 * Messages expected between `fromT` and `toT` seconds: the integral of the rate, in closed form
 * for every kind but `function` (numeric, see GRID_SECONDS); Infinity for `unlimited`.
 */
export function expectedCount(profile: RateProfile, fromT: number, toT: number): number {
  checkTime('fromT', fromT);
  checkTime('toT', toT);
  if (toT < fromT) throw new MiniAppInputError(`toT = ${toT}: expected at least fromT = ${fromT}`);
  if (toT === fromT) return 0;
  if (profile.kind === 'unlimited') return Infinity;
  if (profile.kind === 'function') return integrateFunction(profile, fromT, toT);
  return countSinceStart(profile, toT) - countSinceStart(profile, fromT);
}

/**
 * The time (seconds) at which `count` messages are due, i.e. where the integral of the rate
 * from 0 reaches `count`; 0 for `unlimited`. `after`, a point known to lie at or before the
 * answer, lets the numeric kinds (sine, function) search from there instead of from 0.
 */
export function timeOfCount(
  profile: RateProfile,
  count: number,
  after: CountPoint = { t: 0, count: 0 }
): number {
  if (!Number.isFinite(count) || count < 0)
    throw new MiniAppInputError(`count = ${count}: expected a number of messages, at least 0`);
  switch (profile.kind) {
    case 'fixed':
      return count / profile.rate;
    case 'bytes':
      return (count * profile.messageBytes) / profile.bytesPerSecond;
    case 'unlimited':
      return 0;
    case 'step': {
      let reached = 0;
      const steps = profile.steps;
      for (let i = 0; i + 1 < steps.length; i++) {
        const inStep = steps[i].rate * (steps[i + 1].at - steps[i].at);
        if (reached + inStep >= count) return steps[i].at + (count - reached) / steps[i].rate;
        reached += inStep;
      }
      const last = steps[steps.length - 1];
      return last.at + (count - reached) / last.rate;
    }
    case 'ramp': {
      const { from, to, over } = profile;
      const duringRamp = ((from + to) * over) / 2;
      if (count > duringRamp) return over + (count - duringRamp) / to;
      // The root of from·t + slope·t²/2 = count, in the form that is stable for any slope sign.
      const slope = (to - from) / over;
      return (2 * count) / (from + Math.sqrt(from * from + 2 * slope * count));
    }
    case 'burst': {
      const { base, burst, length, every } = profile;
      const perPeriod = burst * length + base * (every - length);
      const periods = Math.floor(count / perPeriod);
      const rest = count - periods * perPeriod;
      const inBurst = burst * length;
      const offset = rest <= inBurst ? rest / burst : length + (rest - inBurst) / base;
      return periods * every + offset;
    }
    case 'sine': {
      // The floor bounds the rate from below, so the answer is at most count / floor seconds on.
      const low = countSinceStart(profile, after.t) <= count ? after.t : 0;
      const high = low + (count - countSinceStart(profile, low)) / profile.floor;
      return solveIncreasing(
        t => countSinceStart(profile, t),
        t => sineRate(profile, t),
        count,
        low,
        high
      );
    }
    case 'function':
      if (count <= after.count) return after.t;
      return functionTimeOfCount(profile, count, after);
  }
}
