import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as prettier from 'prettier';
import { it } from 'vitest';
import { findCenterWithGridrec } from '../../src/recon/auto-center.js';
import { pearsonInCircle } from '../../src/recon/image-metrics.js';
import { loadSinograms } from '../../src/recon/load.js';
import { readNpy, writeNpy } from '../../src/recon/npy.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const lib = join(here, '..', '..');
const repo = join(lib, '..');
const python = join(repo, '.venv', 'bin', 'python');

/**
 * The tooth has two detector rows; the block repeats them 8 times so that per-call costs (a
 * peer's set-up, our worker start) weigh as little as they would on a real scan.
 */
const TILES = 8;
const REPEATS = 5;
const MLEM_ITERATIONS = 5;
/** ML-EM is slow; the first 2 slices of the block (one per core) are enough to time it. */
const MLEM_SLICES = 2;

interface OurFigures {
  threads: number;
  gridrec: { slicesPerSecond: number; filter: string; image: string };
  fbp: { slicesPerSecond: number; filter: string; image: string };
  mlem: { secondsPerIterationPerSlice: number; iterations: number; image: string };
}

interface PeerEntry {
  kind: 'gridrec' | 'fbp' | 'mlem';
  image: string;
}

it('reconstruction: ours vs MIDAS GridRec, ASTRA and algotom FBP, ASTRA-looped ML-EM', async () => {
  const work = await mkdtemp(join(tmpdir(), 'recon-bench-'));
  try {
    const tooth = await loadSinograms(join(repo, '..', 'shared', 'data', 'tooth.h5'));
    const { sinograms, angles } = tooth;
    const firstSlice = sinograms.data.subarray(0, sinograms.angles * sinograms.pixels);
    const center = (await findCenterWithGridrec(firstSlice, angles, sinograms.pixels)).center;
    const block = new Float32Array(sinograms.data.length * TILES);
    for (let t = 0; t < TILES; t++) block.set(sinograms.data, t * sinograms.data.length);
    const slices = sinograms.slices * TILES;
    const sinogramsPath = join(work, 'sinograms.npy');
    const anglesPath = join(work, 'angles.npy');
    await writeNpy(sinogramsPath, [slices, sinograms.angles, sinograms.pixels], block);
    await writeNpy(anglesPath, [angles.length], angles);

    const cores = cpus().length;
    const loadStart = loadavg()[0];
    // Every single-core run is pinned to the same core (the last), as peers.py pins itself.
    const oneCore = String(cores - 1);
    const ours = async (threads: number): Promise<OurFigures> => {
      const out = join(work, `ours-${threads}.json`);
      const node = [
        join(here, 'ours.mjs'),
        sinogramsPath,
        anglesPath,
        String(center),
        out,
        '--threads',
        String(threads),
        '--repeats',
        String(REPEATS),
        '--mlem-iterations',
        String(MLEM_ITERATIONS),
        '--mlem-slices',
        String(MLEM_SLICES)
      ];
      const { stdout } =
        threads === 1
          ? await run('taskset', ['-c', oneCore, process.execPath, ...node], { cwd: lib })
          : await run(process.execPath, node, { cwd: lib });
      process.stdout.write(stdout);
      return JSON.parse(await readFile(out, 'utf8')) as OurFigures;
    };
    const single = await ours(1);
    const multi = await ours(cores);

    const peersPath = join(work, 'peers.json');
    const { stdout } = await run(
      python,
      [
        join(here, 'peers.py'),
        sinogramsPath,
        anglesPath,
        String(center),
        peersPath,
        '--repeats',
        String(REPEATS),
        '--mlem-iterations',
        String(MLEM_ITERATIONS),
        '--mlem-slices',
        String(MLEM_SLICES),
        '--cpu',
        oneCore
      ],
      { maxBuffer: 16 * 1024 * 1024 }
    );
    process.stdout.write(stdout);
    const peers = JSON.parse(await readFile(peersPath, 'utf8')) as {
      peers: Record<string, PeerEntry>;
    };

    // Speeds compare only between images of the same tooth: each peer against ours of its kind.
    const correlations: Record<string, { r: number; against: string }> = {};
    for (const [name, peer] of Object.entries(peers.peers)) {
      const theirs = await readNpy(peer.image);
      const mine = await readNpy(single[peer.kind].image);
      const size = mine.shape[0];
      correlations[name] = {
        r: pearsonInCircle(theirs.data, mine.data, size),
        against: `ours ${peer.kind}`
      };
    }

    const results = {
      date: new Date().toISOString(),
      machine: {
        cpus: cores,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        loadAverage: { start: loadStart, end: loadavg()[0] }
      },
      data: `tooth.h5 (APS 32-ID): its ${sinograms.slices} rows repeated ${TILES} times, normalised by its flat and dark fields, -log`,
      slices,
      angles: sinograms.angles,
      pixels: sinograms.pixels,
      center,
      ours: {
        gridrec: {
          singleCore: single.gridrec.slicesPerSecond,
          multiCore: multi.gridrec.slicesPerSecond,
          threads: cores,
          filter: single.gridrec.filter
        },
        fbp: {
          singleCore: single.fbp.slicesPerSecond,
          multiCore: multi.fbp.slicesPerSecond,
          threads: cores,
          filter: single.fbp.filter
        },
        mlem: {
          secondsPerIterationPerSlice: {
            singleCore: single.mlem.secondsPerIterationPerSlice,
            multiCore: multi.mlem.secondsPerIterationPerSlice
          },
          threads: cores,
          iterations: MLEM_ITERATIONS
        }
      },
      peers,
      correlations
    };
    const resultsPath = join(work, 'results.json');
    await writeFile(resultsPath, JSON.stringify(results, null, 2));
    const docs = join(repo, 'docs', 'benchmarks');
    const markdown = join(docs, 'recon.md');
    await run(python, [join(here, 'report.py'), resultsPath, markdown, join(docs, 'recon.png')]);
    const options = (await prettier.resolveConfig(markdown)) ?? {};
    const formatted = await prettier.format(await readFile(markdown, 'utf8'), {
      ...options,
      filepath: markdown
    });
    await writeFile(markdown, formatted);
    console.log(`results in ${markdown}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
