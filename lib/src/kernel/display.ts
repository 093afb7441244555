import { inspect } from 'node:util';
import { TO_MIME_BUNDLE, type MimeBundle } from './api.js';

const MIME_TYPE = /^[a-z]+\/[\w.+-]+$/i;

/** A plain object whose keys are all MIME types, e.g. { 'text/html': '<b>hi</b>' }. */
export function isMimeBundle(value: unknown): value is MimeBundle {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  // Plain objects from any realm (cells run in their own vm context).
  if (prototype !== null && Object.getPrototypeOf(prototype) !== null) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every(key => MIME_TYPE.test(key));
}

export function plainText(value: unknown): string {
  return inspect(value, { depth: 4, colors: false, maxArrayLength: 100, breakLength: 100 });
}

/**
 * How a value is shown: its own bundle if it offers one (via TO_MIME_BUNDLE), the value itself
 * if it already is a bundle, otherwise its util.inspect text.
 */
export function toMimeBundle(value: unknown): MimeBundle {
  if (value !== null && (typeof value === 'object' || typeof value === 'function')) {
    const method = (value as Record<symbol, unknown>)[TO_MIME_BUNDLE];
    if (typeof method === 'function') {
      const bundle = (method as () => unknown).call(value);
      if (!isMimeBundle(bundle)) {
        throw new TypeError(
          `[TO_MIME_BUNDLE]() returned ${plainText(bundle)}, expected an object keyed by MIME types`
        );
      }
      return { 'text/plain': plainText(value), ...bundle };
    }
  }
  if (isMimeBundle(value)) return value;
  return { 'text/plain': plainText(value) };
}
