import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import h5wasm from 'h5wasm/node';
import { PNG } from 'pngjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readNpy, writeNpy } from '../../../src/recon/npy.js';
import { distModule, sharedDataDir, tomopyReferenceDir } from '../../support/paths.js';

// `pilot-streaming recon` as users run it: the built CLI in a child process, in a scratch folder.

const execFileAsync = promisify(execFile);
const tooth = join(sharedDataDir, 'tooth.h5');
const projections = join(tomopyReferenceDir, 'proj.npy');
const angles = join(tomopyReferenceDir, 'angle.npy');

interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function recon(cwd: string, args: readonly string[]): Promise<CliRun> {
  const argv = [distModule('cli/main.js'), 'recon', ...args];
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, argv, {
      cwd,
      timeout: 120_000
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    // A non-zero exit carries the exit code as a number; anything else (a timeout, a spawn
    // failure) is a failure of the test itself.
    const exited = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof exited.code !== 'number') throw error;
    return { code: exited.code, stdout: exited.stdout ?? '', stderr: exited.stderr ?? '' };
  }
}

function relativeL2(actual: Float32Array, expected: Float32Array): number {
  let difference = 0;
  let norm = 0;
  for (let i = 0; i < expected.length; i++) {
    difference += (actual[i] - expected[i]) ** 2;
    norm += expected[i] ** 2;
  }
  return Math.sqrt(difference / norm);
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'recon-cli-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('pilot-streaming recon', () => {
  // The auto centre of the first test, reused by the MLEM run (what the search finds on tooth).
  let toothCenter = 296;

  it('reconstructs tooth.h5 with GridRec about an auto centre, with PNGs', async () => {
    const result = await recon(dir, [
      tooth,
      '--algorithm',
      'gridrec',
      '--center',
      'auto',
      '--output',
      'out.npy',
      '--png',
      'pngs'
    ]);
    expect(result.code, result.stderr).toBe(0);

    const volume = await readNpy(join(dir, 'out.npy'));
    expect(volume.dtype).toBe('<f4');
    expect(volume.shape).toEqual([2, 640, 640]);
    expect(await readdir(join(dir, 'pngs'))).toEqual(['slice-0000.png', 'slice-0001.png']);
    for (const name of ['slice-0000.png', 'slice-0001.png']) {
      const png = PNG.sync.read(await readFile(join(dir, 'pngs', name)));
      expect([png.width, png.height]).toEqual([640, 640]);
    }
    expect(result.stdout).toMatch(
      /^2 slices of 640×640 \(gridrec, centre [\d.]+\) in [\d.]+ s: [\d.]+ slices\/s after the centre search → out\.npy$/m
    );
    const found = /centre found at ([\d.]+)/.exec(result.stderr);
    expect(found, result.stderr).not.toBeNull();
    toothCenter = Number(found![1]);
    expect(toothCenter).toBeGreaterThan(290);
    expect(toothCenter).toBeLessThan(300);
  });

  it('keeps MLEM on tooth.h5 stable over 20 iterations', async () => {
    const result = await recon(dir, [
      tooth,
      '--algorithm',
      'mlem',
      '--iterations',
      '20',
      '--center',
      String(toothCenter),
      '--slices',
      '0:1',
      '--output',
      'out.npy'
    ]);
    expect(result.code, result.stderr).toBe(0);
    const { shape, data } = await readNpy(join(dir, 'out.npy'));
    expect(shape).toEqual([1, 640, 640]);
    expect(data.every(Number.isFinite)).toBe(true);
    // GridRec's brightest tooth pixel is about 0.015; without clipping MLEM passes 0.3 by now.
    const sorted = Float32Array.from(data).sort();
    expect(sorted[0]).toBeGreaterThanOrEqual(0);
    expect(sorted[sorted.length - 1]).toBeLessThan(0.1);
    // Not flat: a bright tooth on a dark background.
    const median = sorted[Math.floor(sorted.length / 2)];
    const high = sorted[Math.floor(sorted.length * 0.99)];
    expect(high).toBeGreaterThan(1e-3);
    expect(high).toBeGreaterThan(10 * median);
  });

  it('matches TomoPy’s GridRec (ramlak) on proj.npy with --angles', async () => {
    const result = await recon(dir, [
      projections,
      '--angles',
      angles,
      '--algorithm',
      'gridrec',
      '--filter',
      'ramlak',
      '--output',
      'out.npy'
    ]);
    expect(result.code, result.stderr).toBe(0);
    const ours = await readNpy(join(dir, 'out.npy'));
    const tomopy = await readNpy(join(tomopyReferenceDir, 'gridrec_ramlak.npy'));
    expect(ours.shape).toEqual(tomopy.shape);
    expect(relativeL2(ours.data, tomopy.data)).toBeLessThan(2e-2);
  });
});

/** Input files a bad-input case makes in the scratch folder (the only files that may remain). */
type Inputs = Record<string, (dir: string) => Promise<Uint8Array | string | void>>;

/** An HDF5 file with /exchange but no /exchange/data (written with h5wasm to `path`). */
async function exchangeWithoutData(path: string): Promise<void> {
  await h5wasm.ready;
  const file = new h5wasm.File(path, 'w');
  try {
    const exchange = file.create_group('exchange');
    for (const name of ['data_white', 'data_dark'])
      exchange.create_dataset({ name, data: new Float32Array(16), shape: [1, 2, 8], dtype: '<f' });
  } finally {
    file.close();
  }
}

const badInput: {
  name: string;
  args: (dir: string) => string[];
  inputs?: Inputs;
  stderr: RegExp[];
}[] = [
  {
    name: 'a missing input file',
    args: dir => [join(dir, 'missing.h5'), '--algorithm', 'gridrec'],
    stderr: [/file \S*missing\.h5 does not exist/]
  },
  {
    name: 'a truncated HDF5 file',
    args: () => ['truncated.h5', '--algorithm', 'gridrec'],
    inputs: { 'truncated.h5': async () => (await readFile(tooth)).subarray(0, 100_000) },
    stderr: [/truncated\.h5 is not a readable HDF5 file: .*truncated/]
  },
  {
    name: 'a text file named .h5',
    args: () => ['x.h5', '--algorithm', 'gridrec'],
    inputs: { 'x.h5': async () => 'not HDF5, just text\n' },
    stderr: [/x\.h5 is not a readable HDF5 file: file signature not found/]
  },
  {
    name: 'an HDF5 file without /exchange/data',
    args: () => ['nodata.h5', '--algorithm', 'gridrec'],
    inputs: { 'nodata.h5': dir => exchangeWithoutData(join(dir, 'nodata.h5')) },
    stderr: [/nodata\.h5: dataset \/exchange\/data is missing; \/exchange holds: data_dark/]
  },
  {
    name: '.npy projections without --angles',
    args: () => [projections, '--algorithm', 'gridrec'],
    stderr: [/proj\.npy: a \.npy array carries no angles; give them with --angles/]
  },
  {
    name: '--angles of the wrong length',
    args: () => [projections, '--angles', 'angles15.npy', '--algorithm', 'gridrec'],
    inputs: {
      'angles15.npy': dir => writeNpy(join(dir, 'angles15.npy'), [15], new Float32Array(15))
    },
    stderr: [/angles15\.npy has shape \(15\): expected \(16,\), one angle in radians/]
  },
  {
    name: 'an unknown --algorithm',
    args: () => [tooth, '--algorithm', 'art'],
    stderr: [/--algorithm = "art" is not .*: expected one of gridrec, fbp, bp, mlem, sirt/]
  },
  {
    name: 'an unknown --filter',
    args: () => [tooth, '--algorithm', 'gridrec', '--filter', 'ramp'],
    stderr: [/--filter = "ramp" is not .*: expected one of none, shepp, .*ramlak/]
  },
  {
    name: '--iterations 0',
    args: () => [tooth, '--algorithm', 'mlem', '--iterations', '0'],
    stderr: [/--iterations "0": expected a whole number ≥ 1/]
  },
  {
    name: '--iterations abc',
    args: () => [tooth, '--algorithm', 'mlem', '--iterations', 'abc'],
    stderr: [/--iterations "abc": expected a whole number ≥ 1/]
  },
  {
    name: '--center abc',
    args: () => [tooth, '--algorithm', 'gridrec', '--center', 'abc'],
    stderr: [/--center "abc": expected a detector coordinate .*, or auto/]
  },
  {
    name: '--center 9999',
    args: () => [tooth, '--algorithm', 'gridrec', '--center', '9999'],
    stderr: [
      /--center 9999: expected a detector coordinate from 0 to 640 \(the detector width of \S*tooth\.h5\)/
    ]
  },
  {
    name: '--slices 5:9 on a file of 2 rows',
    args: () => [tooth, '--algorithm', 'gridrec', '--slices', '5:9'],
    stderr: [/rows \[5, 9\) .*\/exchange\/data in \S*tooth\.h5 has 2 rows/]
  },
  {
    name: '--output not ending in .npy',
    args: () => [tooth, '--algorithm', 'gridrec', '--output', 'out.png'],
    stderr: [/--output out\.png: expected a file name ending in \.npy/]
  },
  {
    name: '--output into a folder that does not exist',
    args: () => [tooth, '--algorithm', 'gridrec', '--output', 'missing/out.npy'],
    stderr: [/--output: the folder \S*missing does not exist or is not writable/]
  },
  {
    name: '--threads 0',
    args: () => [tooth, '--algorithm', 'gridrec', '--threads', '0'],
    stderr: [/--threads "0": expected a whole number ≥ 1/]
  }
];

describe('pilot-streaming recon refuses bad input', () => {
  it.each(badInput)('$name: exit 1, a reason, and no output', async ({ args, inputs, stderr }) => {
    for (const [name, make] of Object.entries(inputs ?? {})) {
      const content = await make(dir);
      if (content !== undefined) await writeFile(join(dir, name), content);
    }
    const argv = args(dir);
    // Every case asks for both outputs unless it names its own --output.
    if (!argv.includes('--output')) argv.push('--output', 'out.npy');
    argv.push('--png', 'pngs');

    const result = await recon(dir, argv);
    expect(result.code, result.stderr).toBe(1);
    for (const pattern of stderr) expect(result.stderr).toMatch(pattern);
    // Neither the array, nor the PNG folder, nor a temporary file was left behind.
    expect((await readdir(dir)).sort()).toEqual(Object.keys(inputs ?? {}).sort());
  });
});
