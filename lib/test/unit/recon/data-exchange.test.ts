import { copyFile, mkdtemp, open, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readDataExchange } from '../../../src/recon/data-exchange.js';
import { ReconInputError } from '../../../src/recon/errors.js';
import { sharedDataDir } from '../../support/paths.js';

const tooth = join(sharedDataDir, 'tooth.h5');

// Reference values computed once with h5py 3.16 / NumPy 2.4 and pasted here.
describe('readDataExchange on tooth.h5', () => {
  it('reads projections, flats, darks and theta with their shapes', async () => {
    const read = await readDataExchange(tooth);
    expect([read.projections.angles, read.projections.rows, read.projections.pixels]).toEqual([
      181, 2, 640
    ]);
    expect([read.white.angles, read.white.rows, read.white.pixels]).toEqual([10, 2, 640]);
    expect([read.dark.angles, read.dark.rows, read.dark.pixels]).toEqual([10, 2, 640]);
    expect(read.projections.data.length).toBe(181 * 2 * 640);

    const at = (data: Float32Array, a: number, r: number, p: number) => data[(a * 2 + r) * 640 + p];
    const data = read.projections.data;
    expect([at(data, 0, 0, 0), at(data, 0, 0, 1), at(data, 0, 0, 2)]).toEqual([
      26963.25, 28432.75, 27741.0
    ]);
    expect(at(data, 100, 1, 300)).toBe(10425.75);
    expect(at(data, 180, 1, 639)).toBe(27192.0);
    expect(at(data, 57, 0, 123)).toBe(26663.75);
    expect(at(read.white.data, 3, 1, 200)).toBe(28906.0);
    expect(at(read.white.data, 9, 0, 639)).toBe(26969.75);
    expect(at(read.dark.data, 9, 0, 0)).toBe(100.5);
    expect(at(read.dark.data, 0, 1, 320)).toBe(100.0);
    expect(sum(data)).toBe(4749233396.5);
    expect(sum(read.white.data)).toBe(357657046.5);
    expect(sum(read.dark.data)).toBe(1346367.0);
  });

  it('converts theta from degrees to radians', async () => {
    const { theta, thetaSource } = await readDataExchange(tooth);
    expect(thetaSource).toBe('file');
    expect(theta).toBeInstanceOf(Float32Array);
    expect(theta.length).toBe(181);
    expect(theta[0]).toBe(0);
    // np.float32(theta * np.pi / 180.)
    expect(theta[1]).toBe(Math.fround(0.017356865));
    expect(theta[90]).toBe(Math.fround(1.5621179));
    expect(theta[180]).toBe(Math.fround(3.1242359));
  });

  it('reads only the requested rows, equal to the same rows of a full read', async () => {
    const full = await readDataExchange(tooth);
    const row1 = await readDataExchange(tooth, { rows: [1, 2] });
    for (const [part, whole] of [
      [row1.projections, full.projections],
      [row1.white, full.white],
      [row1.dark, full.dark]
    ] as const) {
      expect([part.angles, part.rows, part.pixels]).toEqual([whole.angles, 1, 640]);
      const expected = new Float32Array(whole.angles * 640);
      for (let a = 0; a < whole.angles; a++) {
        expected.set(whole.data.subarray((a * 2 + 1) * 640, (a * 2 + 2) * 640), a * 640);
      }
      expect(firstDifference(part.data, expected)).toBe(-1);
    }
    expect(sum(row1.projections.data)).toBe(2376525167.25);
    expect(row1.theta).toEqual(full.theta);
    const both = await readDataExchange(tooth, { rows: [0, 2] });
    expect(firstDifference(both.projections.data, full.projections.data)).toBe(-1);
    // Many small reads (7 angles of one row each) give the same values.
    const blocks = await readDataExchange(tooth, { rows: [1, 2], blockBytes: 7 * 640 * 4 + 3 });
    expect(firstDifference(blocks.projections.data, row1.projections.data)).toBe(-1);
    expect(firstDifference(blocks.white.data, row1.white.data)).toBe(-1);
  });

  it('rejects rows out of range', async () => {
    for (const rows of [
      [0, 3],
      [-1, 1],
      [1, 1],
      [2, 1],
      [0.5, 1]
    ] as [number, number][]) {
      await expect(readDataExchange(tooth, { rows })).rejects.toThrow(
        new ReconInputError(
          `rows [${rows[0]}, ${rows[1]}) is out of range: /exchange/data in ${tooth} has 2 rows (a range within [0, 2) is expected)`
        )
      );
    }
  });
});

describe('readDataExchange errors', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recon-dxchange-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Writes a small DataExchange file with h5wasm; `undefined` leaves a dataset out. */
  async function exchangeFile(
    name: string,
    datasets: Record<string, { shape: number[]; dtype?: string } | undefined>
  ): Promise<string> {
    const { File } = h5wasm;
    await h5wasm.ready;
    const path = join(dir, name);
    const file = new File(path, 'w');
    try {
      const group = file.create_group('exchange');
      for (const [key, spec] of Object.entries(datasets)) {
        if (spec === undefined) continue;
        const count = spec.shape.reduce((a, b) => a * b, 1);
        const data = Float64Array.from({ length: count }, (_, i) => i % 251);
        group.create_dataset({ name: key, data, shape: spec.shape, dtype: spec.dtype ?? '<f' });
      }
    } finally {
      file.close();
    }
    return path;
  }

  const good = {
    data: { shape: [4, 3, 5] },
    data_white: { shape: [2, 3, 5] },
    data_dark: { shape: [2, 3, 5] },
    theta: { shape: [4], dtype: '<d' }
  };

  it('reads a file it wrote (uint16 flats, no theta → linspace(0, π))', async () => {
    const path = await exchangeFile('ok.h5', {
      ...good,
      data_white: { shape: [2, 3, 5], dtype: '<H' },
      theta: undefined
    });
    const read = await readDataExchange(path);
    expect(read.thetaSource).toBe('default');
    // np.linspace(0., np.pi, 4)
    expect(Array.from(read.theta)).toEqual(
      [0, Math.PI / 3, (2 * Math.PI) / 3, Math.PI].map(Math.fround)
    );
    expect(read.white.data).toBeInstanceOf(Float32Array);
    expect(Array.from(read.white.data.subarray(0, 4))).toEqual([0, 1, 2, 3]);
    expect(read.projections.data[59]).toBe(59);
  });

  it('says a missing file does not exist', async () => {
    const path = join(dir, 'nothing.h5');
    await expect(readDataExchange(path)).rejects.toThrow(
      new ReconInputError(`file ${path} does not exist`)
    );
    await expect(readDataExchange(dir)).rejects.toThrow(`${dir} is not a file`);
  });

  it('rejects a text file as not HDF5', async () => {
    const path = join(dir, 'notes.h5');
    await writeFile(path, 'this is not HDF5\n'.repeat(100));
    await expect(readDataExchange(path)).rejects.toThrow(
      new ReconInputError(
        `${path} is not a readable HDF5 file: file signature not found (Not an HDF5 file)`
      )
    );
  });

  it('rejects truncated copies of tooth.h5', async () => {
    for (const size of [100, 4000, 500_000, 1_043_000]) {
      const path = join(dir, `tooth-${size}.h5`);
      await copyFile(tooth, path);
      await truncate(path, size);
      const error = await readDataExchange(path).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReconInputError);
      expect((error as Error).message).toMatch(
        new RegExp(`^${escape(path)} is not a readable HDF5 file: truncated file: eof = ${size}`)
      );
    }
  });

  it('rejects a corrupt superblock', async () => {
    const path = join(dir, 'corrupt.h5');
    await copyFile(tooth, path);
    const handle = await open(path, 'r+');
    await handle.write(Buffer.alloc(64, 0xff), 8); // overwrite the superblock after the signature
    await handle.close();
    await expect(readDataExchange(path)).rejects.toThrow(
      new RegExp(`^${escape(path)} is not a readable HDF5 file: `)
    );
    // The library is still usable afterwards.
    expect((await readDataExchange(tooth, { rows: [0, 1] })).projections.rows).toBe(1);
  });

  it('names a missing dataset and lists what /exchange holds', async () => {
    const path = await exchangeFile('nowhite.h5', { ...good, data_white: undefined });
    await expect(readDataExchange(path)).rejects.toThrow(
      new ReconInputError(
        `${path}: dataset /exchange/data_white is missing; /exchange holds: data, data_dark, theta`
      )
    );
  });

  it('names a file without /exchange', async () => {
    const path = join(dir, 'plain.h5');
    const file = new h5wasm.File(path, 'w');
    file.create_group('entry');
    file.close();
    await expect(readDataExchange(path)).rejects.toThrow(
      `${path} has no /exchange group (not a DataExchange file); the top level holds: entry`
    );
  });

  it('rejects data that is not 3-D', async () => {
    const path = await exchangeFile('flat.h5', { ...good, data: { shape: [4, 15] } });
    await expect(readDataExchange(path)).rejects.toThrow(
      new ReconInputError(
        `${path}: /exchange/data has shape (4, 15); expected 3-D (angles, rows, pixels)`
      )
    );
    const dark2d = await exchangeFile('dark2d.h5', { ...good, data_dark: { shape: [3, 5] } });
    await expect(readDataExchange(dark2d)).rejects.toThrow(
      `${dark2d}: /exchange/data_dark has shape (3, 5); expected 3-D (angles, rows, pixels)`
    );
  });

  it('rejects flats or darks whose rows or width differ from the data', async () => {
    const path = await exchangeFile('wide.h5', { ...good, data_white: { shape: [2, 3, 6] } });
    await expect(readDataExchange(path)).rejects.toThrow(
      new ReconInputError(
        `${path}: /exchange/data_white has shape (2, 3, 6) but /exchange/data has (4, 3, 5): rows and pixels must match`
      )
    );
    const rows = await exchangeFile('rows.h5', { ...good, data_dark: { shape: [2, 2, 5] } });
    await expect(readDataExchange(rows)).rejects.toThrow(
      `${rows}: /exchange/data_dark has shape (2, 2, 5) but /exchange/data has (4, 3, 5)`
    );
  });

  it('rejects theta of the wrong length', async () => {
    const path = await exchangeFile('theta.h5', { ...good, theta: { shape: [3], dtype: '<d' } });
    await expect(readDataExchange(path)).rejects.toThrow(
      new ReconInputError(
        `${path}: /exchange/theta has 3 values (shape (3)) but /exchange/data has 4 angles`
      )
    );
  });

  it('rejects a non-numeric dataset', async () => {
    const path = join(dir, 'strings.h5');
    const file = new h5wasm.File(path, 'w');
    const group = file.create_group('exchange');
    group.create_dataset({ name: 'data', data: ['a', 'b', 'c', 'd'], shape: [1, 2, 2] });
    for (const name of ['data_white', 'data_dark']) {
      group.create_dataset({ name, data: new Float32Array(4), shape: [1, 2, 2] });
    }
    file.close();
    const message = await readDataExchange(path).catch((e: unknown) => (e as Error).message);
    expect(message).toMatch(/\/exchange\/data has type .*; expected integers or float32\/float64/);
  });
});

function sum(values: Float32Array): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

/** The first index where the arrays differ (or their common length when the lengths differ). */
function firstDifference(a: Float32Array, b: Float32Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
