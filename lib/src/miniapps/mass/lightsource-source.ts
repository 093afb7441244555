import { ReconInputError } from '../../recon/errors.js';
import { loadSinograms, type LoadedSinograms } from '../../recon/load.js';
import { MiniAppInputError } from '../errors.js';
import type { MessageHeader } from '../messages/format.js';

export interface LightSourceOptions {
  /** An APS DataExchange HDF5 file (normalised by its flat and dark fields, then -log). */
  readonly file: string;
  /** Sinograms per message (default 1: 181 × 640 float32, 463 kB for the tooth). */
  readonly slicesPerMessage?: number;
  /** The rotation centre to put in each message, when known (consumers may find it instead). */
  readonly rotationCenter?: number;
}

/** One light-source message: its header fields and its payload (a view of the loaded block). */
export interface LightSourceMessage {
  readonly header: Pick<MessageHeader, 'kind' | 'shape' | 'geometry'>;
  readonly payload: Float32Array;
}

/**
 * The `lightsource` source: a file's sinograms, `slicesPerMessage` at a time, in turn (after the
 * last row it starts again at the first, so a run can send more messages than the file has
 * rows). Each message carries its angles and first detector row, so a consumer needs nothing
 * else to reconstruct it.
 */
export class LightSourceSource {
  private constructor(
    private readonly loaded: LoadedSinograms,
    readonly slicesPerMessage: number,
    private readonly rotationCenter: number | undefined
  ) {}

  static async open(options: LightSourceOptions): Promise<LightSourceSource> {
    const slicesPerMessage = options.slicesPerMessage ?? 1;
    if (!Number.isInteger(slicesPerMessage) || slicesPerMessage < 1)
      throw new MiniAppInputError(
        `slicesPerMessage = ${JSON.stringify(slicesPerMessage)}: expected a whole number ≥ 1`
      );
    const center = options.rotationCenter;
    if (center !== undefined && !Number.isFinite(center))
      throw new MiniAppInputError(
        `rotationCenter = ${JSON.stringify(center)}: expected a detector coordinate`
      );
    let loaded: LoadedSinograms;
    try {
      loaded = await loadSinograms(options.file);
    } catch (error) {
      // The reader's message names the file and dataset; say which source option it came from.
      if (error instanceof ReconInputError)
        throw new MiniAppInputError(`lightsource file: ${error.message}`);
      throw error;
    }
    return new LightSourceSource(loaded, slicesPerMessage, center);
  }

  /** Rows of the file: the number of distinct sinograms. */
  get rows(): number {
    return this.loaded.sinograms.slices;
  }

  /** Bytes of one message's payload. */
  get payloadBytes(): number {
    const { angles, pixels } = this.loaded.sinograms;
    return this.slicesPerMessage * angles * pixels * 4;
  }

  /** Message `sequence`: rows sequence·n … sequence·n + n − 1, wrapping around the file. */
  message(sequence: number): LightSourceMessage {
    const { sinograms, angles } = this.loaded;
    const length = sinograms.angles * sinograms.pixels;
    const first = (sequence * this.slicesPerMessage) % sinograms.slices;
    let payload: Float32Array;
    if (first + this.slicesPerMessage <= sinograms.slices) {
      payload = sinograms.data.subarray(first * length, (first + this.slicesPerMessage) * length);
    } else {
      payload = new Float32Array(this.slicesPerMessage * length);
      for (let s = 0; s < this.slicesPerMessage; s++) {
        const row = (first + s) % sinograms.slices;
        payload.set(sinograms.data.subarray(row * length, (row + 1) * length), s * length);
      }
    }
    return {
      header: {
        kind: 'sinograms',
        shape: [this.slicesPerMessage, sinograms.angles, sinograms.pixels],
        geometry: {
          angles,
          firstRow: this.loaded.firstRow + first,
          rotationCenter: this.rotationCenter ?? Number.NaN
        }
      },
      payload
    };
  }
}
