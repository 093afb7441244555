import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markBundle, pythonProgram } from '../../../src/entry-points/roles.js';
import { reconstruct } from '../../../src/recon/reconstruct.js';
import { endIdleWorkers } from '../../../src/recon/workers/slice-pool.js';
import { distModule } from '../../support/paths.js';

const run = promisify(execFile);

/** A phantom's sinograms: a few off-centre discs, `slices` slices that differ a little. */
function sinograms(slices: number, angles: number, pixels: number) {
  const data = new Float32Array(slices * angles * pixels);
  const angleValues = Float32Array.from({ length: angles }, (_, a) => (Math.PI * a) / angles);
  const discs = [
    { x: 8, y: -5, r: 10 },
    { x: -12, y: 6, r: 6 }
  ];
  for (let s = 0; s < slices; s++) {
    for (let a = 0; a < angles; a++) {
      const [cos, sin] = [Math.cos(angleValues[a]!), Math.sin(angleValues[a]!)];
      for (let p = 0; p < pixels; p++) {
        const t = p - pixels / 2 + 0.5;
        let sum = 0;
        for (const disc of discs) {
          const offset = t - (disc.x * cos + disc.y * sin);
          const r = disc.r + s;
          if (Math.abs(offset) < r) sum += 2 * Math.sqrt(r * r - offset * offset);
        }
        data[(s * angles + a) * pixels + p] = sum;
      }
    }
  }
  return { stack: { data, slices, angles, pixels }, angles: angleValues };
}

// The library as a resource gets it when staged: the bundle, its WebAssembly and the Dask
// bridge, alone in a directory with no node_modules anywhere above it.
describe('the bundled library, copied alone', () => {
  let dir: string;
  let bundle: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bundle-'));
    const built = distModule('bundle/pilot-streaming.mjs');
    for (const name of [
      'pilot-streaming.mjs',
      'pffft.wasm',
      'dask_bridge.py',
      'dask_http_tls.py'
    ]) {
      await copyFile(join(built, '..', name), join(dir, name));
    }
    bundle = join(dir, 'pilot-streaming.mjs');
  });

  afterAll(async () => {
    markBundle(undefined);
    await endIdleWorkers();
    await rm(dir, { recursive: true, force: true });
  });

  it('holds only those files, and finds its Python programs beside itself', async () => {
    expect((await readdir(dir)).sort()).toEqual([
      'dask_bridge.py',
      'dask_http_tls.py',
      'pffft.wasm',
      'pilot-streaming.mjs'
    ]);
    markBundle(bundle);
    try {
      expect(pythonProgram('dask_bridge.py')).toBe(join(dir, 'dask_bridge.py'));
    } finally {
      markBundle(undefined);
    }
  });

  it('runs a role with the role taken off its arguments', async () => {
    const { stdout } = await run(process.execPath, [bundle, 'free-ports', '127.0.0.1', '3'], {
      cwd: dir
    });
    const ports = stdout.trim().split(' ').map(Number);
    expect(ports).toHaveLength(3);
    expect(new Set(ports).size).toBe(3);
    for (const port of ports) expect(port).toBeGreaterThan(0);
  });

  it('refuses an unknown role, naming the roles it has', async () => {
    const failure = await run(process.execPath, [bundle, 'superviser'], { cwd: dir }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toContain('role "superviser" is not one of supervisor, agent,');
  });

  it('reconstructs on slice workers started from it, as the compiled workers do', async () => {
    const { stack, angles } = sinograms(6, 90, 64);
    for (const algorithm of ['gridrec', 'mlem'] as const) {
      const options = { algorithm, threads: 2, iterations: 3 };
      markBundle(undefined);
      await endIdleWorkers();
      const compiled = await reconstruct(stack, angles, options);
      markBundle(bundle);
      await endIdleWorkers();
      const bundled = await reconstruct(stack, angles, options);
      expect(bundled.data, algorithm).toEqual(compiled.data);
      expect(Math.max(...bundled.data)).toBeGreaterThan(0);
    }
    // The workers really come from the bundle: without it there are none.
    markBundle(join(dir, 'missing.mjs'));
    await endIdleWorkers();
    await expect(reconstruct(stack, angles, { algorithm: 'gridrec', threads: 2 })).rejects.toThrow(
      /missing\.mjs/
    );
  });
});
