import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReconInputError } from '../../../src/recon/errors.js';
import { encodeNpy, npyHeader, parseNpy, readNpy, writeNpy } from '../../../src/recon/npy.js';
import { tomopyReferenceDir } from '../../support/paths.js';

// Expected values below were computed once with NumPy 2.4 (np.load, np.save,
// numpy.lib.format.write_array) and pasted here.

/** A .npy file from its header dict and data bytes (hex), padded as NumPy pads. */
function npyFile(dict: string, dataHex: string, version: 1 | 2 | 3 = 1): Uint8Array {
  const preamble = version === 1 ? 10 : 12;
  const padding = 64 - ((preamble + dict.length + 1) % 64);
  const header = Buffer.from(`${dict}${' '.repeat(padding)}\n`, 'latin1');
  const prefix = Buffer.alloc(preamble);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]).copy(prefix);
  if (version === 1) prefix.writeUInt16LE(header.length, 8);
  else prefix.writeUInt32LE(header.length, 8);
  return Buffer.concat([prefix, header, Buffer.from(dataHex, 'hex')]);
}

const dict = (descr: string, shape = '(2, 3)', fortran = 'False') =>
  `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;

describe('readNpy on TomoPy fixtures', () => {
  it('reads proj.npy (float32)', async () => {
    const proj = await readNpy(join(tomopyReferenceDir, 'proj.npy'));
    expect(proj.shape).toEqual([16, 8, 48]);
    expect(proj.dtype).toBe('<f4');
    expect(proj.data).toBeInstanceOf(Float32Array);
    expect(proj.data.length).toBe(16 * 8 * 48);
    const at = (a: number, r: number, p: number) => proj.data[(a * 8 + r) * 48 + p];
    expect(at(0, 0, 0)).toBe(0);
    expect(at(0, 0, 8)).toBe(32);
    expect(at(3, 4, 20)).toBe(Math.fround(38.486076));
    expect(at(4, 0, 23)).toBe(Math.fround(44.254856)); // the maximum
    expect(at(15, 7, 42)).toBe(Math.fround(1.6410947));
    let sum = 0;
    for (const v of proj.data) sum += v;
    expect(sum).toBeCloseTo(131111.55339503288, 6);
  });

  it('reads angle.npy (float64 → float32)', async () => {
    const angle = await readNpy(join(tomopyReferenceDir, 'angle.npy'));
    expect(angle.shape).toEqual([16]);
    expect(angle.dtype).toBe('<f8');
    expect(angle.data[0]).toBe(0);
    expect(angle.data[1]).toBe(Math.fround(0.19634954084936204));
    expect(angle.data[7]).toBe(Math.fround(1.3744467));
    expect(angle.data[15]).toBe(Math.fround(2.945243112740431));
  });

  it('reads obj.npy (float64, all ones)', async () => {
    const obj = await readNpy(join(tomopyReferenceDir, 'obj.npy'));
    expect(obj.shape).toEqual([8, 32, 32]);
    expect(obj.dtype).toBe('<f8');
    expect(obj.data.length).toBe(8192);
    expect(obj.data.every(v => v === 1)).toBe(true);
  });

  it('reads every gridrec/fbp/mlem/sirt fixture as (8, 48, 48) float32', async () => {
    const names = (await readdir(tomopyReferenceDir)).filter(
      name => name.endsWith('.npy') && !['proj.npy', 'angle.npy', 'obj.npy'].includes(name)
    );
    expect(names.length).toBe(11);
    for (const name of names) {
      const array = await readNpy(join(tomopyReferenceDir, name));
      expect([name, array.shape, array.dtype]).toEqual([name, [8, 48, 48], '<f4']);
      expect(array.data.every(Number.isFinite)).toBe(true);
    }
  });
});

describe('parseNpy dtypes and versions', () => {
  // np.array([[-3, 0, 7], [100, 5, 1]], dtype) (unsigned: [[3, 0, 7], [100, 5, 1]]).
  const signed = [-3, 0, 7, 100, 5, 1];
  const unsigned = [3, 0, 7, 100, 5, 1];
  const cases: [string, string, number[]][] = [
    ['<f4', '000040c0000000000000e0400000c8420000a0400000803f', signed],
    ['>f4', 'c04000000000000040e0000042c8000040a000003f800000', signed],
    [
      '<f8',
      '00000000000008c000000000000000000000000000001c4000000000000059400000000000001440000000000000f03f',
      signed
    ],
    [
      '>f8',
      'c0080000000000000000000000000000401c000000000000405900000000000040140000000000003ff0000000000000',
      signed
    ],
    ['<i2', 'fdff00000700640005000100', signed],
    ['>i2', 'fffd00000007006400050001', signed],
    ['<u2', '030000000700640005000100', unsigned],
    ['>u2', '000300000007006400050001', unsigned],
    ['<i4', 'fdffffff0000000007000000640000000500000001000000', signed],
    ['>i4', 'fffffffd0000000000000007000000640000000500000001', signed],
    ['<u4', '030000000000000007000000640000000500000001000000', unsigned],
    ['>u4', '000000030000000000000007000000640000000500000001', unsigned],
    ['|u1', '030007640501', unsigned],
    ['|i1', 'fd0007640501', signed]
  ];
  for (const [descr, hex, expected] of cases) {
    it(`converts ${descr} to float32`, () => {
      const array = parseNpy(npyFile(dict(descr), hex), `x${descr}.npy`);
      expect(array.shape).toEqual([2, 3]);
      expect(array.dtype).toBe(descr);
      expect(Array.from(array.data)).toEqual(expected);
    });
  }

  it('reads header versions 2.0 and 3.0', () => {
    // np.array([1.5, -2.25], '<f4') written with version=(2, 0) and (3, 0).
    for (const version of [2, 3] as const) {
      const array = parseNpy(npyFile(dict('<f4', '(2,)'), '0000c03f000010c0', version), 'v.npy');
      expect(Array.from(array.data)).toEqual([1.5, -2.25]);
      expect(array.shape).toEqual([2]);
    }
  });

  it('reads a 0-d array and an empty array', () => {
    expect(Array.from(parseNpy(npyFile(dict('<f4', '()'), '0000c03f'), 's.npy').data)).toEqual([
      1.5
    ]);
    const empty = parseNpy(npyFile(dict('<f4', '(0, 4)'), ''), 'e.npy');
    expect([empty.shape, empty.data.length]).toEqual([[0, 4], 0]);
  });

  it('parses a view at an odd offset (angle.npy, float64 unaligned)', async () => {
    const bytes = await readFile(join(tomopyReferenceDir, 'angle.npy'));
    // Copy into an odd offset of a larger buffer: the float64 reader must not need alignment.
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const array = parseNpy(shifted.subarray(1), 'angle.npy');
    expect(array.data[15]).toBe(Math.fround(2.945243112740431));
  });
});

describe('parseNpy errors', () => {
  const fail = (bytes: Uint8Array) => {
    try {
      parseNpy(bytes, 'bad.npy');
    } catch (error) {
      expect(error).toBeInstanceOf(ReconInputError);
      return (error as Error).message;
    }
    throw new Error('parseNpy accepted bad input');
  };

  it('rejects a file without the magic', () => {
    expect(fail(Buffer.from('hello world, not numpy'))).toMatch(
      /^bad\.npy is not a NumPy \.npy file/
    );
    expect(fail(new Uint8Array(0))).toMatch(/not a NumPy \.npy file/);
  });

  it('rejects an unknown version', () => {
    const bytes = npyFile(dict('<f4'), '');
    bytes[6] = 4;
    expect(fail(bytes)).toBe(
      'bad.npy: .npy format version 4.0 is not supported (expected 1.0, 2.0 or 3.0)'
    );
  });

  it('rejects fortran_order True', () => {
    // np.asfortranarray(np.arange(6, dtype='<f4').reshape(2, 3))
    expect(fail(npyFile(dict('<f4', '(2, 3)', 'True'), '00'.repeat(24)))).toMatch(
      /^bad\.npy: fortran_order is True; only C-order arrays are supported/
    );
  });

  it('names an unsupported dtype and lists the supported ones', () => {
    for (const descr of ['<f2', '<c8', '<i8', '|b1', '|f4']) {
      const message = fail(npyFile(dict(descr, '(2,)'), '00'.repeat(16)));
      expect(message).toContain(`dtype "${descr}" is not supported`);
      expect(message).toContain("'<f4', '<f8', '<i2', '<u2', '<i4', '<u4', '|u1', '|i1'");
    }
    const structured = "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }";
    expect(fail(npyFile(structured, '00'.repeat(8)))).toMatch(
      /structured dtypes are not supported/
    );
  });

  it('says how short the data is', () => {
    expect(fail(npyFile(dict('<f8'), '00'.repeat(47)))).toBe(
      'bad.npy: shape (2, 3) of <f8 needs 48 data bytes but the file holds 47'
    );
  });

  it('rejects a header that overruns the file or is not a dict', () => {
    const bytes = npyFile(dict('<f4'), '');
    expect(fail(bytes.subarray(0, 40))).toMatch(/header says it is 118 bytes long/);
    expect(fail(npyFile("{'descr': '<f4', 'shape': (2,), }", '00'.repeat(8)))).toMatch(
      /malformed \.npy header \(no 'fortran_order'/
    );
    expect(fail(npyFile('[1, 2]', ''))).toMatch(/malformed \.npy header/);
  });
});

describe('writeNpy', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recon-npy-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the bytes NumPy writes (np.save of a float32 (16, 8, 48) array)', () => {
    const expected =
      '934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a202831362c20382c203438292c207d' +
      '20'.repeat(53) +
      '0a';
    expect(Buffer.from(npyHeader([16, 8, 48])).toString('hex')).toBe(expected);
  });

  it('matches NumPy headers for 0-d, 1-d, huge and exactly aligned shapes', () => {
    const header = (shape: number[]) => Buffer.from(npyHeader(shape)).toString('latin1');
    const numpy = (shapeRepr: string, spaces: number, length = 118) =>
      `\x93NUMPY\x01\x00${String.fromCharCode(length)}\x00{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeRepr}, }${' '.repeat(spaces)}\n`;
    expect(header([])).toBe(numpy('()', 62));
    expect(header([16])).toBe(numpy('(16,)', 59));
    expect(header([3, 2])).toBe(numpy('(3, 2)', 58));
    expect(header([123456789012, 2])).toBe(numpy('(123456789012, 2)', 47));
    // Already 64-aligned before padding: NumPy still pads a full 64 bytes (header length 246).
    const aligned = [1, ...Array<number>(15).fill(2), ...Array<number>(15).fill(30)];
    const text = header(aligned);
    expect(text.length).toBe(256);
    expect(text.charCodeAt(8)).toBe(246);
    expect(text.endsWith(`30), }${' '.repeat(20 + 64)}\n`)).toBe(true);
  });

  it('round-trips through readNpy and leaves no temporary file', async () => {
    const data = Float32Array.from({ length: 2 * 3 * 5 }, (_, i) => (i - 7) * 0.37);
    const path = join(dir, 'out.npy');
    await writeNpy(path, [2, 3, 5], data);
    const back = await readNpy(path);
    expect(back.shape).toEqual([2, 3, 5]);
    expect(back.dtype).toBe('<f4');
    expect(Array.from(back.data)).toEqual(Array.from(data));
    expect(await readdir(dir)).toEqual(['out.npy']);
    const bytes = await readFile(path);
    expect(bytes.length).toBe(128 + 30 * 4);
    expect(Buffer.from(bytes).equals(Buffer.from(encodeNpy([2, 3, 5], data)))).toBe(true);
  });

  it('replaces an existing file atomically', async () => {
    const path = join(dir, 'out.npy');
    await writeFile(path, 'old');
    await writeNpy(path, [1], Float32Array.of(4));
    expect(Array.from((await readNpy(path)).data)).toEqual([4]);
    expect(await readdir(dir)).toEqual(['out.npy']);
  });

  it('refuses a shape that does not match the data and writes nothing', async () => {
    const path = join(dir, 'bad.npy');
    await expect(writeNpy(path, [2, 2], new Float32Array(5))).rejects.toThrow(
      `${path}: shape (2, 2) holds 4 values but the data has 5`
    );
    await expect(writeNpy(path, [-1], new Float32Array(0))).rejects.toThrow(ReconInputError);
    expect(await readdir(dir)).toEqual([]);
  });

  it('removes the temporary file when the rename fails', async () => {
    // Renaming a file onto a non-empty directory fails after the temporary file was written.
    const path = join(dir, 'target');
    await mkdir(path);
    await writeFile(join(path, 'keep'), '');
    await expect(writeNpy(path, [1], Float32Array.of(1))).rejects.toThrow();
    expect(await readdir(dir)).toEqual(['target']);
  });

  it('names a missing directory', async () => {
    const path = join(dir, 'missing', 'out.npy');
    await expect(writeNpy(path, [1], Float32Array.of(1))).rejects.toThrow(
      `cannot write ${path}: directory ${join(dir, 'missing')} does not exist`
    );
  });
});

describe('readNpy errors', () => {
  it('says a missing file does not exist', async () => {
    const path = join(tmpdir(), 'recon-npy-no-such-file.npy');
    await expect(readNpy(path)).rejects.toThrow(new ReconInputError(`file ${path} does not exist`));
  });

  it('names the file when it is not an .npy', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'recon-npy-'));
    try {
      const path = join(dir, 'text.npy');
      await writeFile(path, 'just some text\n');
      await expect(readNpy(path)).rejects.toThrow(`${path} is not a NumPy .npy file`);
      await expect(readNpy(dir)).rejects.toThrow(`cannot read ${dir}:`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
