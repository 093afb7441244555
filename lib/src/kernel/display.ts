import { inspect, types } from 'node:util';
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

/**
 * Node's async hooks keep their ids and AsyncLocalStorage its store on each promise under
 * enumerable symbols, so an un-awaited promise would print the kernel's request (identities,
 * header) beside its state. Made non-enumerable they still work, and the promise prints as
 * `Promise { <pending> }`.
 */
const ASYNC_CONTEXT_SYMBOLS = new Set([
  'kResourceStore',
  'async_id_symbol',
  'trigger_async_id_symbol'
]);

function hideAsyncContext(promise: object): void {
  for (const symbol of Object.getOwnPropertySymbols(promise)) {
    if (!ASYNC_CONTEXT_SYMBOLS.has(symbol.description ?? '')) continue;
    const property = Object.getOwnPropertyDescriptor(promise, symbol);
    if (property?.enumerable && property.configurable) {
      Object.defineProperty(promise, symbol, { ...property, enumerable: false });
    }
  }
}

export function plainText(value: unknown): string {
  if (types.isPromise(value)) hideAsyncContext(value);
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
