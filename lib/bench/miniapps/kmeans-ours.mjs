/* global console, process */
// Times our streaming KMeans (StreamingKMeans.trainAndPredict, the MASA kmeans processor's
// step) on ClusterSource messages, one core, and what else a message costs on its way through
// the pipeline (making it, encoding it, decoding it). Writes the messages and the initial centres
// for the NumPy peer (kmeans-peer.py), which repeats the same work. Run by miniapps.run.ts, pinned
// to one core with taskset:
//   node kmeans-ours.mjs OUT_DIR --messages M --repeats R
// OUT_DIR gets points.f64 (M × points × 3, float64), centers.f64 (k × 3), ours.json.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ClusterSource } from '../../dist/miniapps/mass/cluster-source.js';
import { StreamingKMeans } from '../../dist/miniapps/masa/streaming-kmeans.js';
import { decodeMessage, encodeMessage, newRunId } from '../../dist/miniapps/messages/format.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    messages: { type: 'string', default: '100' },
    repeats: { type: 'string', default: '5' },
    k: { type: 'string', default: '10' },
    points: { type: 'string', default: '5000' }
  }
});
const [outDir] = positionals;
const messageCount = Number(values.messages);
const repeats = Number(values.repeats);
const k = Number(values.k);
const pointsPerMessage = Number(values.points);
const dimensions = 3;

const median = list => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];

// The MASS cluster source's defaults (10 clusters, seed 1) and the MASA kmeans processor's model
// (k centres drawn as Spark's setRandomCenters(3, weight 0, seed 42), decay 1, batches).
const source = new ClusterSource({ clusters: 10, pointsPerMessage, seed: 1 });
const newModel = () =>
  new StreamingKMeans({
    k,
    dimensions,
    decayFactor: 1,
    timeUnit: 'batches',
    randomCenters: { weight: 0, seed: 42 }
  });

/** Median messages per second of `repeats` timed passes of `step` over the messages, after one untimed pass. */
function rate(step) {
  for (let m = 0; m < messageCount; m++) step(m);
  const perSecond = [];
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    for (let m = 0; m < messageCount; m++) step(m);
    perSecond.push(messageCount / ((performance.now() - start) / 1000));
  }
  return { median: median(perSecond), all: perSecond };
}

const generate = rate(m => source.message(0, m));
const messages = Array.from({ length: messageCount }, (_, m) => source.message(0, m).points);

const runId = newRunId();
const header = m => ({
  kind: 'points',
  shape: [pointsPerMessage, dimensions],
  runId,
  producerId: 0,
  sequence: m,
  sendTimeMs: Date.now()
});
const encode = rate(m => encodeMessage(header(m), messages[m]));
const encoded = messages.map((points, m) => encodeMessage(header(m), points));
const decode = rate(m => decodeMessage(encoded[m]));

const initial = newModel().toJSON();
const labels = new Int32Array(pointsPerMessage);
// Warm-up and timing on a model of its own each; the work per message does not depend on the
// state (every point is compared with every centre).
let model = newModel();
const train = rate(m => model.trainAndPredict(messages[m], labels));
// The run the peer repeats exactly: one fresh model, one pass over the messages, in order.
model = newModel();
for (let m = 0; m < messageCount; m++) model.trainAndPredict(messages[m], labels);
const decodeAndTrain = (() => {
  const decodingModel = newModel();
  return rate(m => {
    const { payload } = decodeMessage(encoded[m]);
    decodingModel.trainAndPredict(payload, labels);
  });
})();

const points = new Float64Array(messageCount * pointsPerMessage * dimensions);
messages.forEach((message, m) => points.set(message, m * pointsPerMessage * dimensions));
await writeFile(join(outDir, 'points.f64'), points);
await writeFile(join(outDir, 'centers.f64'), new Float64Array(initial.centers.flat()));
const final = model.toJSON();
await writeFile(
  join(outDir, 'ours.json'),
  JSON.stringify(
    {
      node: process.version,
      messages: messageCount,
      pointsPerMessage,
      k,
      repeats,
      messageBytes: encoded[0].length,
      perSecond: {
        trainAndPredict: train,
        generate,
        encode,
        decode,
        decodeAndTrain
      },
      finalCenters: final.centers,
      finalWeights: final.weights
    },
    null,
    2
  )
);
console.log(
  `kmeans ours: ${train.median.toFixed(0)} msg/s trainAndPredict, ${decodeAndTrain.median.toFixed(0)} decode+train, ` +
    `${generate.median.toFixed(0)} generate, ${encode.median.toFixed(0)} encode, ${decode.median.toFixed(0)} decode`
);
