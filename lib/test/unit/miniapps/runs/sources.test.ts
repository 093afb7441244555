import { describe, expect, it } from 'vitest';
import { MiniAppInputError } from '../../../../src/miniapps/errors.js';
import { compileUserFunction, openSource } from '../../../../src/miniapps/mass/sources.js';
import type { SourceSpec } from '../../../../src/miniapps/runs/spec.js';

const CLUSTER: SourceSpec = {
  kind: 'cluster',
  clusters: 4,
  dimensions: 2,
  pointsPerMessage: 300,
  spread: 1,
  seed: 11
};

/** Same length and bit-identical values. */
function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

describe('openSource: cluster and static', () => {
  it('sends points × dimensions float64 values', async () => {
    const source = await openSource(CLUSTER, 0);
    expect(source.payloadBytes).toBe(300 * 2 * 8);
    const { header, payload } = source.message(0);
    expect(header).toEqual({ kind: 'points', shape: [300, 2] });
    expect(payload).toBeInstanceOf(Float64Array);
    expect(payload.byteLength).toBe(source.payloadBytes);
  });

  it('gives each (seed, producer, sequence) its own message, the same in every source', async () => {
    const a = await openSource(CLUSTER, 2);
    const b = await openSource(CLUSTER, 2);
    const message = a.message(7).payload;
    expect(same(b.message(7).payload, message)).toBe(true);
    expect(same(a.message(8).payload, message)).toBe(false);
    expect(same((await openSource(CLUSTER, 3)).message(7).payload, message)).toBe(false);
    expect(same((await openSource({ ...CLUSTER, seed: 12 }, 2)).message(7).payload, message)).toBe(
      false
    );
  });

  it('static sends the first message of producer 0 again and again', async () => {
    const first = (await openSource(CLUSTER, 0)).message(0).payload;
    const source = await openSource({ ...CLUSTER, kind: 'static' }, 5);
    expect(source.payloadBytes).toBe(300 * 2 * 8);
    expect(source.message(0).header).toEqual({ kind: 'points', shape: [300, 2] });
    for (const sequence of [0, 1, 99])
      expect(same(source.message(sequence).payload, first)).toBe(true);
  });
});

describe('openSource: synthetic-bytes', () => {
  it('sends exactly size bytes that are not all zeros', async () => {
    const source = await openSource({ kind: 'synthetic-bytes', size: 1000 }, 0);
    expect(source.payloadBytes).toBe(1000);
    const { header, payload } = source.message(3);
    expect(header).toEqual({ kind: 'bytes' });
    expect(payload).toBeInstanceOf(Uint8Array);
    expect(payload.byteLength).toBe(1000);
    expect(new Set(payload).size).toBeGreaterThan(100);
  });
});

describe('openSource: function', () => {
  const fn = (source: string, name = 'frames'): SourceSpec => ({ kind: 'function', source, name });

  it('sends a typed array as a custom payload labelled with the function’s name', async () => {
    const source = await openSource(
      fn('(producer, sequence) => Float32Array.of(producer, sequence, 1)'),
      4
    );
    expect(source.payloadBytes).toBe(12);
    const { header, payload } = source.message(9);
    expect(header).toEqual({ kind: 'custom', label: 'frames' });
    expect(Array.from(payload)).toEqual([4, 9, 1]);
  });

  it('takes {payload, kind, shape} and keeps the kind and shape', async () => {
    const source = await openSource(
      fn("(p, s) => ({ payload: new Float64Array(6).fill(s), kind: 'points', shape: [3, 2] })"),
      0
    );
    expect(source.payloadBytes).toBe(48);
    const { header, payload } = source.message(2);
    expect(header).toEqual({ kind: 'points', shape: [3, 2], label: 'frames' });
    expect(Array.from(payload)).toEqual([2, 2, 2, 2, 2, 2]);
    const labelled = await openSource(
      fn("() => ({ payload: new Uint8Array(1), label: 'mine' })"),
      0
    );
    expect(labelled.message(0).header).toEqual({ kind: 'custom', label: 'mine' });
  });

  it('refuses a value that is not a payload, naming the function and the message', async () => {
    await expect(openSource(fn("() => 'text'"), 0)).rejects.toThrow(MiniAppInputError);
    await expect(openSource(fn("() => 'text'"), 0)).rejects.toThrow(
      'source function "frames" for message 0 returned string: expected a typed array (float32, float64, uint8, int16, uint16, int32) or {payload, kind?, shape?, label?}'
    );
    const late = await openSource(fn('(p, s) => (s < 1 ? new Uint8Array(1) : null)'), 0);
    expect(() => late.message(1)).toThrow('source function "frames" for message 1 returned null');
    await expect(
      openSource(fn("() => ({ payload: new Uint8Array(1), kind: 'pixels' })"), 0)
    ).rejects.toThrow('kind = "pixels", expected one of points, sinograms');
    await expect(
      openSource(fn('() => ({ payload: new Uint8Array(1), shape: [0.5] })'), 0)
    ).rejects.toThrow('shape = [0.5], expected an array of whole numbers');
  });
});

describe('compileUserFunction', () => {
  it('compiles a function from its source text', () => {
    expect(compileUserFunction('(a, b) => a * b', 'source')(6, 7)).toBe(42);
    expect(compileUserFunction('function twice(x) { return 2 * x; }', 'processor')(4)).toBe(8);
  });

  it('refuses text that does not compile or is not a function, naming the key', () => {
    expect(() => compileUserFunction('(a) => {', 'source')).toThrow(MiniAppInputError);
    expect(() => compileUserFunction('(a) => {', 'source')).toThrow(
      /^source: the function does not compile: /
    );
    expect(() => compileUserFunction('{ a: 1 }', 'processor')).toThrow(
      'processor: expected a function, got object'
    );
    expect(() => compileUserFunction('"f"', 'source')).toThrow(
      'source: expected a function, got string'
    );
  });

  // Source text (not a function's toString()) may end in a line comment.
  it('compiles a function whose source ends with a line comment', () => {
    const fn = compileUserFunction('(p, s) => Float64Array.of(p, s) // one point', 'source');
    expect(Array.from(fn(1, 2) as Float64Array)).toEqual([1, 2]);
  });
});
