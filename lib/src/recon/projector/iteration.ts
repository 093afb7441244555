import { ReconInputError } from '../errors.js';

/** TomoPy's starting image for its iterative methods (recon's `init_recon` default). */
export const INITIAL_VALUE = 1e-6;

/** Checks an iteration count; names it and the value. */
export function checkIterations(iterations: number): void {
  if (!Number.isInteger(iterations) || iterations < 1)
    throw new ReconInputError(`iterations = ${iterations}: expected a whole number ≥ 1`);
}
