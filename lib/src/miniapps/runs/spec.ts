/**
 * What one producer or consumer unit is told to do. The coordinator builds a spec from the
 * user's options, the unit process parses it again (it may run another build of the library),
 * so the schema is the one contract between them.
 */
import { z } from 'zod';
import { formatProblem, problemsFromIssues } from '../../protocol/validation.js';
import { ALGORITHMS } from '../../recon/options.js';
import { MiniAppInputError } from '../errors.js';

export const SOURCE_KINDS = ['cluster', 'static', 'lightsource', 'synthetic-bytes', 'function'];
export const PROCESSOR_KINDS = [
  'kmeans',
  'gridrec',
  'fbp',
  'mlem',
  'sirt',
  'bp',
  'count',
  'function'
];

const positiveInt = (max: number) => z.number().int().min(1).max(max);

export const sourceSpecSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.enum(['cluster', 'static']),
      clusters: positiveInt(1 << 20).default(10),
      dimensions: positiveInt(1 << 16).default(3),
      pointsPerMessage: positiveInt(1 << 24).default(5000),
      spread: z.number().nonnegative().default(1),
      seed: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).default(1)
    })
    .strict(),
  z
    .object({
      kind: z.literal('lightsource'),
      file: z.string().min(1),
      slicesPerMessage: positiveInt(1 << 16).default(1),
      rotationCenter: z.number().finite().optional()
    })
    .strict(),
  z.object({ kind: z.literal('synthetic-bytes'), size: positiveInt(1 << 30) }).strict(),
  z
    .object({
      kind: z.literal('function'),
      /** `(producer, sequence) => TypedArray | {payload, kind?, shape?, label?}` as source text. */
      source: z.string().min(1),
      name: z.string().min(1).max(64).default('function')
    })
    .strict()
]);
export type SourceSpec = z.output<typeof sourceSpecSchema>;
export type SourceInput = z.input<typeof sourceSpecSchema>;

const reconSpec = z
  .object({
    kind: z.enum(ALGORITHMS),
    filter: z.string().optional(),
    iterations: positiveInt(10_000).optional(),
    clipNegative: z.boolean().optional(),
    center: z.union([z.number().finite(), z.enum(['message', 'auto'])]).optional(),
    /** A directory on the nodes: each message's slices are saved there as .npy. */
    output: z.string().min(1).optional()
  })
  .strict();

export const processorSpecSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('kmeans'),
      k: positiveInt(1 << 16).default(10),
      decayFactor: z.number().nonnegative().optional(),
      halfLife: z.number().positive().optional(),
      timeUnit: z.enum(['batches', 'points']).default('batches'),
      seed: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).default(42)
    })
    .strict(),
  reconSpec,
  z.object({ kind: z.literal('count') }).strict(),
  z
    .object({
      kind: z.literal('function'),
      /** `(message) => unknown` as source text; message is a DecodedMessage. */
      source: z.string().min(1),
      name: z.string().min(1).max(64).default('function')
    })
    .strict()
]);
export type ProcessorSpec = z.output<typeof processorSpecSchema>;
export type ProcessorInput = z.input<typeof processorSpecSchema>;

const common = {
  runId: z.uuid(),
  /** "producer-3", "consumer-0": names the unit in reports and records. */
  unit: z.string().min(1),
  topic: z.string().min(1),
  metricsTopic: z.string().min(1),
  brokers: z.array(z.string().min(1)).min(1),
  /**
   * The pilot's Kafka TLS directory as the nodes see it, when its brokers take TLS only: the unit
   * reads its client certificate there (a path: no secret travels in a spec).
   */
  tlsDir: z.string().min(1).optional(),
  reportIntervalMs: z.number().int().min(50).max(60_000)
};

export const producerSpecSchema = z
  .object({
    role: z.literal('producer'),
    ...common,
    producerId: z.number().int().nonnegative().max(0xffff_ffff),
    /** Producers sharing the rate profile, and this one's index among them. */
    producers: positiveInt(1 << 20),
    index: z.number().int().nonnegative(),
    source: sourceSpecSchema,
    /** A canonical rate profile (parseRateProfile's output). */
    rate: z.record(z.string(), z.unknown()),
    /** Messages this producer sends; unbounded when absent. */
    messages: z.number().int().nonnegative().optional(),
    /** Clock time (ms) of t = 0 of the rate profile, shared by the producers. */
    startMs: z.number(),
    /** Clock time (ms) after which the producer stops; none when absent. */
    endMs: z.number().optional(),
    partitions: positiveInt(1 << 16)
  })
  .strict();
export type ProducerSpec = z.output<typeof producerSpecSchema>;

export const consumerSpecSchema = z
  .object({
    role: z.literal('consumer'),
    ...common,
    groupId: z.string().min(1),
    fromBeginning: z.boolean(),
    processor: processorSpecSchema
  })
  .strict();
export type ConsumerSpec = z.output<typeof consumerSpecSchema>;

export const unitSpecSchema = z.discriminatedUnion('role', [
  producerSpecSchema,
  consumerSpecSchema
]);
export type UnitSpec = z.output<typeof unitSpecSchema>;

/** Parses with zod and throws a MiniAppInputError naming every bad key (`what` prefixes them). */
export function parseWith<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = problemsFromIssues(input, result.error.issues).map(formatProblem);
  throw new MiniAppInputError(`${what}: ${problems.join('; ')}`);
}
