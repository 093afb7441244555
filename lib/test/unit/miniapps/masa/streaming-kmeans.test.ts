import { describe, expect, it } from 'vitest';
import { MiniAppInputError } from '../../../../src/miniapps/errors.js';
import { ClusterSource } from '../../../../src/miniapps/mass/cluster-source.js';
import { fusedMultiplyAdd } from '../../../../src/miniapps/fused-multiply-add.js';
import { StreamingKMeans } from '../../../../src/miniapps/masa/streaming-kmeans.js';
import type {
  StreamingKMeansOptions,
  TimeUnit
} from '../../../../src/miniapps/masa/streaming-kmeans.js';
import { Random } from '../../../../src/miniapps/random.js';
import { SPARK_INPUT, SPARK_MODEL, SPARK_RUNS } from './spark-reference.js';

// ---------------------------------------------------------------------------------------------
// A plain reference: StreamingKMeansModel.update as Spark's source reads, one point at a time on
// arrays of arrays, with the fused multiply-add done in exact BigInt arithmetic.

const bits = new DataView(new ArrayBuffer(8));

/** x = mantissa · 2^exponent exactly, for a finite x. */
function decompose(x: number): [bigint, number] {
  bits.setFloat64(0, x);
  const raw = bits.getBigUint64(0);
  const sign = raw >> 63n === 1n ? -1n : 1n;
  const biased = Number((raw >> 52n) & 0x7ffn);
  const fraction = raw & ((1n << 52n) - 1n);
  return biased === 0 ? [sign * fraction, -1074] : [sign * (fraction | (1n << 52n)), biased - 1075];
}

/** a·b + c rounded once to nearest, ties to even (for results in the normal range). */
function exactFma(a: number, b: number, c: number): number {
  const [ma, ea] = decompose(a);
  const [mb, eb] = decompose(b);
  const [mc, ec] = decompose(c);
  const exponent = Math.min(ea + eb, ec);
  const exact = ((ma * mb) << BigInt(ea + eb - exponent)) + (mc << BigInt(ec - exponent));
  if (exact === 0n) return a * b + c;
  const negative = exact < 0n;
  let magnitude = negative ? -exact : exact;
  let scale = exponent;
  const extraBits = magnitude.toString(2).length - 53;
  if (extraBits > 0) {
    const kept = magnitude >> BigInt(extraBits);
    const rest = magnitude - (kept << BigInt(extraBits));
    const half = 1n << BigInt(extraBits - 1);
    magnitude = rest > half || (rest === half && (kept & 1n) === 1n) ? kept + 1n : kept;
    scale += extraBits;
  }
  const value = Number(magnitude) * 2 ** scale;
  return negative ? -value : value;
}

interface ReferenceModel {
  centers: number[][];
  weights: number[];
}

function closest(centers: number[][], point: number[]): number {
  let best = 0;
  let bestDistance = Infinity;
  centers.forEach((center, index) => {
    let distance = 0;
    for (let j = 0; j < point.length; j++) {
      const difference = point[j] - center[j];
      distance += difference * difference;
    }
    if (distance < bestDistance) {
      bestDistance = distance;
      best = index;
    }
  });
  return best;
}

/** One StreamingKMeansModel.update; returns true when a dying cluster was split. */
function referenceUpdate(
  model: ReferenceModel,
  batch: number[][],
  decayFactor: number,
  timeUnit: TimeUnit,
  fused: boolean
): boolean {
  const stats = new Map<number, { sum: number[]; count: number }>();
  for (const point of batch) {
    const label = closest(model.centers, point);
    const entry = stats.get(label) ?? { sum: point.map(() => 0), count: 0 };
    entry.sum = entry.sum.map((s, j) => s + point[j]);
    entry.count += 1;
    stats.set(label, entry);
  }
  let numNewPoints = 0;
  for (const { count } of stats.values()) numNewPoints += count;
  const discount = timeUnit === 'batches' ? decayFactor : Math.pow(decayFactor, numNewPoints);
  model.weights = model.weights.map(weight => weight * discount);

  for (const [label, { sum, count }] of stats) {
    const updatedWeight = model.weights[label] + count;
    const lambda = count / Math.max(updatedWeight, 1e-16);
    model.weights[label] = updatedWeight;
    const scaled = model.centers[label].map(x => x * (1 - lambda));
    model.centers[label] = scaled.map((x, j) =>
      fused ? exactFma(lambda / count, sum[j], x) : x + (lambda / count) * sum[j]
    );
  }

  const maxWeight = Math.max(...model.weights);
  const minWeight = Math.min(...model.weights);
  const largest = model.weights.indexOf(maxWeight);
  const smallest = model.weights.indexOf(minWeight);
  if (!(minWeight < 1e-8 * maxWeight)) return false;
  const weight = (maxWeight + minWeight) / 2;
  model.weights[largest] = weight;
  model.weights[smallest] = weight;
  const center = model.centers[largest];
  model.centers[largest] = center.map(x => x + 1e-14 * Math.max(Math.abs(x), 1));
  model.centers[smallest] = center.map(x => x - 1e-14 * Math.max(Math.abs(x), 1));
  return true;
}

function rows(flat: Float64Array, width: number): number[][] {
  const result: number[][] = [];
  for (let i = 0; i < flat.length; i += width) result.push(Array.from(flat.subarray(i, i + width)));
  return result;
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

// ---------------------------------------------------------------------------------------------

describe('StreamingKMeans against a plain reference of Spark’s update rule', () => {
  const BATCHES = 50;
  const cases: {
    name: string;
    options: Partial<StreamingKMeansOptions>;
    dimensions: number;
    k: number;
    fused: boolean;
  }[] = [
    {
      name: 'decayFactor 1.0, batches',
      options: { decayFactor: 1 },
      dimensions: 3,
      k: 10,
      fused: true
    },
    {
      name: 'decayFactor 0.5, batches',
      options: { decayFactor: 0.5 },
      dimensions: 3,
      k: 10,
      fused: true
    },
    {
      name: 'halfLife 5, points',
      options: { halfLife: 5, timeUnit: 'points' },
      dimensions: 3,
      k: 10,
      fused: true
    },
    {
      name: 'halfLife 2, batches',
      options: { halfLife: 2, timeUnit: 'batches' },
      dimensions: 3,
      k: 10,
      fused: true
    },
    {
      name: 'decayFactor 0.8, batches, unfused (Spark ≤ 3.1)',
      options: { decayFactor: 0.8, fusedMultiplyAdd: false },
      dimensions: 3,
      k: 10,
      fused: false
    },
    {
      name: 'decayFactor 0.9, points, 5-D (the general loop)',
      options: { decayFactor: 0.9, timeUnit: 'points' },
      dimensions: 5,
      k: 6,
      fused: true
    }
  ];
  let splits = 0;

  for (const { name, options, dimensions, k, fused } of cases)
    it(`${name}: the same centres and weights after ${BATCHES} batches`, () => {
      const source = new ClusterSource({
        clusters: 10,
        dimensions,
        seed: 99,
        pointsPerMessage: 2000,
        spread: 1
      });
      // Spark's random centres, the last one moved far from the data: it gets no points, and
      // with any decay it dies and the largest cluster is split.
      const start = new StreamingKMeans({ k, dimensions, randomCenters: { weight: 1, seed: 42 } });
      const initialCenters = start.centers.fill(1000, (k - 1) * dimensions);
      const model = new StreamingKMeans({
        k,
        dimensions,
        initialCenters,
        initialWeights: start.weights,
        ...options
      });
      const reference: ReferenceModel = {
        centers: rows(model.centers, dimensions),
        weights: Array.from(model.weights)
      };
      const message = source.allocate();
      const splitsBefore = splits;
      for (let sequence = 0; sequence < BATCHES; sequence++) {
        source.message(1, sequence, message);
        model.update(message.points);
        const batch = rows(message.points, dimensions);
        if (referenceUpdate(reference, batch, model.decayFactor, model.timeUnit, fused)) splits++;
      }
      const difference = maxDifference(model.centers, reference.centers.flat());
      console.log(`${name}: max |Δ centre| ${difference}, ${splits - splitsBefore} splits`);
      expect(difference).toBeLessThanOrEqual(1e-9);
      expect(maxDifference(model.weights, reference.weights)).toBeLessThanOrEqual(
        1e-12 * Math.max(...reference.weights)
      );
      expect(model.batches).toBe(BATCHES);
    });

  it('exercised the dying-cluster split in those runs', () => {
    expect(splits).toBeGreaterThan(0);
  });
});

describe('StreamingKMeans against Spark 3.5.1 itself', () => {
  const source = new ClusterSource(SPARK_INPUT);
  const batches = Array.from(
    { length: SPARK_INPUT.batches },
    (_, s) => source.message(0, s).points
  );

  for (const run of SPARK_RUNS)
    it(`${run.name}: Spark's centres and weights, bit for bit`, () => {
      // Spark's own decay factor: the JVM's Math.exp can differ from V8's by an ulp.
      const model = new StreamingKMeans({
        ...SPARK_MODEL,
        decayFactor: run.sparkDecayFactor,
        timeUnit: run.options.timeUnit
      });
      for (const points of batches) model.update(points);
      expect(rows(model.centers, 3)).toEqual(run.centers);
      expect(Array.from(model.weights)).toEqual(run.weights);

      // With the half-life itself: the same decay factor, or one ulp off (halfLife 2).
      const fromOptions = new StreamingKMeans({ ...SPARK_MODEL, ...run.options });
      expect(Math.abs(fromOptions.decayFactor - run.sparkDecayFactor)).toBeLessThanOrEqual(
        Number.EPSILON * run.sparkDecayFactor
      );
      for (const points of batches) fromOptions.update(points);
      expect(maxDifference(fromOptions.centers, run.centers.flat())).toBeLessThanOrEqual(1e-12);
    });

  it("starts from Spark's setRandomCenters(dim, weight, seed)", () => {
    // new StreamingKMeans().setK(4).setRandomCenters(3, 2.5, 42L).latestModel()
    const model = new StreamingKMeans({
      k: 4,
      dimensions: 3,
      randomCenters: { weight: 2.5, seed: 42 }
    });
    expect(rows(model.centers, 3)).toEqual([
      [2.384479054241165, 0.1920934041293524, 0.7337336533286575],
      [-0.5224480195716871, 2.060084179317831, 0.20963383826633825],
      [-0.548526047771831, 1.907968332171668, -0.41705865828987015],
      [1.0872260173387922, 0.952245128862656, 0.8510993210731433]
    ]);
    expect(Array.from(model.weights)).toEqual([2.5, 2.5, 2.5, 2.5]);
    const spark2 = new StreamingKMeans({
      k: 4,
      dimensions: 3,
      randomCenters: { weight: 2.5, seed: 42, seedHash: 'spark2' }
    });
    expect(spark2.centers[0]).toBe(0.4085363219031828);
  });
});

describe('fusedMultiplyAdd', () => {
  it("rounds a·b + c once, as Java's Math.fma", () => {
    // [a, b, c, Math.fma(a, b, c)] from JDK 17, cases where a * b + c rounds otherwise.
    const javaCases = [
      [
        5.375551774708807e-11, -0.0000028247130977820924, 1.5184391505825738e-16,
        -2.2280186542378085e-33
      ],
      [-87704.4401650998, 3620479233.566, 317532104309275.44, -0.2070981852394389],
      [1.0000000072645399, 1.0000000080525437, -1, 1.5317083659971793e-8],
      [0.44479400596125773, 347, 0.2607997154977559, 154.60431978405418],
      [-6609.609840366571, 3948640453.188488, 35.40369963439525, -26098972795428.742],
      [0.5152001296096238, 0.00015732786611862877, -0.000030517578125, 0.00005053775889052308]
    ];
    for (const [a, b, c, expected] of javaCases) {
      expect(fusedMultiplyAdd(a, b, c)).toBe(expected);
      expect(a * b + c).not.toBe(expected);
    }
  });

  it('equals exact arithmetic rounded once on random and cancelling operands', () => {
    const random = new Random(5);
    const values = random.fillUniform(new Float64Array(30_000), -1, 1);
    const exponents = random.fillIndex(new Int32Array(30_000), 60);
    let differsFromUnfused = 0;
    for (let i = 0; i < 30_000; i += 3) {
      const a = values[i] * 2 ** (exponents[i] - 30);
      const b = values[i + 1] * 2 ** (exponents[i + 1] - 30);
      // Every third case cancels a·b almost exactly, the hard case for an emulation.
      const c = i % 9 === 0 ? -(a * b) : values[i + 2] * 2 ** (exponents[i + 2] - 30);
      const expected = exactFma(a, b, c);
      expect(fusedMultiplyAdd(a, b, c)).toBe(expected);
      if (a * b + c !== expected) differsFromUnfused++;
    }
    expect(differsFromUnfused).toBeGreaterThan(1000);
  });

  it('is exact where the product is, and rounds twice only outside its range', () => {
    expect(fusedMultiplyAdd(0.5, 3, 1)).toBe(2.5);
    expect(fusedMultiplyAdd(0, 3, -0)).toBe(0);
    expect(fusedMultiplyAdd(1e300, 1e10, 1)).toBe(Infinity);
    expect(fusedMultiplyAdd(NaN, 1, 1)).toBeNaN();
  });
});

describe('StreamingKMeans', () => {
  it('splits the largest cluster when the smallest is dying, as Spark does', () => {
    const model = new StreamingKMeans({
      k: 3,
      dimensions: 2,
      decayFactor: 0,
      initialCenters: [
        [0, 0],
        [10, 10],
        [100, 100]
      ],
      initialWeights: [1, 1, 1]
    });
    // Two points for centre 0 (mean (2, 2)), one for centre 1, none for centre 2: with decay 0
    // the weights become 2, 1, 0 and cluster 2 dies.
    model.update(Float64Array.of(1, 2, 3, 2, 11, 9));
    expect(Array.from(model.weights)).toEqual([1, 1, 1]);
    const p = 1e-14 * 2;
    expect(rows(model.centers, 2)).toEqual([
      [2 + p, 2 + p],
      [11, 9],
      [2 - p, 2 - p]
    ]);
  });

  it('splits only below 1e-8 of the largest weight, and takes the first index on a tie', () => {
    const centers = [
      [0, 0],
      [5, -300],
      [9, 9]
    ];
    const empty = new Float64Array(0);
    const atThreshold = new StreamingKMeans({
      k: 3,
      dimensions: 2,
      initialCenters: centers,
      initialWeights: [1e8, 1, 1e8]
    });
    atThreshold.update(empty);
    expect(Array.from(atThreshold.weights)).toEqual([1e8, 1, 1e8]);
    expect(rows(atThreshold.centers, 2)).toEqual(centers);

    const below = new StreamingKMeans({
      k: 3,
      dimensions: 2,
      initialCenters: centers,
      initialWeights: [1e8, 0.99, 1e8]
    });
    below.update(empty);
    expect(Array.from(below.weights)).toEqual([(1e8 + 0.99) / 2, (1e8 + 0.99) / 2, 1e8]);
    expect(rows(below.centers, 2)).toEqual([
      [0 + 1e-14, 0 + 1e-14],
      [0 - 1e-14, 0 - 1e-14],
      [9, 9]
    ]);
  });

  it('discounts every weight on an empty batch of time unit batches', () => {
    const model = new StreamingKMeans({
      k: 2,
      dimensions: 1,
      decayFactor: 0.5,
      initialCenters: [[0], [1]],
      initialWeights: [4, 2]
    });
    model.update(new Float64Array(0));
    expect(Array.from(model.weights)).toEqual([2, 1]);
    expect(model.toJSON().points).toBe(0);
  });

  for (const dimensions of [3, 4])
    it(`predicts the closest centre, the lowest index on a tie (${dimensions}-D)`, () => {
      const random = new Random(dimensions);
      const centers = random.fillGaussian(new Float64Array(7 * dimensions));
      // Centres 2 and 5 are the same point: 2 must win.
      centers.copyWithin(5 * dimensions, 2 * dimensions, 3 * dimensions);
      const model = new StreamingKMeans({ k: 7, dimensions, initialCenters: centers });
      const points = random.fillGaussian(new Float64Array(1000 * dimensions), 0, 1.5);
      // Some points exactly on centre 2, and exactly halfway between centres 0 and 1.
      points.set(centers.subarray(2 * dimensions, 3 * dimensions), 0);
      for (let j = 0; j < dimensions; j++)
        points[dimensions + j] = (centers[j] + centers[dimensions + j]) / 2;
      const labels = model.predict(points, new Int32Array(1000));
      const table = rows(centers, dimensions);
      const expected = rows(points, dimensions).map(point => closest(table, point));
      expect(Array.from(labels)).toEqual(expected);
      expect(labels[0]).toBe(2);
      expect(expected.includes(5)).toBe(false);
      // predict does not train.
      expect(model.batches).toBe(0);
      expect(model.centers).toEqual(centers);
    });

  it('trainAndPredict labels with the centres before the update, then trains as update()', () => {
    const source = new ClusterSource({ clusters: 10, seed: 3, pointsPerMessage: 1000 });
    const options: StreamingKMeansOptions = {
      k: 10,
      dimensions: 3,
      halfLife: 3,
      randomCenters: { weight: 0, seed: 7 }
    };
    const combined = new StreamingKMeans(options);
    const separate = new StreamingKMeans(options);
    const labels = new Int32Array(1000);
    const predicted = new Int32Array(1000);
    for (let sequence = 0; sequence < 5; sequence++) {
      const { points } = source.message(0, sequence);
      separate.predict(points, predicted);
      separate.update(points);
      expect(combined.trainAndPredict(points, labels)).toBe(labels);
      expect(labels).toEqual(predicted);
    }
    expect(combined.centers).toEqual(separate.centers);
    expect(combined.weights).toEqual(separate.weights);
  });

  it('trains on the first `count` points of a larger buffer', () => {
    const points = new Random(8).fillGaussian(new Float64Array(300));
    const options: StreamingKMeansOptions = {
      k: 3,
      dimensions: 3,
      randomCenters: { weight: 1, seed: 1 }
    };
    const fromCount = new StreamingKMeans(options);
    fromCount.update(points, 40);
    const fromSlice = new StreamingKMeans(options);
    fromSlice.update(points.slice(0, 120));
    expect(fromCount.centers).toEqual(fromSlice.centers);
    expect(fromCount.toJSON().points).toBe(40);
  });

  it('serialises for the widget', () => {
    const model = new StreamingKMeans({
      k: 2,
      dimensions: 2,
      halfLife: 1,
      timeUnit: 'points',
      initialCenters: Float64Array.of(0, 0, 1, 1)
    });
    model.update(Float64Array.of(0.1, 0, 0.9, 1));
    const state = JSON.parse(JSON.stringify(model));
    expect(state).toEqual({
      k: 2,
      dimensions: 2,
      decayFactor: 0.5,
      timeUnit: 'points',
      fusedMultiplyAdd: true,
      centers: [
        [0.1, 0],
        [0.9, 1]
      ],
      weights: [1, 1],
      batches: 1,
      points: 2
    });
  });

  it('refuses bad options, naming the key, the value and what is expected', () => {
    const base: StreamingKMeansOptions = {
      k: 2,
      dimensions: 3,
      initialCenters: [
        [0, 0, 0],
        [1, 1, 1]
      ]
    };
    const bad: [Partial<Record<keyof StreamingKMeansOptions, unknown>>, string][] = [
      [{ k: 0 }, 'k = 0: expected a whole number from 1'],
      [{ k: -3 }, 'k = -3'],
      [{ k: 2.5 }, 'k = 2.5'],
      [{ dimensions: 0 }, 'dimensions = 0'],
      [{ dimensions: 2 }, 'initialCenters[0] has 3 values: expected dimensions = 2'],
      [
        { initialCenters: new Float64Array(5) },
        'initialCenters has 5 values: expected k × dimensions'
      ],
      [{ initialCenters: [[0, 0, 0]] }, 'initialCenters has 1 centres: expected k = 2'],
      [
        {
          initialCenters: [
            [0, 0, 0],
            [1, NaN, 1]
          ]
        },
        'initialCenters[1][1] = NaN'
      ],
      [{ initialWeights: [1, -1] }, 'initialWeights[1] = -1: expected a finite number ≥ 0'],
      [{ initialWeights: [1] }, 'initialWeights has 1 values: expected one per centre'],
      [{ decayFactor: -0.5 }, 'decayFactor = -0.5: expected a finite number ≥ 0'],
      [
        { decayFactor: 0.5, halfLife: 3 },
        'decayFactor = 0.5 and halfLife = 3: expected one or the other'
      ],
      [{ halfLife: 0 }, 'halfLife = 0: expected a number > 0'],
      [{ timeUnit: 'seconds' }, `timeUnit = "seconds": expected 'batches' or 'points'`],
      [{ initialCenters: undefined }, 'initialCenters and randomCenters: expected exactly one'],
      [{ randomCenters: { weight: 1, seed: 1 } }, 'expected exactly one'],
      [{ fusedMultiplyAdd: 'yes' }, 'fusedMultiplyAdd = "yes"']
    ];
    for (const [change, message] of bad) {
      const options = { ...base, ...change } as StreamingKMeansOptions;
      expect(() => new StreamingKMeans(options), JSON.stringify(change)).toThrow(MiniAppInputError);
      expect(() => new StreamingKMeans(options), JSON.stringify(change)).toThrow(message);
    }
    expect(
      () => new StreamingKMeans({ k: 2, dimensions: 3, randomCenters: { weight: -1, seed: 1 } })
    ).toThrow('randomCenters.weight = -1');
  });

  it('refuses bad points and leaves the model as it was', () => {
    const model = new StreamingKMeans({
      k: 2,
      dimensions: 3,
      initialCenters: Float64Array.of(0, 0, 0, 1, 1, 1),
      initialWeights: [3, 4]
    });
    const before = model.toJSON();
    expect(() => model.update(new Float64Array(10))).toThrow(
      'points has 10 values: expected a multiple of dimensions = 3'
    );
    expect(() => model.update(Float64Array.of(0, 0, 0, 1, 2, NaN))).toThrow(
      'points[1][2] = NaN: expected a finite number (the batch was not used)'
    );
    expect(() => model.trainAndPredict(Float64Array.of(Infinity, 0, 0), new Int32Array(1))).toThrow(
      'points[0][0] = Infinity'
    );
    expect(() => model.update([0, 0, 0] as unknown as Float64Array)).toThrow(
      'expected a Float64Array of points × dimensions'
    );
    expect(() => model.update(new Float64Array(6), 3)).toThrow(
      'count = 3: expected a whole number from 0 to 2'
    );
    expect(() => model.predict(new Float64Array(6), new Int32Array(1))).toThrow(
      'expected an Int32Array of at least 2 labels'
    );
    expect(() =>
      model.predict(new Float64Array(6), new Float64Array(2) as unknown as Int32Array)
    ).toThrow(MiniAppInputError);
    expect(model.toJSON()).toEqual(before);
  });
});
