import { describe, expect, it } from 'vitest';
import { MiniAppInputError } from '../../../../src/miniapps/errors.js';
import { parseMasaOptions, parseMassOptions } from '../../../../src/miniapps/runs/options.js';
import type { MasaOptions, MassOptions } from '../../../../src/miniapps/runs/options.js';

/** Options as an untyped caller (a notebook, JSON) may pass them. */
const mass = (options: Record<string, unknown>) =>
  parseMassOptions(options as unknown as MassOptions);
const masa = (options: Record<string, unknown>) =>
  parseMasaOptions({ topic: 'points', ...options } as unknown as MasaOptions);

function refused(parse: () => unknown, ...parts: string[]): void {
  expect(parse).toThrow(MiniAppInputError);
  for (const part of parts) expect(parse).toThrow(part);
}

describe('parseMassOptions', () => {
  it('takes a source kind, an object with a kind or a function', () => {
    expect(mass({ source: 'cluster' }).source).toEqual({
      kind: 'cluster',
      clusters: 10,
      dimensions: 3,
      pointsPerMessage: 5000,
      spread: 1,
      seed: 1
    });
    expect(mass({ source: { kind: 'synthetic-bytes', size: 4096 } }).source).toEqual({
      kind: 'synthetic-bytes',
      size: 4096
    });
    function frames(producer: number, sequence: number) {
      return Float64Array.of(producer, sequence);
    }
    expect(mass({ source: frames }).source).toEqual({
      kind: 'function',
      source: frames.toString(),
      name: 'frames'
    });
  });

  it('fills in the defaults', () => {
    const parsed = mass({ source: 'static' });
    expect(parsed).toMatchObject({
      producers: 1,
      reportIntervalMs: 1000,
      startDelayMs: 2000,
      unitCores: 1,
      rate: { kind: 'fixed', rate: 10 }
    });
    expect(parsed.topic).toBeUndefined();
    expect(mass({ source: 'static', unitCores: 0 }).unitCores).toBe(0);
    expect(mass({ source: 'static', rate: 'unlimited' }).rate).toEqual({ kind: 'unlimited' });
  });

  it('refuses an unknown source kind', () => {
    refused(() => mass({ source: 'kafka' }), 'source.kind = "kafka"', 'expected one of cluster');
    refused(() => mass({ source: { kind: 'lamp' } }), 'source.kind = "lamp"');
    refused(() => mass({ source: 42 }), 'source = 42', 'or a function');
  });

  it('refuses unknown keys, in the options and in the source', () => {
    refused(() => mass({ source: 'cluster', colour: 'red' }), 'colour = "red"', 'unknown key');
    refused(() => mass({ source: { kind: 'cluster', colour: 1 } }), 'mass source: colour = 1');
  });

  it('refuses values out of range, naming the key and the value', () => {
    refused(() => mass({ source: 'cluster', rate: 0 }), 'rate = 0', 'expected a positive');
    refused(() => mass({ source: 'cluster', producers: -1 }), 'producers = -1', 'at least 1');
    refused(() => mass({ source: 'cluster', unitCores: -1 }), 'unitCores = -1');
    refused(() => mass({ source: 'cluster', topic: 'a b' }), 'topic = "a b"');
    refused(() => mass({ source: { kind: 'cluster', clusters: 0 } }), 'clusters = 0');
  });

  it('refuses a function source that does not compile', () => {
    refused(
      () => mass({ source: { kind: 'function', source: 'function (' } }),
      'source: the function does not compile'
    );
    refused(
      () => mass({ source: { kind: 'function', source: '42' } }),
      'source: expected a function, got number'
    );
  });
});

describe('parseMasaOptions', () => {
  it('takes a processor kind, an object with a kind or a function', () => {
    expect(masa({ processor: 'count' }).processor).toEqual({ kind: 'count' });
    expect(masa({ processor: { kind: 'kmeans', k: 3 } }).processor).toEqual({
      kind: 'kmeans',
      k: 3,
      timeUnit: 'batches',
      seed: 42
    });
    expect(
      masa({ processor: { kind: 'gridrec', filter: 'hann', center: 'auto' } }).processor
    ).toEqual({
      kind: 'gridrec',
      filter: 'hann',
      center: 'auto'
    });
    const handle = (message: unknown) => message;
    expect(masa({ processor: handle }).processor).toEqual({
      kind: 'function',
      source: handle.toString(),
      name: 'handle'
    });
  });

  it('fills in the defaults', () => {
    expect(masa({ processor: 'count' })).toEqual({
      topic: 'points',
      processor: { kind: 'count' },
      consumers: 1,
      fromBeginning: true,
      until: 'stopped',
      reportIntervalMs: 1000,
      unitCores: 1
    });
    expect(masa({ processor: 'count', unitCores: 0 }).unitCores).toBe(0);
  });

  it('refuses an unknown kind or algorithm', () => {
    refused(() => masa({ processor: 'art' }), 'processor.kind = "art"', 'expected one of kmeans');
    refused(() => masa({ processor: {} }), 'processor.kind = missing');
  });

  it('refuses unknown keys', () => {
    refused(() => masa({ processor: 'count', colour: 1 }), 'masa options: colour = 1');
    refused(() => masa({ processor: { kind: 'count', k: 3 } }), 'masa processor: k = 3');
  });

  it('refuses a wrong filter, iteration count or size, naming the key and the value', () => {
    // The filter is checked by the reconstruction code, which has its own error class.
    expect(() => masa({ processor: { kind: 'gridrec', filter: 'hanning' } })).toThrow(
      'filter = "hanning" is not a reconstruction filter'
    );
    refused(() => masa({ processor: { kind: 'sirt', iterations: 0 } }), 'iterations = 0');
    refused(() => masa({ processor: { kind: 'kmeans', k: 0 } }), 'k = 0');
    refused(() => masa({ processor: 'count', consumers: 0 }), 'consumers = 0');
    refused(() => masa({ processor: 'count', until: 'done' }), 'until = "done"');
    refused(() => masa({ processor: 'count', topic: '' }), 'topic = ""');
  });

  it('refuses a function processor that does not compile', () => {
    refused(
      () => masa({ processor: { kind: 'function', source: '(message) => {' } }),
      'processor: the function does not compile'
    );
  });
});
