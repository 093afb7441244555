/**
 * MASS's `cluster` and `static` sources: messages of random points scattered around a fixed set
 * of centroids, the input of the streaming-KMeans MASA. Each point picks a centroid uniformly and
 * adds normal noise of standard deviation `spread` to every coordinate.
 *
 * A message is a function of (seed, producer, sequence number) alone, so a consumer's result for
 * any message can be checked by regenerating that message, in any process.
 */
import { nonNegativeNumber, wholeNumber } from '../checks.js';
import { MiniAppInputError } from '../errors.js';
import { Random } from '../random.js';

export interface ClusterSourceOptions {
  /** How many centroids the points are scattered around. */
  readonly clusters: number;
  /** Coordinates per point (default 3). */
  readonly dimensions?: number;
  /** Points in one message (default 5,000, as the Pilot-Streaming paper). */
  readonly pointsPerMessage?: number;
  /** Standard deviation of each coordinate around its centroid (default 1). */
  readonly spread?: number;
  /** Whole number from 0 to 2^53 − 1; with the producer and sequence number it fixes a message. */
  readonly seed: number;
  /**
   * The centroids, `clusters` × `dimensions` (flat row-major or one array per centroid). When
   * absent they are drawn from the seed uniformly in [−box, box) per coordinate.
   */
  readonly centroids?: Float64Array | ArrayLike<ArrayLike<number>>;
  /** Half-width of the box that random centroids are drawn in (default 10). */
  readonly box?: number;
}

/** One message: `points` is points × dimensions, row-major; `labels` the centroid of each point. */
export interface ClusterMessage {
  readonly points: Float64Array;
  readonly labels: Int32Array;
}

/** What a MASS producer needs from a source. */
export interface PointSource {
  readonly dimensions: number;
  readonly pointsPerMessage: number;
  message(producer: number, sequence: number): ClusterMessage;
}

// Bounds that keep one message well inside memory (2^26 coordinates = 512 MiB).
const MAX_CLUSTERS = 1 << 20;
const MAX_DIMENSIONS = 1 << 16;
const MAX_COORDINATES_PER_MESSAGE = 1 << 26;

/** Centroids given as a flat array or one array per centroid, checked and copied. */
function readCentroids(
  value: Float64Array | ArrayLike<ArrayLike<number>>,
  clusters: number,
  dimensions: number
): Float64Array {
  const centroids = new Float64Array(clusters * dimensions);
  if (ArrayBuffer.isView(value)) {
    if (value.length !== centroids.length)
      throw new MiniAppInputError(
        `centroids has ${value.length} values: expected clusters × dimensions = ${clusters} × ${dimensions} = ${centroids.length}`
      );
    centroids.set(value);
  } else {
    if (value?.length !== clusters)
      throw new MiniAppInputError(
        `centroids has ${value?.length} rows: expected one per cluster (${clusters})`
      );
    for (let c = 0; c < clusters; c++) {
      const row = value[c];
      if (row?.length !== dimensions)
        throw new MiniAppInputError(
          `centroids[${c}] has ${row?.length} values: expected ${dimensions} (dimensions)`
        );
      for (let j = 0; j < dimensions; j++) centroids[c * dimensions + j] = row[j];
    }
  }
  const bad = centroids.findIndex(x => !Number.isFinite(x));
  if (bad >= 0)
    throw new MiniAppInputError(
      `centroids[${Math.floor(bad / dimensions)}][${bad % dimensions}] = ${centroids[bad]}: expected a finite number`
    );
  return centroids;
}

export class ClusterSource implements PointSource {
  readonly clusters: number;
  readonly dimensions: number;
  readonly pointsPerMessage: number;
  readonly spread: number;
  readonly seed: number;
  private readonly centroidValues: Float64Array;

  constructor(options: ClusterSourceOptions) {
    if (options === null || typeof options !== 'object')
      throw new MiniAppInputError(
        `cluster source options = ${JSON.stringify(options)}: expected an object with clusters and seed`
      );
    this.clusters = wholeNumber('clusters', options.clusters, 1, MAX_CLUSTERS);
    this.dimensions = wholeNumber('dimensions', options.dimensions ?? 3, 1, MAX_DIMENSIONS);
    this.pointsPerMessage = wholeNumber(
      'pointsPerMessage',
      options.pointsPerMessage ?? 5000,
      1,
      Math.floor(MAX_COORDINATES_PER_MESSAGE / this.dimensions)
    );
    this.spread = nonNegativeNumber('spread', options.spread ?? 1);
    this.seed = wholeNumber('seed', options.seed, 0, Number.MAX_SAFE_INTEGER);
    if (options.centroids !== undefined) {
      if (options.box !== undefined)
        throw new MiniAppInputError(
          `box = ${JSON.stringify(options.box)} with centroids given: expected one or the other`
        );
      this.centroidValues = readCentroids(options.centroids, this.clusters, this.dimensions);
    } else {
      const box = nonNegativeNumber('box', options.box ?? 10);
      // Keyed by the seed alone, so every producer scatters around the same centroids.
      const random = new Random(this.seed);
      this.centroidValues = random.fillUniform(
        new Float64Array(this.clusters * this.dimensions),
        -box,
        box
      );
    }
  }

  /** The centroids, clusters × dimensions row-major (a copy). */
  get centroids(): Float64Array {
    return this.centroidValues.slice();
  }

  /** A new, empty message of this source's size, to pass to `message()` again and again. */
  allocate(): ClusterMessage {
    return {
      points: new Float64Array(this.pointsPerMessage * this.dimensions),
      labels: new Int32Array(this.pointsPerMessage)
    };
  }

  /**
   * Message `sequence` of producer `producer`, written into `into` when given (no allocation),
   * else into new arrays. The same arguments give the same message in any process.
   */
  message(producer: number, sequence: number, into?: ClusterMessage): ClusterMessage {
    wholeNumber('producer', producer, 0, Number.MAX_SAFE_INTEGER);
    wholeNumber('sequence', sequence, 0, Number.MAX_SAFE_INTEGER);
    const message = into ?? this.allocate();
    const { points, labels } = message;
    if (points?.length !== this.pointsPerMessage * this.dimensions)
      throw new MiniAppInputError(
        `into.points has ${points?.length} values: expected pointsPerMessage × dimensions = ${this.pointsPerMessage * this.dimensions}`
      );
    if (labels?.length !== this.pointsPerMessage)
      throw new MiniAppInputError(
        `into.labels has ${labels?.length} values: expected pointsPerMessage = ${this.pointsPerMessage}`
      );

    const random = new Random(this.seed, producer, sequence);
    random.fillIndex(labels, this.clusters);
    random.fillGaussian(points, 0, this.spread);
    const d = this.dimensions;
    const centroids = this.centroidValues;
    for (let p = 0, offset = 0; p < labels.length; p++, offset += d) {
      const base = labels[p] * d;
      for (let j = 0; j < d; j++) points[offset + j] += centroids[base + j];
    }
    return message;
  }
}

/**
 * MASS's `static` source: one cluster message (producer 0, sequence 0) made once and sent again
 * and again, to measure the transport without the cost of generating data. Every call returns the
 * same arrays: a caller must not change them.
 */
export class StaticClusterSource implements PointSource {
  readonly dimensions: number;
  readonly pointsPerMessage: number;
  private readonly payload: ClusterMessage;

  constructor(options: ClusterSourceOptions) {
    const source = new ClusterSource(options);
    this.dimensions = source.dimensions;
    this.pointsPerMessage = source.pointsPerMessage;
    this.payload = source.message(0, 0);
  }

  message(): ClusterMessage {
    return this.payload;
  }
}
