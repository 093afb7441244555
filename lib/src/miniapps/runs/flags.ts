/**
 * Command-line flags of a MASS or MASA run, shared by the CLI (`pilot-streaming mass|masa`) and
 * the magics (`%mass start`, `%masa start`), so both accept and refuse exactly the same things.
 */
import { parseArgs } from 'node:util';
import { MiniAppInputError } from '../errors.js';
import type { MasaOptions, MassOptions } from './options.js';

export const MASS_FLAGS_USAGE = `  --source cluster|static|lightsource|synthetic-bytes   (default cluster)
  --file <HDF5>  --slices-per-message <n>  --center <pixels>   lightsource
  --size <bytes>                                               synthetic-bytes
  --clusters <n>  --points <n>  --dimensions <n>  --seed <n>   cluster, static
  --rate <msg/s>|unlimited|ramp:FROM:TO:SECONDS|step:T=R,T=R…|sine:MEAN:AMPLITUDE:PERIOD
         |burst:BASE:BURST:LENGTH:EVERY|bytes:BYTES_PER_S|'<JSON profile>'   (default 10)
  --producers <n>  --messages <total>  --duration <s>  --topic <name>  --partitions <n>
  --unit-cores <n>   cores each producer holds (default 1; 0 shares cores with other units)`;

export const MASA_FLAGS_USAGE = `  --topic <name>   (required)
  --processor kmeans|gridrec|fbp|mlem|sirt|bp|count   (default kmeans)
  --k <n>  --decay <factor>  --half-life <t>  --time-unit batches|points  --seed <n>   kmeans
  --filter <name>  --iterations <n>  --center <pixels>|auto|message  --no-clip
  --output <dir>   (reconstruction: save each message's slices there as .npy)
  --consumers <n>  --group <id>  --latest  --until drained|stopped  --duration <s>  --messages <n>
  --partitions <n>  --unit-cores <n>   cores each consumer holds (default 1; 0 shares cores)`;

type Values = Record<string, string | boolean | undefined>;

const MASS_OPTIONS = {
  source: { type: 'string' },
  file: { type: 'string' },
  'slices-per-message': { type: 'string' },
  center: { type: 'string' },
  size: { type: 'string' },
  clusters: { type: 'string' },
  points: { type: 'string' },
  dimensions: { type: 'string' },
  seed: { type: 'string' },
  rate: { type: 'string' },
  producers: { type: 'string' },
  messages: { type: 'string' },
  duration: { type: 'string' },
  topic: { type: 'string' },
  partitions: { type: 'string' },
  'unit-cores': { type: 'string' }
} as const;

const MASA_OPTIONS = {
  topic: { type: 'string' },
  processor: { type: 'string' },
  k: { type: 'string' },
  decay: { type: 'string' },
  'half-life': { type: 'string' },
  'time-unit': { type: 'string' },
  seed: { type: 'string' },
  filter: { type: 'string' },
  iterations: { type: 'string' },
  center: { type: 'string' },
  'no-clip': { type: 'boolean' },
  output: { type: 'string' },
  consumers: { type: 'string' },
  group: { type: 'string' },
  latest: { type: 'boolean' },
  until: { type: 'string' },
  duration: { type: 'string' },
  messages: { type: 'string' },
  partitions: { type: 'string' },
  'unit-cores': { type: 'string' }
} as const;

/** Flags every caller adds (e.g. --json, --pilot) and handles itself. */
export type ExtraFlags = Record<string, { type: 'string' | 'boolean' }>;

function parse(
  words: string[],
  options: Record<string, { type: 'string' | 'boolean' }>,
  extra: ExtraFlags
): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: words,
      options: { ...options, ...extra },
      allowPositionals: true,
      strict: true
    });
    return { values: values as Values, positionals };
  } catch (error) {
    throw new MiniAppInputError((error as Error).message);
  }
}

function number(flag: string, text: string | boolean | undefined): number | undefined {
  if (text === undefined || typeof text === 'boolean') return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value))
    throw new MiniAppInputError(`--${flag} ${JSON.stringify(text)}: expected a number`);
  return value;
}

function fields(flag: string, text: string, names: string[]): number[] {
  const parts = text.split(':').slice(1);
  if (parts.length !== names.length)
    throw new MiniAppInputError(
      `--${flag} ${JSON.stringify(text)}: expected ${text.split(':')[0]}:${names.join(':').toUpperCase()}`
    );
  return parts.map((part, i) => number(`${flag} (${names[i]})`, part)!);
}

/** --rate in its short forms, or a JSON profile. */
export function parseRateFlag(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      return JSON.parse(trimmed) as unknown;
    } catch (error) {
      throw new MiniAppInputError(`--rate ${text}: not JSON (${(error as Error).message})`);
    }
  }
  if (trimmed === 'unlimited') return 'unlimited';
  const kind = trimmed.split(':')[0];
  switch (kind) {
    case 'ramp': {
      const [from, to, over] = fields('rate', trimmed, ['from', 'to', 'seconds']);
      return { kind, from, to, over };
    }
    case 'sine': {
      const [mean, amplitude, period] = fields('rate', trimmed, ['mean', 'amplitude', 'period']);
      return { kind, mean, amplitude, period };
    }
    case 'burst': {
      const [base, burst, length, every] = fields('rate', trimmed, [
        'base',
        'burst',
        'length',
        'every'
      ]);
      return { kind, base, burst, length, every };
    }
    case 'bytes':
      return { kind, bytesPerSecond: fields('rate', trimmed, ['bytes_per_s'])[0] };
    case 'step': {
      const steps = trimmed
        .slice('step:'.length)
        .split(',')
        .map(pair => {
          const [at, rate] = pair.split('=');
          if (rate === undefined)
            throw new MiniAppInputError(
              `--rate ${text}: expected step:T=RATE,T=RATE… (seconds=msg/s)`
            );
          return { at: number('rate (step time)', at), rate: number('rate (step rate)', rate) };
        });
      return { kind, steps };
    }
    default:
      return number('rate', trimmed);
  }
}

/** Drops undefined entries, so defaults apply. */
function defined<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as T;
}

export function parseMassFlags(
  words: string[],
  extra: ExtraFlags = {}
): { options: MassOptions; values: Values; positionals: string[] } {
  const { values, positionals } = parse(words, MASS_OPTIONS, extra);
  const kind = (values.source as string | undefined) ?? 'cluster';
  const source = defined({
    kind,
    file: values.file as string | undefined,
    slicesPerMessage: number('slices-per-message', values['slices-per-message']),
    rotationCenter: number('center', values.center),
    size: number('size', values.size),
    clusters: number('clusters', values.clusters),
    pointsPerMessage: number('points', values.points),
    dimensions: number('dimensions', values.dimensions),
    seed: number('seed', values.seed)
  });
  let rate = values.rate === undefined ? undefined : parseRateFlag(values.rate as string);
  if (rate !== null && typeof rate === 'object' && (rate as { kind?: unknown }).kind === 'bytes') {
    // A bytes/s rate needs the message size; only synthetic-bytes knows it before the source opens.
    const size = source.size;
    if (size === undefined)
      throw new MiniAppInputError('--rate bytes:… needs --size (a synthetic-bytes source)');
    rate = { ...rate, messageBytes: size };
  }
  const options: MassOptions = defined({
    source: source as MassOptions['source'],
    rate,
    producers: number('producers', values.producers),
    messages: number('messages', values.messages),
    duration: number('duration', values.duration),
    topic: values.topic as string | undefined,
    partitions: number('partitions', values.partitions),
    unitCores: number('unit-cores', values['unit-cores'])
  });
  return { options, values, positionals };
}

export function parseMasaFlags(
  words: string[],
  extra: ExtraFlags = {}
): { options: MasaOptions; values: Values; positionals: string[] } {
  const { values, positionals } = parse(words, MASA_OPTIONS, extra);
  if (values.topic === undefined)
    throw new MiniAppInputError('--topic is missing: name the topic the producers send to');
  const kind = (values.processor as string | undefined) ?? 'kmeans';
  const center = values.center as string | undefined;
  const processor = defined({
    kind,
    k: number('k', values.k),
    decayFactor: number('decay', values.decay),
    halfLife: number('half-life', values['half-life']),
    timeUnit: values['time-unit'] as string | undefined,
    seed: number('seed', values.seed),
    filter: values.filter as string | undefined,
    iterations: number('iterations', values.iterations),
    center: center === 'auto' || center === 'message' ? center : number('center', center),
    clipNegative: values['no-clip'] === true ? false : undefined,
    output: values.output as string | undefined
  });
  const options: MasaOptions = defined({
    topic: values.topic as string,
    processor: processor as MasaOptions['processor'],
    consumers: number('consumers', values.consumers),
    groupId: values.group as string | undefined,
    fromBeginning: values.latest === true ? false : undefined,
    until: values.until as MasaOptions['until'],
    duration: number('duration', values.duration),
    messages: number('messages', values.messages),
    partitions: number('partitions', values.partitions),
    unitCores: number('unit-cores', values['unit-cores'])
  });
  return { options, values, positionals };
}
