import { findCenterWithGridrec } from '../../recon/auto-center.js';
import { resolveOptions, type ReconstructOptions } from '../../recon/options.js';
import { createReconstructor, type StreamingReconstructor } from '../../recon/reconstruct.js';
import { MiniAppInputError } from '../errors.js';
import type { DecodedMessage } from '../messages/format.js';

/** The widest detector the options are checked against before the first message. */
const MAX_DETECTOR_WIDTH = 16_384;

/** What a reconstruction consumer does with each light-source message. */
export interface ReconstructionProcessorOptions extends Omit<
  ReconstructOptions,
  'center' | 'threads'
> {
  /**
   * The rotation centre: a number, `message` (the one each message carries) or `auto` (found
   * once per geometry from the first message, as TomoPy's find_center). Default: `message` when
   * messages carry one, else `auto`.
   */
  readonly center?: number | 'message' | 'auto';
}

/** The slices reconstructed from one message. */
export interface ReconstructedMessage {
  readonly images: Float32Array;
  readonly slices: number;
  readonly size: number;
  readonly center: number;
  readonly firstRow: number;
}

/**
 * MASA's reconstruction step: decodes nothing itself (it takes decoded messages), keeps one
 * streaming reconstructor per geometry, and reconstructs every sinogram of a message in turn in
 * the calling thread (a consumer is one core; more cores mean more consumers).
 */
export class ReconstructionProcessor {
  private readonly reconstructors = new Map<string, Promise<StreamingReconstructor>>();
  private readonly centers = new Map<string, Promise<number>>();

  constructor(private readonly options: ReconstructionProcessorOptions) {
    // Algorithm, filter and iterations are checked now, not at the first message; the detector
    // width is not known yet, so the largest one stands in for it.
    resolveOptions({ ...options, center: undefined }, MAX_DETECTOR_WIDTH);
    const center = options.center;
    if (
      center !== undefined &&
      center !== 'message' &&
      center !== 'auto' &&
      !Number.isFinite(center)
    )
      throw new MiniAppInputError(
        `center = ${JSON.stringify(center)}: expected a detector coordinate, "message" or "auto"`
      );
  }

  async process(message: DecodedMessage): Promise<ReconstructedMessage> {
    const [result] = await this.processMany([message]);
    return result!;
  }

  /**
   * Several messages at once: consecutive ones of one geometry and centre are reconstructed as
   * one block, so GridRec pairs slices across messages as the offline reconstruction does.
   */
  async processMany(messages: readonly DecodedMessage[]): Promise<ReconstructedMessage[]> {
    const prepared = [];
    for (const message of messages) prepared.push(await this.prepare(message));
    const results: ReconstructedMessage[] = [];
    for (let i = 0; i < prepared.length;) {
      let end = i + 1;
      while (
        end < prepared.length &&
        prepared[end]!.key === prepared[i]!.key &&
        prepared[end]!.center === prepared[i]!.center
      )
        end++;
      const group = prepared.slice(i, end);
      const ready = await group[0]!.reconstructor;
      const slices = group.reduce((n, p) => n + p.slices, 0);
      // One message is reconstructed from its own bytes; several are copied into one block.
      const block =
        group.length === 1
          ? group[0]!.payload
          : concatenate(
              group.map(p => p.payload),
              slices * group[0]!.length
            );
      const images = ready.reconstructBlock(block, slices, group[0]!.center);
      const imageLength = ready.size * ready.size;
      let offset = 0;
      for (const p of group) {
        results.push({
          images: images.subarray(offset * imageLength, (offset + p.slices) * imageLength),
          slices: p.slices,
          size: ready.size,
          center: p.center,
          firstRow: p.firstRow
        });
        offset += p.slices;
      }
      i = end;
    }
    return results;
  }

  /** Checks a message and finds its reconstructor and centre. */
  private async prepare(message: DecodedMessage) {
    const { header, payload } = message;
    if (header.kind !== 'sinograms' || !(payload instanceof Float32Array))
      throw new MiniAppInputError(
        `message ${header.sequence} of producer ${header.producerId} holds ${header.kind} (${header.dtype}): a reconstruction consumer expects sinograms (float32)`
      );
    const geometry = header.geometry;
    if (geometry === undefined)
      throw new MiniAppInputError(
        `message ${header.sequence} of producer ${header.producerId} carries no angles: a light-source source must send its geometry`
      );
    const [slices, angleCount, pixels] = header.shape;
    const key = `${pixels}/${Array.prototype.join.call(geometry.angles, ',')}`;
    const length = angleCount * pixels;
    const center = await this.centerFor(
      key,
      geometry.rotationCenter,
      payload.subarray(0, length),
      geometry.angles,
      pixels
    );
    let reconstructor = this.reconstructors.get(key);
    if (reconstructor === undefined) {
      reconstructor = createReconstructor(geometry.angles, pixels, { ...this.options, center });
      this.reconstructors.set(key, reconstructor);
    }
    return { key, center, reconstructor, payload, slices, length, firstRow: geometry.firstRow };
  }

  private centerFor(
    key: string,
    carried: number,
    sinogram: Float32Array,
    angles: Float32Array,
    pixels: number
  ): Promise<number> {
    const choice = this.options.center ?? (Number.isFinite(carried) ? 'message' : 'auto');
    if (typeof choice === 'number') return Promise.resolve(choice);
    if (choice === 'message') {
      if (!Number.isFinite(carried))
        throw new MiniAppInputError(
          'center = "message", but the message carries no rotation centre: give one to the source or use center: "auto"'
        );
      return Promise.resolve(carried);
    }
    let found = this.centers.get(key);
    if (found === undefined) {
      found = findCenterWithGridrec(sinogram.slice(), angles, pixels).then(result => result.center);
      this.centers.set(key, found);
    }
    return found;
  }
}

function concatenate(parts: readonly Float32Array[], total: number): Float32Array {
  const out = new Float32Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
