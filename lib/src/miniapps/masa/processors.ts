/**
 * The processors a MASA consumer can run, behind one interface: KMeans, the reconstruction
 * algorithms, a counter (for broker benchmarks) and a user function shipped as source text.
 */
import { join } from 'node:path';
import type { FilterName } from '../../recon/filters.js';
import { writeNpy } from '../../recon/npy.js';
import { slicePng } from '../../recon/slice-image.js';
import type { MiniAppKMeansView, MiniAppSliceView } from '../../protocol/miniapps.js';
import { MiniAppInputError } from '../errors.js';
import type { DecodedMessage } from '../messages/format.js';
import { compileUserFunction } from '../mass/sources.js';
import type { ProcessorSpec } from '../runs/spec.js';
import { ReconstructionProcessor } from './reconstruction-processor.js';
import { StreamingKMeans } from './streaming-kmeans.js';

/** The widest slice image a report carries; larger slices are averaged down to it. */
const THUMBNAIL_PIXELS = 256;

/** What the consumer's reports show besides counts: the newest slice or model. */
export interface ProcessorView {
  slice?: MiniAppSliceView;
  kmeans?: Omit<MiniAppKMeansView, 'pointsPerSecond'>;
}

export interface MessageProcessor {
  process(message: DecodedMessage): Promise<void>;
  /**
   * How many messages the consumer may hand over at once (to processMany) when they are
   * waiting: more than one where doing them together is cheaper (GridRec's slice pairs).
   */
  readonly groupSize: number;
  processMany(messages: readonly DecodedMessage[]): Promise<void>;
  /** The view of the newest result, or undefined when nothing changed since the last call. */
  takeView(): ProcessorView | undefined;
}

/** A user function failed: its own stack, not ours, is what the user needs. */
export class UserFunctionError extends Error {
  constructor(name: string, cause: unknown) {
    const error = cause instanceof Error ? cause : new Error(String(cause));
    super(`processor function "${name}" threw ${error.name}: ${error.message}`);
    this.name = 'UserFunctionError';
    this.stack = `${this.name}: ${this.message}\n${(error.stack ?? '').split('\n').slice(1).join('\n')}`;
  }
}

/** Averages a size × size image down to at most THUMBNAIL_PIXELS a side. */
export function thumbnail(
  image: Float32Array,
  size: number
): { image: Float32Array; size: number } {
  const factor = Math.ceil(size / THUMBNAIL_PIXELS);
  if (factor <= 1) return { image, size };
  const small = Math.floor(size / factor);
  const out = new Float32Array(small * small);
  const norm = 1 / (factor * factor);
  for (let y = 0; y < small; y++)
    for (let x = 0; x < small; x++) {
      let sum = 0;
      for (let dy = 0; dy < factor; dy++) {
        const row = (y * factor + dy) * size + x * factor;
        for (let dx = 0; dx < factor; dx++) sum += image[row + dx];
      }
      out[y * small + x] = sum * norm;
    }
  return { image: out, size: small };
}

/** Processors that gain nothing from groups take the messages one by one. */
abstract class OneByOne implements MessageProcessor {
  readonly groupSize = 1;
  abstract process(message: DecodedMessage): Promise<void>;
  abstract takeView(): ProcessorView | undefined;

  async processMany(messages: readonly DecodedMessage[]): Promise<void> {
    for (const message of messages) await this.process(message);
  }
}

class CountProcessor extends OneByOne {
  async process(): Promise<void> {}

  takeView(): undefined {
    return undefined;
  }
}

class KMeansProcessor extends OneByOne {
  private model: StreamingKMeans | undefined;
  private labels = new Int32Array(0);
  private changed = false;

  constructor(private readonly spec: Extract<ProcessorSpec, { kind: 'kmeans' }>) {
    super();
  }

  async process(message: DecodedMessage): Promise<void> {
    const { header, payload } = message;
    if (header.kind !== 'points' || !(payload instanceof Float64Array))
      throw new MiniAppInputError(
        `message ${header.sequence} of producer ${header.producerId} holds ${header.kind} (${header.dtype}): a kmeans consumer expects points (float64)`
      );
    const [count, dimensions] = header.shape;
    this.model ??= new StreamingKMeans({
      k: this.spec.k,
      dimensions,
      timeUnit: this.spec.timeUnit,
      ...(this.spec.halfLife !== undefined
        ? { halfLife: this.spec.halfLife }
        : { decayFactor: this.spec.decayFactor ?? 1 }),
      randomCenters: { weight: 0, seed: this.spec.seed }
    });
    if (dimensions !== this.model.dimensions)
      throw new MiniAppInputError(
        `message ${header.sequence} of producer ${header.producerId} has ${dimensions}-D points: this consumer's model is ${this.model.dimensions}-D`
      );
    if (this.labels.length < count) this.labels = new Int32Array(count);
    this.model.trainAndPredict(payload, this.labels, count);
    this.changed = true;
  }

  takeView(): ProcessorView | undefined {
    if (!this.changed || this.model === undefined) return undefined;
    this.changed = false;
    const state = this.model.toJSON();
    return { kmeans: { centers: state.centers, weights: state.weights, points: state.points } };
  }
}

class ReconstructionView implements MessageProcessor {
  private readonly processor: ReconstructionProcessor;
  private pending:
    | { message: DecodedMessage; result: Awaited<ReturnType<ReconstructionProcessor['process']>> }
    | undefined;

  constructor(private readonly spec: Extract<ProcessorSpec, { kind: ReconKind }>) {
    // GridRec does two slices for about the price of one.
    this.groupSize = spec.kind === 'gridrec' ? 2 : 1;
    this.processor = new ReconstructionProcessor({
      algorithm: spec.kind,
      ...(spec.filter !== undefined ? { filter: spec.filter as FilterName } : {}),
      ...(spec.iterations !== undefined ? { iterations: spec.iterations } : {}),
      ...(spec.clipNegative !== undefined ? { clipNegative: spec.clipNegative } : {}),
      ...(spec.center !== undefined ? { center: spec.center } : {})
    });
  }

  readonly groupSize: number;

  async process(message: DecodedMessage): Promise<void> {
    await this.processMany([message]);
  }

  async processMany(messages: readonly DecodedMessage[]): Promise<void> {
    const results = await this.processor.processMany(messages);
    for (const [i, result] of results.entries()) {
      const message = messages[i]!;
      if (this.spec.output !== undefined) {
        const { producerId, sequence } = message.header;
        const name = `${message.header.runId}-p${producerId}-s${sequence}-row${result.firstRow}.npy`;
        await writeNpy(
          join(this.spec.output, name),
          [result.slices, result.size, result.size],
          result.images
        );
      }
      // The PNG is made at report time, for the newest message only.
      this.pending = { message, result };
    }
  }

  takeView(): ProcessorView | undefined {
    if (this.pending === undefined) return undefined;
    const { message, result } = this.pending;
    this.pending = undefined;
    const first = result.images.subarray(0, result.size * result.size);
    const small = thumbnail(first, result.size);
    const png = slicePng(small.image, small.size);
    return {
      slice: {
        png: `data:image/png;base64,${png.toString('base64')}`,
        width: small.size,
        height: small.size,
        row: result.firstRow,
        producerId: message.header.producerId,
        sequence: message.header.sequence,
        center: result.center,
        algorithm: this.spec.kind
      }
    };
  }
}

type ReconKind = 'gridrec' | 'fbp' | 'mlem' | 'sirt' | 'bp';

class FunctionProcessor extends OneByOne {
  private readonly fn: (message: DecodedMessage) => unknown;

  constructor(private readonly spec: Extract<ProcessorSpec, { kind: 'function' }>) {
    super();
    this.fn = compileUserFunction(spec.source, 'processor') as (message: DecodedMessage) => unknown;
  }

  async process(message: DecodedMessage): Promise<void> {
    try {
      await this.fn(message);
    } catch (error) {
      throw new UserFunctionError(this.spec.name, error);
    }
  }

  takeView(): undefined {
    return undefined;
  }
}

/** Checks the spec (algorithm, filter, iterations) before the first message. */
export function createProcessor(spec: ProcessorSpec): MessageProcessor {
  switch (spec.kind) {
    case 'kmeans':
      return new KMeansProcessor(spec);
    case 'count':
      return new CountProcessor();
    case 'function':
      return new FunctionProcessor(spec);
    default:
      return new ReconstructionView(spec);
  }
}
