import { describe, expect, it } from 'vitest';
import { MiniAppInputError } from '../../../../src/miniapps/errors.js';
import {
  ClusterSource,
  StaticClusterSource
} from '../../../../src/miniapps/mass/cluster-source.js';
import type {
  ClusterMessage,
  ClusterSourceOptions
} from '../../../../src/miniapps/mass/cluster-source.js';

const OPTIONS: ClusterSourceOptions = { clusters: 10, seed: 2018, spread: 0.5 };

/** Same length and bit-identical values (toEqual on 15,000 values is slow). */
function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

function sameMessage(a: ClusterMessage, b: ClusterMessage): boolean {
  return same(a.points, b.points) && same(a.labels, b.labels);
}

describe('cluster source', () => {
  it('sends 5,000 3-D points by default, each with the centroid it was drawn around', () => {
    const source = new ClusterSource(OPTIONS);
    const { points, labels } = source.message(0, 0);
    expect(source.dimensions).toBe(3);
    expect(source.pointsPerMessage).toBe(5000);
    expect(points).toBeInstanceOf(Float64Array);
    expect(points.length).toBe(15_000);
    expect(labels).toBeInstanceOf(Int32Array);
    expect(labels.length).toBe(5000);
    expect(Math.min(...labels)).toBe(0);
    expect(Math.max(...labels)).toBe(9);
  });

  it('is a function of (seed, producer, sequence number): any message can be regenerated', () => {
    const a = new ClusterSource(OPTIONS);
    const b = new ClusterSource(OPTIONS);
    const message = a.message(3, 41);
    expect(sameMessage(b.message(3, 41), message)).toBe(true);
    // Regenerated into a reused message, after others: the same again.
    const reused = b.allocate();
    b.message(0, 0, reused);
    expect(b.message(3, 41, reused)).toBe(reused);
    expect(sameMessage(reused, message)).toBe(true);

    expect(same(a.message(3, 42).points, message.points)).toBe(false);
    expect(same(a.message(4, 41).points, message.points)).toBe(false);
    const otherSeed = new ClusterSource({ ...OPTIONS, seed: 2019 });
    expect(same(otherSeed.message(3, 41).points, message.points)).toBe(false);
    // Every producer scatters around the same centroids, fixed by the seed alone.
    expect(new ClusterSource(OPTIONS).centroids).toEqual(a.centroids);
  });

  it('scatters points around their centroids with the spread asked for', () => {
    const spread = 0.5;
    const source = new ClusterSource({ ...OPTIONS, spread, pointsPerMessage: 20_000 });
    const { points, labels } = source.message(1, 1);
    const centroids = source.centroids;
    let squaredDistance = 0;
    const residualSum = [0, 0, 0];
    const perCluster = new Array<number>(10).fill(0);
    for (let p = 0; p < labels.length; p++) {
      perCluster[labels[p]]++;
      for (let j = 0; j < 3; j++) {
        const residual = points[p * 3 + j] - centroids[labels[p] * 3 + j];
        residualSum[j] += residual;
        squaredDistance += residual * residual;
      }
    }
    // E‖x − c‖² = spread² · d, so the root-mean-square distance is spread · √d.
    const rmsDistance = Math.sqrt(squaredDistance / labels.length);
    expect(rmsDistance / (spread * Math.sqrt(3))).toBeCloseTo(1, 1);
    for (const sum of residualSum) expect(Math.abs(sum / labels.length)).toBeLessThan(0.02);
    // Centroids are picked uniformly.
    for (const count of perCluster) expect(Math.abs(count - 2000)).toBeLessThan(200);
  });

  it('draws centroids in the box from the seed, or takes the ones given', () => {
    const random = new ClusterSource({ ...OPTIONS, box: 4 }).centroids;
    expect(random.length).toBe(30);
    expect(random.every(x => x >= -4 && x < 4)).toBe(true);

    const given = [
      [0, 0],
      [100, 100]
    ];
    const source = new ClusterSource({
      clusters: 2,
      dimensions: 2,
      seed: 1,
      spread: 0,
      centroids: given
    });
    expect(Array.from(source.centroids)).toEqual([0, 0, 100, 100]);
    const { points, labels } = source.message(0, 0);
    // With no spread every point is its centroid.
    const expected = Array.from(labels).flatMap(label => given[label]);
    expect(same(points, expected)).toBe(true);
    const flat = new ClusterSource({
      clusters: 2,
      dimensions: 2,
      seed: 1,
      spread: 0,
      centroids: Float64Array.of(0, 0, 100, 100)
    });
    expect(sameMessage(flat.message(0, 0), source.message(0, 0))).toBe(true);
  });

  it('refuses bad options, naming the key, the value and what is expected', () => {
    const bad: [Partial<ClusterSourceOptions>, string][] = [
      [{ clusters: 0 }, 'clusters = 0: expected a whole number from 1'],
      [{ clusters: 2.5 }, 'clusters = 2.5'],
      [{ dimensions: 0 }, 'dimensions = 0'],
      [{ pointsPerMessage: -5 }, 'pointsPerMessage = -5'],
      [{ spread: -1 }, 'spread = -1: expected a finite number ≥ 0'],
      [{ spread: NaN }, 'spread = null'],
      [{ seed: -1 }, 'seed = -1'],
      [{ box: -3 }, 'box = -3'],
      [{ centroids: [[1, 2, 3]] }, 'centroids has 1 rows: expected one per cluster (10)'],
      [
        { centroids: new Float64Array(29) },
        'centroids has 29 values: expected clusters × dimensions'
      ],
      [
        {
          clusters: 2,
          centroids: [
            [1, 2, 3],
            [4, NaN, 6]
          ]
        },
        'centroids[1][1] = NaN: expected a finite number'
      ],
      [
        {
          clusters: 2,
          centroids: [
            [1, 2, 3],
            [4, 5]
          ]
        },
        'centroids[1] has 2 values: expected 3'
      ],
      [{ clusters: 1, centroids: [[1, 2, 3]], box: 5 }, 'box = 5 with centroids given']
    ];
    for (const [change, message] of bad) {
      const options = { ...OPTIONS, ...change } as ClusterSourceOptions;
      expect(() => new ClusterSource(options), JSON.stringify(change)).toThrow(MiniAppInputError);
      expect(() => new ClusterSource(options), JSON.stringify(change)).toThrow(message);
    }
    const source = new ClusterSource(OPTIONS);
    expect(() => source.message(-1, 0)).toThrow('producer = -1');
    expect(() => source.message(0, 0.5)).toThrow('sequence = 0.5');
    const wrong = { points: new Float64Array(3), labels: new Int32Array(5000) };
    expect(() => source.message(0, 0, wrong)).toThrow('into.points has 3 values');
  });
});

describe('static source', () => {
  it('replays one cluster message, the same arrays every time', () => {
    const source = new StaticClusterSource({ ...OPTIONS, pointsPerMessage: 100 });
    const first = source.message();
    expect(source.message()).toBe(first);
    const regenerated = new ClusterSource({ ...OPTIONS, pointsPerMessage: 100 }).message(0, 0);
    expect(sameMessage(first, regenerated)).toBe(true);
    expect(source.pointsPerMessage).toBe(100);
    expect(source.dimensions).toBe(3);
  });
});
