/**
 * The options of a MASS or MASA run as users give them (library, magics, CLI), checked and
 * turned into unit specs. Every check happens here, before anything is created or started.
 */
import { z } from 'zod';
import { MiniAppInputError } from '../errors.js';
import { compileUserFunction } from '../mass/sources.js';
import { createProcessor } from '../masa/processors.js';
import { parseRateProfile, type RateProfile } from '../rates/profile.js';
import {
  PROCESSOR_KINDS,
  SOURCE_KINDS,
  parseWith,
  processorSpecSchema,
  sourceSpecSchema,
  type ProcessorInput,
  type ProcessorSpec,
  type SourceInput,
  type SourceSpec
} from './spec.js';

type UserFunction = (...args: never[]) => unknown;

export interface MassOptions {
  /** A source kind, its options with `kind`, or a function `(producer, sequence) => payload`. */
  source: SourceInput | SourceInput['kind'] | UserFunction;
  /** Default: `mass-<first 8 characters of the run id>`. */
  topic?: string;
  /** Messages per second for all producers together, "unlimited" or a profile (default 10). */
  rate?: unknown;
  producers?: number;
  /** Messages in all (split over the producers); unbounded when absent. */
  messages?: number;
  /** Seconds until the producers stop; unbounded when absent. */
  duration?: number;
  /** Partitions of the topic when the run creates it (default the larger of producers and 8). */
  partitions?: number;
  reportIntervalMs?: number;
  /** Delay between the launch and t = 0 of the rate profile, for the producers to start. */
  startDelayMs?: number;
  /** Cores each producer holds on its node (default 1; 0 shares cores with other units). */
  unitCores?: number;
}

export type MasaUntil = 'stopped' | 'drained';

export interface MasaOptions {
  topic: string;
  /** A processor kind, its options with `kind`, or a function `(message) => unknown`. */
  processor: ProcessorInput | ProcessorInput['kind'] | UserFunction;
  consumers?: number;
  groupId?: string;
  /** Read the topic from its start (default true: a pipeline processes what its source sent). */
  fromBeginning?: boolean;
  /** 'drained': end once every producer feeding the run has ended and all it sent is processed. */
  until?: MasaUntil;
  duration?: number;
  /** End after this many processed messages. */
  messages?: number;
  partitions?: number;
  reportIntervalMs?: number;
  /** Cores each consumer holds on its node (default 1; 0 shares cores with other units). */
  unitCores?: number;
}

const TOPIC = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,200}$/, 'a Kafka topic name: letters, digits, ".", "_", "-"');
const count = (max: number) => z.number().int().min(1).max(max);

const massSchema = z
  .object({
    source: z.unknown(),
    topic: TOPIC.optional(),
    rate: z.unknown().optional(),
    producers: count(4096).default(1),
    messages: count(Number.MAX_SAFE_INTEGER).optional(),
    duration: z
      .number()
      .positive()
      .max(31 * 86_400)
      .optional(),
    partitions: count(10_000).optional(),
    reportIntervalMs: z.number().int().min(100).max(60_000).default(1000),
    startDelayMs: z.number().int().min(0).max(600_000).default(2000),
    unitCores: z.number().int().min(0).max(4096).default(1)
  })
  .strict();

const masaSchema = z
  .object({
    topic: TOPIC,
    processor: z.unknown(),
    consumers: count(4096).default(1),
    groupId: z.string().min(1).max(200).optional(),
    fromBeginning: z.boolean().default(true),
    until: z.enum(['stopped', 'drained']).default('stopped'),
    duration: z
      .number()
      .positive()
      .max(31 * 86_400)
      .optional(),
    messages: count(Number.MAX_SAFE_INTEGER).optional(),
    partitions: count(10_000).optional(),
    reportIntervalMs: z.number().int().min(100).max(60_000).default(1000),
    unitCores: z.number().int().min(0).max(4096).default(1)
  })
  .strict();

export type ParsedMass = Omit<z.output<typeof massSchema>, 'source' | 'rate'> & {
  source: SourceSpec;
  rate: RateProfile;
};
export type ParsedMasa = Omit<z.output<typeof masaSchema>, 'processor'> & {
  processor: ProcessorSpec;
};

/** A kind name, an object with `kind`, or a function, as an object with `kind`. */
function withKind(value: unknown, key: string, kinds: readonly string[]): Record<string, unknown> {
  if (typeof value === 'function')
    return {
      kind: 'function',
      source: value.toString(),
      ...(value.name ? { name: value.name } : {})
    };
  const object = typeof value === 'string' ? { kind: value } : value;
  if (object === null || typeof object !== 'object' || Array.isArray(object))
    throw new MiniAppInputError(
      `${key} = ${JSON.stringify(value)}: expected one of ${kinds.join(', ')}, an object with one of them as kind, or a function`
    );
  const kind = (object as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !kinds.includes(kind))
    throw new MiniAppInputError(
      `${key}.kind = ${JSON.stringify(kind) ?? 'missing'}: expected one of ${kinds.join(', ')}`
    );
  return object as Record<string, unknown>;
}

export function parseMassOptions(input: MassOptions): ParsedMass {
  const parsed = parseWith(massSchema, input, 'mass options');
  const source = parseWith(
    sourceSpecSchema,
    withKind(parsed.source, 'source', SOURCE_KINDS),
    'mass source'
  );
  if (source.kind === 'function') compileUserFunction(source.source, 'source');
  return { ...parsed, source, rate: parseRateProfile(parsed.rate ?? 10, 'rate') };
}

export function parseMasaOptions(input: MasaOptions): ParsedMasa {
  const parsed = parseWith(masaSchema, input, 'masa options');
  const processor = parseWith(
    processorSpecSchema,
    withKind(parsed.processor, 'processor', PROCESSOR_KINDS),
    'masa processor'
  );
  // Builds it once here: algorithm, filter, iterations and a function's syntax fail now.
  createProcessor(processor);
  return { ...parsed, processor };
}
