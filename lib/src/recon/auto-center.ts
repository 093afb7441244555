import { findCenter } from './center.js';
import { GridrecPlan } from './gridrec/gridrec.js';

/** A centre found from the data and how it was found, for the user to see. */
export interface FoundCenter {
  readonly center: number;
  readonly method: string;
  readonly evaluations: number;
  /** Time the search took. */
  readonly seconds: number;
}

/**
 * TomoPy's `find_center` with our GridRec (shepp filter, as TomoPy's uses by default): the centre
 * whose reconstruction has the least histogram entropy, from Nelder–Mead started at the middle.
 */
export async function findCenterWithGridrec(
  sinogram: Float32Array,
  angles: Float32Array,
  pixels: number
): Promise<FoundCenter> {
  const started = performance.now();
  const plan = await GridrecPlan.create({ angles, pixels, size: pixels, filter: 'shepp' });
  const image = new Float32Array(pixels * pixels);
  const result = findCenter(sinogram, angles.length, pixels, (slice, center) => {
    plan.reconstructPair(slice, undefined, center, image, undefined);
    return image.slice();
  });
  return {
    center: result.center,
    method: 'minimum histogram entropy of GridRec images (TomoPy find_center)',
    evaluations: result.evaluations,
    seconds: (performance.now() - started) / 1000
  };
}
