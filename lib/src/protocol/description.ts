import { z } from 'zod';

/** Framework types a pilot can bring up. Spark and Flink join this list later. */
export const PILOT_TYPES = ['kafka', 'dask', 'spark', 'flink'] as const;
export type PilotType = (typeof PILOT_TYPES)[number];

/** Resource URL schemes with an adaptor. */
export const RESOURCE_SCHEMES = ['fork', 'ssh', 'slurm', 'slurm+ssh'] as const;
export type ResourceScheme = (typeof RESOURCE_SCHEMES)[number];

/** Schemes that run one process on one host; the batch schemes allocate nodes. */
const SINGLE_HOST_SCHEMES: readonly string[] = ['fork', 'ssh'];
const BATCH_SCHEMES: readonly string[] = ['slurm', 'slurm+ssh'];
/** Schemes that run on this machine, reached without ssh. */
const LOCAL_SCHEMES: readonly string[] = ['fork', 'slurm'];

/** The longest walltime a pilot may ask for: a year, in minutes. */
export const MAX_WALLTIME_MINUTES = 60 * 24 * 365;
const WALLTIME_EXPECTED = `a whole number of minutes from 1 to ${MAX_WALLTIME_MINUTES} (a year)`;

export const MAX_NAME_LENGTH = 64;
/**
 * Letters and digits of any script (with their combining marks), spaces, "_", "-" and ".": no
 * control characters, no path separators, no quotes or other shell syntax.
 */
const NAME_PATTERN = /^[\p{L}\p{M}\p{N} _.-]*$/u;

const PILOT_ID_PATTERN = /^pilot-[a-z0-9]{12}$/;

export const pilotIdSchema = z
  .string()
  .regex(PILOT_ID_PATTERN, 'a pilot id such as "pilot-0123456789ab"');

function schemeOf(url: string): string | undefined {
  const match = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url);
  return match?.[1]?.toLowerCase();
}

/**
 * The port text of a URL's authority ("" when it names none), read before WHATWG parsing,
 * which refuses out-of-range ports with a bare "Invalid URL" and keeps port 0.
 */
function portTextOf(url: string): string {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url)?.[1] ?? '';
  const hostAndPort = authority.slice(authority.lastIndexOf('@') + 1);
  const match = /^(?:\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(hostAndPort);
  return match?.[1] ?? '';
}

function hasValidPort(url: string): boolean {
  const port = portTextOf(url);
  return port === '' || (/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535);
}

/**
 * A pilot's files go to the pilot home on the resource (PILOT_STREAMING_REMOTE_HOME), so a path,
 * query or fragment in the URL would be silently ignored: it is refused instead (SAGA reads an
 * ssh URL's path as the login shell, the original Pilot-Streaming ignored it; neither is a work
 * directory).
 */
function hasNoPath(url: string): boolean {
  if (!URL.canParse(url)) return true;
  const parsed = new URL(url);
  return (
    (parsed.pathname === '' || parsed.pathname === '/') &&
    parsed.search === '' &&
    parsed.hash === ''
  );
}

const resourceSchema = z
  .string()
  .min(1, 'a resource URL such as "fork://localhost"')
  .refine(url => schemeOf(url) === undefined || hasValidPort(url), {
    message: 'a port from 1 to 65535 after the host, as in "ssh://[user@]host[:port]"'
  })
  .refine(url => schemeOf(url) !== undefined && (!hasValidPort(url) || URL.canParse(url)), {
    message: 'a resource URL such as "fork://localhost"'
  })
  .refine(hasNoPath, {
    message:
      'a URL with no path, query or fragment, such as "ssh://[user@]host[:port]" (pilot files go to the pilot home on the resource, PILOT_STREAMING_REMOTE_HOME)'
  })
  .refine(url => (RESOURCE_SCHEMES as readonly string[]).includes(schemeOf(url) ?? ''), {
    message: `a resource URL with one of the schemes ${RESOURCE_SCHEMES.map(s => `${s}://`).join(', ')}`
  })
  .refine(
    url => schemeOf(url) !== 'fork' || !URL.canParse(url) || new URL(url).hostname === 'localhost',
    { message: 'fork:// only runs on the local machine: "fork://localhost"' }
  )
  .refine(
    url => schemeOf(url) !== 'slurm' || !URL.canParse(url) || new URL(url).hostname === 'localhost',
    {
      message:
        'slurm:// runs the SLURM commands on this machine: "slurm://localhost" (slurm+ssh://[user@]host[:port] for a login node)'
    }
  )
  .refine(
    url =>
      !LOCAL_SCHEMES.includes(schemeOf(url) ?? '') ||
      !URL.canParse(url) ||
      new URL(url).port === '',
    {
      message:
        'no port: fork:// and slurm:// run on this machine ("fork://localhost", "slurm://localhost")'
    }
  )
  .refine(
    url =>
      (schemeOf(url) !== 'ssh' && schemeOf(url) !== 'slurm+ssh') ||
      !URL.canParse(url) ||
      (new URL(url).hostname !== '' && new URL(url).password === ''),
    {
      message:
        'a host and no password, such as "ssh://[user@]host[:port]" (keys or an ssh-agent log in)'
    }
  );

/** A framework configuration value passed through to the framework (e.g. Kafka server.properties). */
const configurationValue = z.union([z.string(), z.number(), z.boolean()]);

export const pilotDescriptionSchema = z
  .object({
    resource: resourceSchema,
    type: z.enum(PILOT_TYPES),
    name: z
      .string()
      .max(MAX_NAME_LENGTH)
      .regex(NAME_PATTERN, 'a name of letters, digits, spaces, "_", "-" or "."')
      .refine(name => name.trim() !== '', 'a name that is not blank (or no name)')
      .optional(),
    numberOfNodes: z.number().int().min(1).max(10000).default(1),
    coresPerNode: z.number().int().min(1).max(4096).optional(),
    walltimeMinutes: z
      .number()
      .refine(
        minutes => Number.isInteger(minutes) && minutes >= 1 && minutes <= MAX_WALLTIME_MINUTES,
        WALLTIME_EXPECTED
      )
      .default(60),
    /** SLURM partition (--partition); batch schemes only. */
    queue: z.string().min(1).optional(),
    /** SLURM account (--account); batch schemes only. */
    project: z.string().min(1).optional(),
    /** SLURM reservation (--reservation); batch schemes only. */
    reservation: z.string().min(1).optional(),
    /** Further sbatch options, one each ("--qos=debug", "--constraint=haswell"); batch schemes only. */
    schedulerOptions: z
      .array(
        z
          .string()
          .regex(/^--?[A-Za-z][^\n\r]*$/, 'one sbatch option such as "--qos=debug", on one line')
      )
      .max(64)
      .optional(),
    parent: pilotIdSchema.optional(),
    configuration: z.record(z.string().min(1), configurationValue).default({})
  })
  .strict()
  .superRefine((description, context) => {
    const scheme = schemeOf(description.resource) ?? '';
    if (SINGLE_HOST_SCHEMES.includes(scheme) && description.numberOfNodes !== 1) {
      context.addIssue({
        code: 'custom',
        path: ['numberOfNodes'],
        input: description.numberOfNodes,
        message:
          scheme === 'fork'
            ? 'exactly 1 node on fork://localhost'
            : 'exactly 1 node on ssh:// (one host); slurm:// or slurm+ssh:// allocate several'
      });
    }
    // A single host has no scheduler to pass them to: refused rather than silently ignored.
    for (const key of ['queue', 'project', 'reservation', 'schedulerOptions'] as const) {
      if (description[key] !== undefined && !BATCH_SCHEMES.includes(scheme)) {
        context.addIssue({
          code: 'custom',
          path: [key],
          input: description[key],
          message: `no ${key} outside a batch scheduler: it applies to slurm:// and slurm+ssh:// resources`
        });
      }
    }
  });

/** What a caller writes (defaults optional). */
export type PilotDescriptionInput = z.input<typeof pilotDescriptionSchema>;
/** A validated description with defaults filled in. */
export type PilotDescription = z.output<typeof pilotDescriptionSchema>;
