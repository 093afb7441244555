import { MiniAppInputError } from './errors.js';

/** Option checks shared by the sources and processors: each names the key, the value and what is expected. */

export function wholeNumber(key: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new MiniAppInputError(
      `${key} = ${JSON.stringify(value)}: expected a whole number from ${min} to ${max}`
    );
  return value;
}

export function nonNegativeNumber(key: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw new MiniAppInputError(`${key} = ${JSON.stringify(value)}: expected a finite number ≥ 0`);
  return value;
}
