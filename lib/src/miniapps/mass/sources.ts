/**
 * The sources a MASS producer can run, behind one interface: each gives the payload of message
 * `sequence`, and a plug-in is a function written in a notebook cell and shipped as source text.
 */
import { Script } from 'node:vm';
import { isTypedArrayNamed } from '../../recon/types.js';
import { MiniAppInputError } from '../errors.js';
import {
  DTYPES,
  type MessageHeader,
  type PayloadArray,
  type PayloadKind
} from '../messages/format.js';
import { PAYLOAD_KINDS } from '../messages/format.js';
import type { SourceSpec } from '../runs/spec.js';
import { ClusterSource, StaticClusterSource } from './cluster-source.js';

/** What a producer puts into one message, apart from the fields it stamps itself. */
export interface SourceMessage {
  readonly header: Pick<MessageHeader, 'kind' | 'shape' | 'geometry' | 'label'>;
  readonly payload: PayloadArray;
}

export interface MessageSource {
  /** Message `sequence` of this producer. */
  message(sequence: number): SourceMessage;
  /** Payload bytes of a typical message (the first), to check against the topic's limit. */
  readonly payloadBytes: number;
}

const TYPED_ARRAY_NAMES = [
  'Float32Array',
  'Float64Array',
  'Uint8Array',
  'Int16Array',
  'Uint16Array',
  'Int32Array'
] as const;

function isPayloadArray(value: unknown): value is PayloadArray {
  return TYPED_ARRAY_NAMES.some(name => isTypedArrayNamed(value, name));
}

/**
 * Compiles a user function from its source text. It is self-contained (no closures: only the
 * text travels), like a compute unit's function.
 */
export function compileUserFunction(source: string, key: string): (...args: unknown[]) => unknown {
  let compiled: unknown;
  try {
    // Its own file name and lines, so a stack says "at fn (processor.js:3:11)" of its own text;
    // the newline lets the text end in a // comment.
    compiled = new Script(`(${source}\n)`, { filename: `${key}.js` }).runInThisContext();
  } catch (error) {
    throw new MiniAppInputError(
      `${key}: the function does not compile: ${(error as Error).message}`
    );
  }
  if (typeof compiled !== 'function')
    throw new MiniAppInputError(`${key}: expected a function, got ${typeof compiled}`);
  return compiled as (...args: unknown[]) => unknown;
}

/** A user function's value as a message: a typed array (kind custom) or {payload, kind?, shape?}. */
function userMessage(value: unknown, name: string, sequence: number): SourceMessage {
  const where = `source function "${name}" for message ${sequence}`;
  if (isPayloadArray(value)) return { header: { kind: 'custom', label: name }, payload: value };
  if (
    value !== null &&
    typeof value === 'object' &&
    isPayloadArray((value as { payload?: unknown }).payload)
  ) {
    const { payload, kind, shape, label } = value as {
      payload: PayloadArray;
      kind?: unknown;
      shape?: unknown;
      label?: unknown;
    };
    if (kind !== undefined && !(PAYLOAD_KINDS as readonly unknown[]).includes(kind))
      throw new MiniAppInputError(
        `${where}: kind = ${JSON.stringify(kind)}, expected one of ${PAYLOAD_KINDS.join(', ')}`
      );
    if (shape !== undefined && !(Array.isArray(shape) && shape.every(n => Number.isInteger(n))))
      throw new MiniAppInputError(
        `${where}: shape = ${JSON.stringify(shape)}, expected an array of whole numbers`
      );
    return {
      header: {
        kind: (kind as PayloadKind | undefined) ?? 'custom',
        ...(shape !== undefined ? { shape: shape as number[] } : {}),
        label: typeof label === 'string' ? label : name
      },
      payload
    };
  }
  throw new MiniAppInputError(
    `${where} returned ${value === null ? 'null' : typeof value}: expected a typed array (${DTYPES.join(', ')}) or {payload, kind?, shape?, label?}`
  );
}

/** The source of one producer (`producer` seeds the cluster source's points). */
export async function openSource(spec: SourceSpec, producer: number): Promise<MessageSource> {
  switch (spec.kind) {
    case 'cluster':
    case 'static': {
      const options = { ...spec };
      const points =
        spec.kind === 'cluster' ? new ClusterSource(options) : new StaticClusterSource(options);
      const shape = [points.pointsPerMessage, points.dimensions];
      return {
        payloadBytes: points.pointsPerMessage * points.dimensions * 8,
        message: sequence => ({
          header: { kind: 'points', shape },
          payload: points.message(producer, sequence).points
        })
      };
    }
    case 'lightsource': {
      // Loaded only here: the HDF5 library is a large WebAssembly module other sources never need.
      const { LightSourceSource } = await import('./lightsource-source.js');
      const light = await LightSourceSource.open(spec);
      return { payloadBytes: light.payloadBytes, message: sequence => light.message(sequence) };
    }
    case 'synthetic-bytes': {
      // Not zeros, so that a compressing link cannot flatter the rate.
      const payload = new Uint8Array(spec.size);
      for (let i = 0; i < payload.length; i++) payload[i] = (i * 2_654_435_761) >>> 24;
      return { payloadBytes: spec.size, message: () => ({ header: { kind: 'bytes' }, payload }) };
    }
    case 'function': {
      const fn = compileUserFunction(spec.source, 'source');
      const first = userMessage(fn(producer, 0), spec.name, 0);
      return {
        payloadBytes: first.payload.byteLength,
        message: sequence =>
          sequence === 0 ? first : userMessage(fn(producer, sequence), spec.name, sequence)
      };
    }
  }
}
