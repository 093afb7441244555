import { afterEach, describe, expect, it, vi } from 'vitest';
import { MiniAppInputError } from '../../../../src/miniapps/errors.js';
import {
  decodeMessage,
  DTYPES,
  encodeMessage,
  epochMillisNow,
  FIXED_HEADER_BYTES,
  messageSize,
  messageToJson,
  newRunId,
  numpyDtype,
  type Dtype,
  type MessageHeader,
  type PayloadArray
} from '../../../../src/miniapps/messages/format.js';

const RUN = '00112233-4455-6677-8899-aabbccddeeff';

const base = { runId: RUN, producerId: 7, sequence: 258, sendTimeMs: 1_700_000_000_000.5 };

function arrayOf(dtype: Dtype, values: number[]): PayloadArray {
  switch (dtype) {
    case 'float32':
      return Float32Array.from(values);
    case 'float64':
      return Float64Array.from(values);
    case 'uint8':
      return Uint8Array.from(values);
    case 'int16':
      return Int16Array.from(values);
    case 'uint16':
      return Uint16Array.from(values);
    case 'int32':
      return Int32Array.from(values);
  }
}

/** The same bytes at `byteOffset` inside a larger ArrayBuffer, as kafkajs hands them out. */
function atOffset(bytes: Uint8Array, byteOffset: number): Buffer {
  const backing = new ArrayBuffer(byteOffset + bytes.byteLength + 5);
  const placed = Buffer.from(backing, byteOffset, bytes.byteLength);
  placed.set(bytes);
  return placed;
}

/** Hex digits with `# comments` to the end of the line. */
function hex(text: string): Buffer {
  return Buffer.from(text.replace(/#.*$/gm, '').replace(/\s+/g, ''), 'hex');
}

function expectInputError(run: () => unknown, message: string | RegExp): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(MiniAppInputError);
  expect((caught as Error).name).toBe('MiniAppInputError');
  if (typeof message === 'string') expect((caught as Error).message).toBe(message);
  else expect((caught as Error).message).toMatch(message);
}

/** Overwrites bytes of a copy of `message`. */
function patched(message: Buffer, edit: (copy: Buffer) => void): Buffer {
  const copy = Buffer.from(message);
  edit(copy);
  return copy;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('round trips', () => {
  it('points: n × d float64', () => {
    const points = Float64Array.from({ length: 12 }, (_, i) => i * 0.25 - 1);
    const decoded = decodeMessage(
      encodeMessage({ ...base, kind: 'points', shape: [4, 3] }, points)
    );
    expect(decoded.header).toEqual({
      version: 1,
      kind: 'points',
      dtype: 'float64',
      shape: [4, 3],
      runId: RUN,
      producerId: 7,
      sequence: 258,
      sendTimeMs: 1_700_000_000_000.5,
      payloadOffset: 64,
      payloadBytes: 96
    });
    expect(decoded.payload).toBeInstanceOf(Float64Array);
    expect(Array.from(decoded.payload)).toEqual(Array.from(points));
  });

  it('sinograms: slices × angles × pixels float32 with geometry', () => {
    const block = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i / 7);
    const angles = [0, Math.PI / 3, (2 * Math.PI) / 3];
    const decoded = decodeMessage(
      encodeMessage(
        {
          ...base,
          kind: 'sinograms',
          shape: [2, 3, 4],
          geometry: { angles, firstRow: 40, rotationCenter: 1.75 }
        },
        block
      )
    );
    expect(decoded.header.kind).toBe('sinograms');
    expect(decoded.header.dtype).toBe('float32');
    expect(decoded.header.shape).toEqual([2, 3, 4]);
    expect(Array.from(decoded.header.geometry!.angles)).toEqual(angles.map(Math.fround));
    expect(decoded.header.geometry!.firstRow).toBe(40);
    expect(decoded.header.geometry!.rotationCenter).toBe(1.75);
    expect(decoded.header.payloadOffset % 8).toBe(0);
    expect(Array.from(decoded.payload)).toEqual(Array.from(block));
  });

  it('projections: angles × rows × pixels float32, rotation centre unknown by default', () => {
    const block = Float32Array.from({ length: 3 * 2 * 5 }, (_, i) => -i);
    const decoded = decodeMessage(
      encodeMessage(
        { ...base, kind: 'projections', shape: [3, 2, 5], geometry: { angles: [0, 0.1, 0.2] } },
        block
      )
    );
    expect(decoded.header.kind).toBe('projections');
    expect(decoded.header.geometry!.firstRow).toBe(0);
    expect(decoded.header.geometry!.rotationCenter).toBeNaN();
    expect(Array.from(decoded.payload)).toEqual(Array.from(block));
  });

  it('light-source kinds without geometry', () => {
    const block = new Float32Array(8).fill(2);
    const decoded = decodeMessage(
      encodeMessage({ ...base, kind: 'sinograms', shape: [2, 2, 2] }, block)
    );
    expect(decoded.header.geometry).toBeUndefined();
    expect(decoded.header.payloadOffset).toBe(FIXED_HEADER_BYTES + 12 + 4); // padded 68 → 72
  });

  it('bytes: opaque, exact size, shape defaults to the length', () => {
    for (const length of [0, 1, 7, 8, 9, 1000]) {
      const payload = Buffer.from(Array.from({ length }, (_, i) => (i * 31) % 256));
      const decoded = decodeMessage(encodeMessage({ ...base, kind: 'bytes' }, payload));
      expect(decoded.header.shape).toEqual([length]);
      expect(decoded.header.payloadBytes).toBe(length);
      expect(decoded.payload).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(decoded.payload).equals(payload)).toBe(true);
    }
  });

  it.each(DTYPES)('custom %s with a UTF-8 label', dtype => {
    const payload = arrayOf(dtype, [0, 1, 2, 3, 4, 5, 100, 7]);
    const label = `plug-in ${dtype} — Ω`;
    const decoded = decodeMessage(
      encodeMessage({ ...base, kind: 'custom', shape: [2, 2, 2], label }, payload)
    );
    expect(decoded.header.dtype).toBe(dtype);
    expect(decoded.header.label).toBe(label);
    expect(decoded.header.shape).toEqual([2, 2, 2]);
    expect(decoded.payload.constructor).toBe(payload.constructor);
    expect(Array.from(decoded.payload)).toEqual(Array.from(payload));
  });

  it('custom with rank 0 (a scalar) and without a label', () => {
    const decoded = decodeMessage(
      encodeMessage({ ...base, kind: 'custom', shape: [] }, Int32Array.of(-5))
    );
    expect(decoded.header.shape).toEqual([]);
    expect(decoded.header.label).toBeUndefined();
    expect(Array.from(decoded.payload)).toEqual([-5]);
  });

  it('keeps extreme header values', () => {
    const header: MessageHeader = {
      kind: 'bytes',
      runId: 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
      producerId: 0xffff_ffff,
      sequence: Number.MAX_SAFE_INTEGER,
      sendTimeMs: 0
    };
    const decoded = decodeMessage(encodeMessage(header, new Uint8Array(3)));
    expect(decoded.header.runId).toBe('ffffffff-ffff-ffff-ffff-ffffffffffff'); // canonical case
    expect(decoded.header.producerId).toBe(0xffff_ffff);
    expect(decoded.header.sequence).toBe(Number.MAX_SAFE_INTEGER);
    expect(decoded.header.sendTimeMs).toBe(0);
  });

  it('stamps the send time at encoding when none is given', () => {
    const before = epochMillisNow();
    const decoded = decodeMessage(
      encodeMessage({ kind: 'bytes', runId: newRunId(), producerId: 0, sequence: 0 }, Buffer.of(1))
    );
    const after = epochMillisNow();
    expect(decoded.header.sendTimeMs).toBeGreaterThanOrEqual(before);
    expect(decoded.header.sendTimeMs).toBeLessThanOrEqual(after);
    expect(Math.abs(decoded.header.sendTimeMs - Date.now())).toBeLessThan(1000);
  });

  it('encodes a payload that is itself a view at an offset', () => {
    const backing = new Float64Array([9, 9, 1, 2, 3, 4, 9]);
    const view = backing.subarray(2, 6);
    const decoded = decodeMessage(encodeMessage({ ...base, kind: 'points', shape: [2, 2] }, view));
    expect(Array.from(decoded.payload)).toEqual([1, 2, 3, 4]);
  });
});

describe('zero-copy decoding', () => {
  it.each(DTYPES)('%s: the payload is a view of the input when aligned', dtype => {
    const encoded = encodeMessage(
      { ...base, kind: 'custom', shape: [4] },
      arrayOf(dtype, [1, 2, 3, 4])
    );
    const decoded = decodeMessage(encoded);
    expect(decoded.payloadCopied).toBe(false);
    expect(decoded.payload.buffer).toBe(encoded.buffer);
    expect(decoded.payload.byteOffset).toBe(encoded.byteOffset + decoded.header.payloadOffset);
  });

  it('a Buffer at byteOffset 3 inside a bigger ArrayBuffer: an aligned, correct copy', () => {
    const points = Float64Array.from({ length: 30 }, (_, i) => Math.sqrt(i) - 2);
    const encoded = encodeMessage({ ...base, kind: 'points', shape: [10, 3] }, points);
    const shifted = atOffset(encoded, 3);
    expect(shifted.byteOffset).toBe(3);
    const decoded = decodeMessage(shifted);
    expect(decoded.payloadCopied).toBe(true);
    expect(decoded.payload.buffer).not.toBe(shifted.buffer);
    expect(decoded.payload.byteOffset % 8).toBe(0);
    expect(Array.from(decoded.payload)).toEqual(Array.from(points));
    expect(decoded.header).toEqual(decodeMessage(encoded).header);
  });

  it('aligned for the dtype is enough: float32 at byteOffset 4, uint8 at byteOffset 3', () => {
    const floats = encodeMessage(
      { ...base, kind: 'sinograms', shape: [1, 2, 2] },
      Float32Array.of(1, 2, 3, 4)
    );
    const at4 = atOffset(floats, 4);
    const decodedFloats = decodeMessage(at4);
    expect(decodedFloats.payloadCopied).toBe(false);
    expect(decodedFloats.payload.buffer).toBe(at4.buffer);
    expect(Array.from(decodedFloats.payload)).toEqual([1, 2, 3, 4]);

    const bytes = atOffset(encodeMessage({ ...base, kind: 'bytes' }, Buffer.of(5, 6, 7)), 3);
    const decodedBytes = decodeMessage(bytes);
    expect(decodedBytes.payloadCopied).toBe(false);
    expect(Array.from(decodedBytes.payload)).toEqual([5, 6, 7]);
  });

  it('several messages packed back to back in one fetched batch', () => {
    const messages = [1, 2, 3].map(sequence =>
      encodeMessage(
        { ...base, sequence, kind: 'custom', label: 'x'.repeat(sequence) },
        Int16Array.of(sequence, -sequence, 3)
      )
    );
    const batch = Buffer.concat([Buffer.of(0, 0, 0), ...messages]);
    let offset = 3;
    for (const [i, message] of messages.entries()) {
      const slice = batch.subarray(offset, offset + message.length);
      offset += message.length;
      const decoded = decodeMessage(slice);
      expect(decoded.header.sequence).toBe(i + 1);
      expect(decoded.header.label).toBe('x'.repeat(i + 1));
      expect(Array.from(decoded.payload)).toEqual([i + 1, -(i + 1), 3]);
    }
  });
});

describe('the documented byte layout (golden messages)', () => {
  it('points [1, 2] float64', () => {
    const encoded = encodeMessage(
      { ...base, kind: 'points', shape: [1, 2] },
      Float64Array.of(1.5, -2)
    );
    const expected = hex(`
      50534d41                          # magic "PSMA"
      01 01 02 02                       # version 1, kind 1 points, dtype 2 float64, rank 2
      00112233445566778899aabbccddeeff  # run id
      07000000                          # producer id 7
      40000000                          # payload offset 64
      0201000000000000                  # sequence 258
      00088056febc7842                  # send time 1700000000000.5
      10000000                          # payload bytes 16
      00 00 0000                        # flags, label length, reserved
      01000000 02000000                 # shape
      000000000000f83f 00000000000000c0 # payload 1.5, -2
    `);
    expect(encoded.toString('hex')).toBe(expected.toString('hex'));
  });

  it('sinograms [1, 2, 1] float32 with geometry and padding', () => {
    const encoded = encodeMessage(
      {
        runId: RUN,
        producerId: 1,
        sequence: 0,
        sendTimeMs: 1,
        kind: 'sinograms',
        shape: [1, 2, 1],
        geometry: { angles: [0, 0.5], firstRow: 3 }
      },
      Float32Array.of(0.5, 0.25)
    );
    const expected = hex(`
      50534d41 01 02 01 03              # magic, version 1, kind 2 sinograms, dtype 1 float32, rank 3
      00112233445566778899aabbccddeeff  # run id
      01000000                          # producer id 1
      60000000                          # payload offset 96
      0000000000000000                  # sequence 0
      000000000000f03f                  # send time 1.0
      08000000                          # payload bytes 8
      01 00 0000                        # flags (geometry), label length, reserved
      01000000 02000000 01000000        # shape
      02000000                          # angle count 2
      00000000 0000003f                 # angles 0, 0.5
      03000000                          # first row 3
      000000000000f87f                  # rotation centre NaN
      00000000                          # padding to 96
      0000003f 0000803e                 # payload 0.5, 0.25
    `);
    expect(encoded.toString('hex')).toBe(expected.toString('hex'));
  });

  it('custom int16 [2] with the label "ab"', () => {
    const encoded = encodeMessage(
      {
        runId: RUN,
        producerId: 2,
        sequence: 1,
        sendTimeMs: 1,
        kind: 'custom',
        label: 'ab'
      },
      Int16Array.of(1, -1)
    );
    const expected = hex(`
      50534d41 01 05 04 01              # magic, version 1, kind 5 custom, dtype 4 int16, rank 1
      00112233445566778899aabbccddeeff  # run id
      02000000                          # producer id 2
      40000000                          # payload offset 64
      0100000000000000                  # sequence 1
      000000000000f03f                  # send time 1.0
      04000000                          # payload bytes 4
      00 02 0000                        # flags, label length 2, reserved
      02000000                          # shape
      6162                              # label "ab"
      0000                              # padding to 64
      0100 ffff                         # payload 1, -1
    `);
    expect(encoded.toString('hex')).toBe(expected.toString('hex'));
  });

  it('NumPy dtype strings for the documented dtype codes', () => {
    expect(DTYPES.map(numpyDtype)).toEqual(['<f4', '<f8', '|u1', '<i2', '<u2', '<i4']);
  });
});

describe('messageSize', () => {
  const cases: Array<[MessageHeader, PayloadArray]> = [
    [{ ...base, kind: 'points', shape: [5, 3] }, new Float64Array(15)],
    [{ ...base, kind: 'bytes' }, new Uint8Array(13)],
    [
      {
        ...base,
        kind: 'projections',
        shape: [7, 2, 3],
        geometry: { angles: new Array(7).fill(0) }
      },
      new Float32Array(42)
    ],
    [{ ...base, kind: 'custom', shape: [3], label: 'éé' }, new Uint16Array(3)]
  ];
  it.each(cases)('equals the encoded length (%#)', (header, payload) => {
    expect(messageSize(header, payload.byteLength)).toBe(encodeMessage(header, payload).length);
  });

  it('rejects a negative payload size', () => {
    expectInputError(
      () => messageSize({ ...base, kind: 'bytes' }, -1),
      'payloadBytes = -1 is not allowed; expected a non-negative integer'
    );
  });
});

describe('messageToJson', () => {
  it('numbers as arrays, NaN as null', () => {
    const decoded = decodeMessage(
      encodeMessage(
        {
          ...base,
          kind: 'sinograms',
          shape: [1, 2, 1],
          geometry: { angles: [0, 0.5], firstRow: 2 }
        },
        Float32Array.of(0.5, Number.NaN)
      )
    );
    expect(JSON.parse(messageToJson(decoded))).toEqual({
      magic: 'PSMA',
      version: 1,
      kind: 'sinograms',
      dtype: 'float32',
      shape: [1, 2, 1],
      runId: RUN,
      producerId: 7,
      sequence: 258,
      sendTimeMs: 1_700_000_000_000.5,
      geometry: { angles: [0, 0.5], firstRow: 2, rotationCenter: null },
      payload: [0.5, null]
    });
  });

  it('custom payloads keep their label', () => {
    const decoded = decodeMessage(
      encodeMessage({ ...base, kind: 'custom', label: 'cam' }, Uint16Array.of(65535, 1))
    );
    const json = JSON.parse(messageToJson(decoded));
    expect(json.label).toBe('cam');
    expect(json.dtype).toBe('uint16');
    expect(json.payload).toEqual([65535, 1]);
  });
});

describe('decoding errors', () => {
  const valid = encodeMessage({ ...base, kind: 'points', shape: [2, 2] }, new Float64Array(4));

  it('wrong magic', () => {
    expectInputError(
      () => decodeMessage(Buffer.from('{"points": [1, 2, 3]}')),
      'not a Mini-App message: it starts with 0x7b22706f696e7473… (21 bytes), expected the magic "PSMA"'
    );
    expectInputError(
      () => decodeMessage(new Uint8Array(0)),
      'not a Mini-App message: it starts with nothing (0 bytes), expected the magic "PSMA"'
    );
    expectInputError(() => decodeMessage(Buffer.from('PS')), /^not a Mini-App message: /);
  });

  it('unknown version', () => {
    expectInputError(
      () => decodeMessage(patched(valid, m => (m[4] = 2))),
      'message format version 2 is not supported (expected 1)'
    );
  });

  it('unknown kind and dtype', () => {
    expectInputError(
      () => decodeMessage(patched(valid, m => (m[5] = 0))),
      'payload kind = 0 (byte 5) is unknown; expected 1 (points), 2 (sinograms), 3 (projections), 4 (bytes), 5 (custom)'
    );
    expectInputError(
      () => decodeMessage(patched(valid, m => (m[6] = 9))),
      'dtype = 9 (byte 6) is unknown; expected 1 (float32), 2 (float64), 3 (uint8), 4 (int16), 5 (uint16), 6 (int32)'
    );
  });

  it('truncated messages name the bytes expected and found', () => {
    expectInputError(
      () => decodeMessage(valid.subarray(0, 4)),
      'truncated message: the fixed header needs 56 bytes but the message has 4'
    );
    expectInputError(
      () => decodeMessage(valid.subarray(0, 30)),
      'truncated message: the fixed header needs 56 bytes but the message has 30'
    );
    expectInputError(
      () => decodeMessage(valid.subarray(0, 60)),
      'truncated message: the shape (rank 2) needs 64 bytes but the message has 60'
    );
    expectInputError(
      () => decodeMessage(valid.subarray(0, valid.length - 1)),
      'truncated message: the header and payload needs 96 bytes but the message has 95'
    );
    const sinogram = encodeMessage(
      { ...base, kind: 'sinograms', shape: [1, 3, 1], geometry: { angles: [0, 1, 2] } },
      new Float32Array(3)
    );
    expectInputError(
      () => decodeMessage(sinogram.subarray(0, 80)),
      'truncated message: the geometry section needs 96 bytes but the message has 80'
    );
  });

  it('bytes after the payload', () => {
    expectInputError(
      () => decodeMessage(Buffer.concat([valid, Buffer.of(0)])),
      'message is 97 bytes but its header and payload are 96; 1 unexpected bytes after the payload'
    );
  });

  it('shape × dtype size different from the payload size', () => {
    expectInputError(
      () => decodeMessage(patched(valid, m => m.writeUInt32LE(3, 56))),
      'shape [3, 2] of float64 needs 48 payload bytes but the header says the payload is 32'
    );
  });

  it('a dtype or rank the kind does not allow', () => {
    expectInputError(
      () => decodeMessage(patched(valid, m => (m[6] = 1))),
      'dtype = float32 is not allowed for kind points; expected float64 (send other dtypes as kind custom)'
    );
  });

  it('non-finite or negative send time', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, -1]) {
      expectInputError(
        () => decodeMessage(patched(valid, m => m.writeDoubleLE(bad, 40))),
        `sendTimeMs = ${bad} is not allowed; expected a finite, non-negative number of milliseconds since the Unix epoch`
      );
    }
  });

  it('a sequence number above 2^53 - 1', () => {
    expectInputError(
      () => decodeMessage(patched(valid, m => m.writeBigUInt64LE(2n ** 53n, 32))),
      'sequence = 9007199254740992 is above 2^53 - 1; expected a safe integer'
    );
  });

  it('unknown flags, a wrong payload offset, a label that is not UTF-8', () => {
    expectInputError(
      () => decodeMessage(patched(valid, m => (m[52] = 0x80))),
      'flags = 0x80 (byte 52) has unknown bits; expected 0x00 or 0x01 (geometry)'
    );
    expectInputError(
      () => decodeMessage(patched(valid, m => m.writeUInt32LE(72, 28))),
      'payload offset = 72 (bytes 28-31) does not match the header layout, which puts the payload at 64'
    );
    const custom = encodeMessage({ ...base, kind: 'custom', label: 'ab' }, new Uint8Array(1));
    expectInputError(
      () => decodeMessage(patched(custom, m => (m[60] = 0xff))),
      'label (2 bytes after the shape) is not valid UTF-8'
    );
  });
});

describe('encoding errors', () => {
  const points: MessageHeader = { ...base, kind: 'points', shape: [2, 2] };
  const four = new Float64Array(4);

  it('header fields out of range', () => {
    expectInputError(
      () => encodeMessage({ ...points, runId: 'run-1' }, four),
      'runId = "run-1" is not a UUID; expected e.g. "0f8fad5b-d9cb-469f-a165-70867728950e"'
    );
    expectInputError(
      () => encodeMessage({ ...points, producerId: -1 }, four),
      'producerId = -1 is not allowed; expected an integer from 0 to 4294967295'
    );
    expectInputError(
      () => encodeMessage({ ...points, producerId: 2 ** 32 }, four),
      'producerId = 4294967296 is not allowed; expected an integer from 0 to 4294967295'
    );
    for (const sequence of [-1, 1.5, 2 ** 53]) {
      expectInputError(
        () => encodeMessage({ ...points, sequence }, four),
        `sequence = ${sequence} is not allowed; expected an integer from 0 to 2^53 - 1`
      );
    }
    for (const sendTimeMs of [Number.NaN, -0.5, Number.NEGATIVE_INFINITY]) {
      expectInputError(
        () => encodeMessage({ ...points, sendTimeMs }, four),
        `sendTimeMs = ${sendTimeMs} is not allowed; expected a finite, non-negative number of milliseconds since the Unix epoch`
      );
    }
    expectInputError(
      () => encodeMessage({ ...points, kind: 'matrix' as 'points' }, four),
      'kind = "matrix" is unknown; expected one of points, sinograms, projections, bytes, custom'
    );
  });

  it('shape × dtype size different from the payload size', () => {
    expectInputError(
      () => encodeMessage({ ...points, shape: [3, 2] }, four),
      'shape [3, 2] of float64 needs 48 payload bytes but the payload holds 32'
    );
    expectInputError(
      () => encodeMessage({ ...points, shape: [2, 2.5] }, four),
      'shape[1] = 2.5 is not allowed; expected an integer from 0 to 4294967295'
    );
  });

  it('dtype, rank, geometry and label rules of the kinds', () => {
    expectInputError(
      () => encodeMessage(points, new Float32Array(4)),
      'dtype = float32 is not allowed for kind points; expected float64 (send other dtypes as kind custom)'
    );
    expectInputError(
      () => encodeMessage({ ...points, shape: [4] }, four),
      'shape = [4] is not allowed for kind points; expected 2 axes [points, dimensions]'
    );
    expectInputError(
      () => encodeMessage({ ...points, geometry: { angles: [0, 1] } }, four),
      'geometry is not allowed for kind points; expected it only for sinograms and projections'
    );
    expectInputError(
      () =>
        encodeMessage(
          { ...base, kind: 'sinograms', shape: [1, 3, 2], geometry: { angles: [0, 1] } },
          new Float32Array(6)
        ),
      'geometry.angles has 2 angles but shape [slices, angles, pixels] = [1, 3, 2] has 3; expected one angle per projection'
    );
    expectInputError(
      () =>
        encodeMessage(
          {
            ...base,
            kind: 'projections',
            shape: [1, 1, 1],
            geometry: { angles: [0], rotationCenter: Infinity }
          },
          new Float32Array(1)
        ),
      'geometry.rotationCenter = Infinity is not allowed; expected a finite number of pixels, or NaN when unknown'
    );
    expectInputError(
      () => encodeMessage({ ...points, label: 'kmeans' }, four),
      'label = "kmeans" is not allowed for kind points; expected a label only for kind custom'
    );
    expectInputError(
      () => encodeMessage({ ...base, kind: 'custom', label: 'é'.repeat(128) }, four),
      'label is 256 bytes of UTF-8; expected at most 255'
    );
    expectInputError(
      () => encodeMessage({ ...base, kind: 'custom', shape: new Array(65).fill(1) }, Buffer.of(1)),
      'shape has 65 axes; expected at most 64'
    );
  });

  it('unsupported payload arrays', () => {
    expectInputError(
      () => encodeMessage({ ...base, kind: 'custom' }, new Int8Array(2) as unknown as Uint8Array),
      'payload is a Int8Array; expected a Float32Array, Float64Array, Uint8Array (or Buffer), Int16Array, Uint16Array or Int32Array'
    );
  });
});

describe('large messages: one allocation, zero-copy decoding', () => {
  it('5,000 × 3 float64 points (120 kB)', () => {
    const points = Float64Array.from({ length: 15_000 }, (_, i) => Math.sin(i));
    const header: MessageHeader = { ...base, kind: 'points', shape: [5000, 3] };
    const allocations = spyOnBufferAllocation();
    const encoded = encodeMessage(header, points);
    expect(allocations()).toEqual(['allocUnsafeSlow']);
    expect(encoded.length).toBe(messageSize(header, points.byteLength));
    expect(encoded.length).toBe(64 + 120_000);

    const decoded = decodeMessage(encoded);
    expect(decoded.payloadCopied).toBe(false);
    expect(decoded.payload.buffer).toBe(encoded.buffer);
    expect(sameBytes(decoded.payload, points)).toBe(true);
  });

  it('2 MB sinogram blocks with 256 angles', () => {
    const angles = Float32Array.from({ length: 256 }, (_, i) => (i * Math.PI) / 256);
    const allocations = spyOnBufferAllocation();
    for (let sequence = 0; sequence < 3; sequence++) {
      const block = new Float32Array(8 * 256 * 256);
      for (let i = 0; i < block.length; i += 997) block[i] = i + sequence;
      const header: MessageHeader = {
        ...base,
        sequence,
        kind: 'sinograms',
        shape: [8, 256, 256],
        geometry: { angles, firstRow: 8 * sequence, rotationCenter: 127.5 }
      };
      const before = allocations().length;
      const encoded = encodeMessage(header, block);
      expect(allocations().slice(before)).toEqual(['allocUnsafeSlow']);
      expect(encoded.length).toBe(messageSize(header, block.byteLength));
      expect(encoded.length - block.byteLength).toBe(1112); // 56 + 12 + 1040, padded to 8

      const decoded = decodeMessage(encoded);
      expect(decoded.payloadCopied).toBe(false);
      expect(decoded.payload.buffer).toBe(encoded.buffer);
      expect(decoded.header.geometry!.angles).toEqual(angles);
      expect(decoded.header.geometry!.firstRow).toBe(8 * sequence);
      expect(sameBytes(decoded.payload, block)).toBe(true);
    }
  });
});

/** Byte-wise equality; toEqual() on half a million elements takes seconds. */
function sameBytes(a: PayloadArray, b: PayloadArray): boolean {
  const bytes = (x: PayloadArray) => new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  return a.constructor === b.constructor && Buffer.compare(bytes(a), bytes(b)) === 0;
}

/** Records calls of the Buffer allocation functions from now on. */
function spyOnBufferAllocation(): () => string[] {
  const calls: string[] = [];
  for (const name of ['alloc', 'allocUnsafe', 'allocUnsafeSlow', 'from', 'concat'] as const) {
    const original = Buffer[name] as (...args: unknown[]) => unknown;
    vi.spyOn(Buffer, name).mockImplementation(((...args: unknown[]) => {
      calls.push(name);
      return original.apply(Buffer, args);
    }) as never);
  }
  return () => [...calls];
}
