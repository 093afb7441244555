import { inspect } from 'node:util';
import { TO_MIME_BUNDLE, type KernelPlugin, type MimeBundle } from '../kernel/api.js';
import { findCenterWithGridrec } from './auto-center.js';
import { readDataExchange } from './data-exchange.js';
import { ReconInputError } from './errors.js';
import { loadSinograms } from './load.js';
import { readNpy, writeNpy } from './npy.js';
import type { ReconstructOptions } from './options.js';
import { minusLog, normalize, projectionsToSinograms } from './preprocess.js';
import {
  createReconstructor,
  reconstruct,
  type Reconstruction,
  type RunControl
} from './reconstruct.js';
import { autoContrast, slicePng, type DisplayRange } from './slice-image.js';
import { isFloat32Array, type SinogramStack } from './types.js';

/** A slice as a notebook shows it: the image with auto contrast, and a line of text. */
export function sliceBundle(
  image: Float32Array,
  size: number,
  caption: string,
  range: DisplayRange = autoContrast(image)
): MimeBundle {
  return {
    'image/png': slicePng(image, size, size, range).toString('base64'),
    'text/plain': `${caption} (grey levels ${range.low.toPrecision(4)} … ${range.high.toPrecision(4)})`
  };
}

/** What `recon.reconstruct()` gives a cell: the slices, shown as the middle one. */
export class ReconstructedSlices implements Reconstruction {
  readonly data: Float32Array;
  readonly slices: number;
  readonly size: number;
  readonly centers: Float64Array;
  readonly foundCenter: Reconstruction['foundCenter'];

  constructor(
    result: Reconstruction,
    readonly algorithm: string
  ) {
    this.data = result.data;
    this.slices = result.slices;
    this.size = result.size;
    this.centers = result.centers;
    this.foundCenter = result.foundCenter;
  }

  /** Slice `index` (size × size, row-major). */
  slice(index: number): Float32Array {
    if (!Number.isInteger(index) || index < 0 || index >= this.slices)
      throw new ReconInputError(`slice ${index}: expected an index from 0 to ${this.slices - 1}`);
    const length = this.size * this.size;
    return this.data.subarray(index * length, (index + 1) * length);
  }

  /** A bundle showing slice `index` (default: the middle one). */
  show(index = Math.floor(this.slices / 2)): MimeBundle {
    return sliceBundle(this.slice(index), this.size, `${this[inspect.custom]()}, slice ${index}`);
  }

  [TO_MIME_BUNDLE](): MimeBundle {
    return this.show();
  }

  [inspect.custom](): string {
    const centre = [...new Set(this.centers)].map(c => c.toFixed(2)).join(', ');
    const found = this.foundCenter === undefined ? '' : ' found automatically';
    return `${this.slices} slice${this.slices === 1 ? '' : 's'} of ${this.size}×${this.size} by ${this.algorithm}, centre ${centre}${found}`;
  }
}

/** `recon.show(image)` for any square image (a Float32Array of size × size). */
function show(image: Float32Array | ReconstructedSlices, index?: number): MimeBundle {
  if (image instanceof ReconstructedSlices) return image.show(index);
  if (!isFloat32Array(image))
    throw new ReconInputError(
      'recon.show(image): expected a Float32Array of size × size values or a reconstruction'
    );
  const size = Math.round(Math.sqrt(image.length));
  if (size * size !== image.length || size === 0)
    throw new ReconInputError(
      `recon.show(image): ${image.length} values do not make a square image`
    );
  return sliceBundle(image, size, `${size}×${size} image`);
}

/**
 * Defines `recon` in cells: reading (HDF5, .npy), preprocessing, the centre finder,
 * `recon.reconstruct(sinograms, angles, {algorithm, filter, iterations, center})` whose result
 * shows the middle slice as an image, a streaming reconstructor, and `recon.show(image)`.
 */
export const reconKernelPlugin: KernelPlugin = kernel => {
  kernel.defineGlobal('recon', {
    load: loadSinograms,
    readDataExchange,
    readNpy,
    writeNpy,
    normalize,
    minusLog,
    projectionsToSinograms,
    findCenter: (sinogram: Float32Array, angles: Float32Array, pixels: number) =>
      findCenterWithGridrec(sinogram, angles, pixels),
    async reconstruct(
      sinograms: SinogramStack,
      angles: Float32Array,
      options: ReconstructOptions,
      control?: RunControl
    ): Promise<ReconstructedSlices> {
      const result = await reconstruct(sinograms, angles, options, control);
      return new ReconstructedSlices(result, options.algorithm);
    },
    createReconstructor,
    show
  });
};
