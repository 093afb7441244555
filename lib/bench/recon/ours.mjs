/* global process */
// Times our reconstruction of a block of sinograms and writes the figures as JSON. Run by
// recon.run.ts: once pinned to one core (taskset) with --threads 1, once with every core.
//   node ours.mjs SINOGRAMS.npy ANGLES.npy CENTER OUT.json --threads N --repeats R --mlem-iterations K
import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { readNpy, writeNpy } from '../../dist/recon/npy.js';
import { reconstruct } from '../../dist/recon/reconstruct.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    threads: { type: 'string', default: '1' },
    repeats: { type: 'string', default: '5' },
    'mlem-iterations': { type: 'string', default: '5' },
    'mlem-slices': { type: 'string', default: '2' }
  }
});
const [sinogramsPath, anglesPath, centerText, outPath] = positionals;
const threads = Number(values.threads);
const repeats = Number(values.repeats);
const mlemIterations = Number(values['mlem-iterations']);
const center = Number(centerText);
const array = await readNpy(sinogramsPath);
const [slices, angleCount, pixels] = array.shape;
const stack = { data: array.data, slices, angles: angleCount, pixels };
const angles = (await readNpy(anglesPath)).data;
const stem = outPath.replace(/\.json$/, '');

const median = values => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Median seconds of `repeats` timed runs after one untimed one (plans, JIT, system matrix). */
async function timed(block, options) {
  let result = await reconstruct(block, angles, { ...options, center, threads });
  const seconds = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    result = await reconstruct(block, angles, { ...options, center, threads });
    seconds.push((performance.now() - start) / 1000);
  }
  return { seconds: median(seconds), all: seconds, result };
}

async function saveSlice0(name, result) {
  const path = `${stem}-${name}-slice0.npy`;
  await writeNpy(
    path,
    [result.size, result.size],
    result.data.subarray(0, result.size * result.size)
  );
  return path;
}

const gridrec = await timed(stack, { algorithm: 'gridrec', filter: 'shepp' });
const fbp = await timed(stack, { algorithm: 'fbp', filter: 'ramlak' });
const mlemSlices = Math.min(slices, Number(values['mlem-slices']));
const mlemBlock = {
  ...stack,
  slices: mlemSlices,
  data: stack.data.subarray(0, mlemSlices * angleCount * pixels)
};
const mlem = await timed(mlemBlock, { algorithm: 'mlem', iterations: mlemIterations });

const figures = {
  threads,
  slices,
  gridrec: {
    slicesPerSecond: slices / gridrec.seconds,
    seconds: gridrec.all,
    filter: 'shepp',
    image: await saveSlice0('gridrec', gridrec.result)
  },
  fbp: {
    slicesPerSecond: slices / fbp.seconds,
    seconds: fbp.all,
    filter: 'ramlak',
    image: await saveSlice0('fbp', fbp.result)
  },
  mlem: {
    secondsPerIterationPerSlice: mlem.seconds / (mlemIterations * mlemSlices),
    iterations: mlemIterations,
    slices: mlemSlices,
    seconds: mlem.all,
    image: await saveSlice0('mlem', mlem.result)
  }
};
await writeFile(outPath, JSON.stringify(figures, null, 2));
process.stdout.write(
  `ours on ${threads} thread(s): gridrec ${figures.gridrec.slicesPerSecond.toFixed(1)} slices/s, fbp ${figures.fbp.slicesPerSecond.toFixed(2)} slices/s, mlem ${figures.mlem.secondsPerIterationPerSlice.toFixed(3)} s/iteration/slice` +
    '\n'
);
