import { z } from 'zod';

/** Framework types a pilot can bring up. Dask, Spark and Flink join this list later. */
export const PILOT_TYPES = ['kafka'] as const;
export type PilotType = (typeof PILOT_TYPES)[number];

/** Resource URL schemes with an adaptor. ssh, slurm and slurm+ssh join this list later. */
export const RESOURCE_SCHEMES = ['fork'] as const;
export type ResourceScheme = (typeof RESOURCE_SCHEMES)[number];

const PILOT_ID_PATTERN = /^pilot-[a-z0-9]{12}$/;

export const pilotIdSchema = z
  .string()
  .regex(PILOT_ID_PATTERN, 'a pilot id such as "pilot-0123456789ab"');

function schemeOf(url: string): string | undefined {
  const match = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url);
  return match?.[1]?.toLowerCase();
}

const resourceSchema = z
  .string()
  .min(1, 'a resource URL such as "fork://localhost"')
  .refine(url => schemeOf(url) !== undefined && URL.canParse(url), {
    message: 'a resource URL such as "fork://localhost"'
  })
  .refine(url => (RESOURCE_SCHEMES as readonly string[]).includes(schemeOf(url) ?? ''), {
    message: `a resource URL with one of the schemes ${RESOURCE_SCHEMES.map(s => `${s}://`).join(', ')}`
  })
  .refine(url => schemeOf(url) !== 'fork' || new URL(url).hostname === 'localhost', {
    message: 'fork:// only runs on the local machine: "fork://localhost"'
  });

/** A framework configuration value passed through to the framework (e.g. Kafka server.properties). */
const configurationValue = z.union([z.string(), z.number(), z.boolean()]);

export const pilotDescriptionSchema = z
  .object({
    resource: resourceSchema,
    type: z.enum(PILOT_TYPES),
    name: z
      .string()
      .max(64, 'a name of at most 64 characters')
      .regex(/^[\w .-]*$/, 'a name of letters, digits, spaces, "_", "-" or "."')
      .optional(),
    numberOfNodes: z.number().int().min(1).max(10000).default(1),
    coresPerNode: z.number().int().min(1).max(4096).optional(),
    walltimeMinutes: z
      .number()
      .int()
      .min(1)
      .max(60 * 24 * 365)
      .default(60),
    queue: z.string().min(1).optional(),
    project: z.string().min(1).optional(),
    parent: pilotIdSchema.optional(),
    configuration: z.record(z.string().min(1), configurationValue).default({})
  })
  .strict()
  .superRefine((description, context) => {
    if (schemeOf(description.resource) === 'fork' && description.numberOfNodes !== 1) {
      context.addIssue({
        code: 'custom',
        path: ['numberOfNodes'],
        input: description.numberOfNodes,
        message: 'exactly 1 node on fork://localhost'
      });
    }
  });

/** What a caller writes (defaults optional). */
export type PilotDescriptionInput = z.input<typeof pilotDescriptionSchema>;
/** A validated description with defaults filled in. */
export type PilotDescription = z.output<typeof pilotDescriptionSchema>;
