import { describe, expect, it } from 'vitest';
import { MiniAppInputError } from '../../../../src/miniapps/errors.js';
import {
  createProcessor,
  thumbnail,
  UserFunctionError
} from '../../../../src/miniapps/masa/processors.js';
import { ClusterSource } from '../../../../src/miniapps/mass/cluster-source.js';
import { decodeMessage, encodeMessage } from '../../../../src/miniapps/messages/format.js';
import type {
  DecodedMessage,
  MessageHeader,
  PayloadArray
} from '../../../../src/miniapps/messages/format.js';

const RUN = '11111111-1111-4111-8111-111111111111';

function message(header: Omit<MessageHeader, 'runId'>, payload: PayloadArray): DecodedMessage {
  return decodeMessage(encodeMessage({ runId: RUN, sendTimeMs: 0, ...header }, payload));
}

function mean(values: Float32Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

describe('thumbnail', () => {
  it('averages a 640 × 640 image down to 213 × 213 (blocks of 3 × 3)', () => {
    const constant = new Float32Array(640 * 640).fill(0.75);
    const small = thumbnail(constant, 640);
    expect(small.size).toBe(213);
    expect(small.image.length).toBe(213 * 213);
    expect(Math.min(...small.image)).toBeCloseTo(0.75, 6);
    expect(Math.max(...small.image)).toBeCloseTo(0.75, 6);
  });

  it('keeps the mean of a smooth image and averages each block', () => {
    const size = 640;
    const image = new Float32Array(size * size);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) image[y * size + x] = Math.sin(x / 50) + Math.cos(y / 70) + 2;
    const small = thumbnail(image, size);
    expect(Math.abs(mean(small.image) - mean(image)) / mean(image)).toBeLessThan(0.005);
    // Pixel (1, 2) of the thumbnail is the mean of rows 3-5, columns 6-8.
    let block = 0;
    for (let y = 3; y < 6; y++) for (let x = 6; x < 9; x++) block += image[y * size + x];
    expect(small.image[1 * 213 + 2]).toBeCloseTo(block / 9, 5);
  });

  it('leaves an image of at most 256 pixels a side as it is', () => {
    const image = new Float32Array(256 * 256);
    const same = thumbnail(image, 256);
    expect(same.image).toBe(image);
    expect(same.size).toBe(256);
    expect(thumbnail(new Float32Array(257 * 257), 257).size).toBe(128);
  });
});

describe('createProcessor', () => {
  it('count takes any message and has nothing to show', async () => {
    const count = createProcessor({ kind: 'count' });
    await count.process(message({ kind: 'bytes', producerId: 0, sequence: 0 }, new Uint8Array(3)));
    await count.process(message({ kind: 'custom', producerId: 1, sequence: 5 }, new Int16Array(2)));
    expect(count.takeView()).toBeUndefined();
  });

  it('kmeans refuses a message that does not hold float64 points', async () => {
    const kmeans = createProcessor({ kind: 'kmeans', k: 3, timeUnit: 'batches', seed: 42 });
    const bytes = message({ kind: 'bytes', producerId: 2, sequence: 7 }, new Uint8Array(8));
    await expect(kmeans.process(bytes)).rejects.toThrow(MiniAppInputError);
    await expect(kmeans.process(bytes)).rejects.toThrow(
      'message 7 of producer 2 holds bytes (uint8): a kmeans consumer expects points (float64)'
    );
    expect(kmeans.takeView()).toBeUndefined();
  });

  it('kmeans shows its k centres and the points trained on, once per change', async () => {
    const k = 4;
    const kmeans = createProcessor({ kind: 'kmeans', k, timeUnit: 'batches', seed: 42 });
    const source = new ClusterSource({ clusters: k, seed: 5 });
    for (const sequence of [0, 1]) {
      const { points } = source.message(0, sequence);
      await kmeans.process(
        message({ kind: 'points', shape: [5000, 3], producerId: 0, sequence }, points)
      );
    }
    const view = kmeans.takeView();
    expect(view?.kmeans?.points).toBe(2 * 5000);
    expect(view?.kmeans?.centers).toHaveLength(k);
    for (const center of view?.kmeans?.centers ?? []) {
      expect(center).toHaveLength(3);
      for (const x of center) expect(Number.isFinite(x)).toBe(true);
    }
    expect(view?.kmeans?.weights).toHaveLength(k);
    expect(kmeans.takeView()).toBeUndefined();
    const { points } = source.message(0, 2);
    await kmeans.process(
      message({ kind: 'points', shape: [5000, 3], producerId: 0, sequence: 2 }, points)
    );
    expect(kmeans.takeView()?.kmeans?.points).toBe(3 * 5000);
  });

  it('a function processor that throws surfaces its name, its error and its own stack', async () => {
    const processor = createProcessor({
      kind: 'function',
      name: 'explode',
      source: [
        'function explode(message) {',
        '  const sequence = message.header.sequence;',
        '  throw new RangeError(`bad sequence ${sequence}`);',
        '}'
      ].join('\n')
    });
    const error = await processor
      .process(message({ kind: 'bytes', producerId: 0, sequence: 4 }, new Uint8Array(1)))
      .then(
        () => undefined,
        (reason: unknown) => reason
      );
    expect(error).toBeInstanceOf(UserFunctionError);
    expect((error as Error).name).toBe('UserFunctionError');
    expect((error as Error).message).toBe(
      'processor function "explode" threw RangeError: bad sequence 4'
    );
    const stack = (error as Error).stack ?? '';
    expect(stack.split('\n')[0]).toBe(
      'UserFunctionError: processor function "explode" threw RangeError: bad sequence 4'
    );
    expect(stack).toMatch(/at .*explode.* \(processor\.js:\d+:\d+\)/);
  });

  it('a function processor passes a thrown non-error on as its text', async () => {
    const processor = createProcessor({
      kind: 'function',
      name: 'f',
      source: '() => { throw 7; }'
    });
    await expect(
      processor.process(message({ kind: 'bytes', producerId: 0, sequence: 0 }, new Uint8Array(1)))
    ).rejects.toThrow('processor function "f" threw Error: 7');
  });

  it('a function processor whose source does not compile is refused when created', () => {
    expect(() => createProcessor({ kind: 'function', name: 'f', source: '(m) => {' })).toThrow(
      'processor: the function does not compile'
    );
  });
});
