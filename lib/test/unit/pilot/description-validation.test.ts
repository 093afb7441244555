import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PilotComputeService } from '../../../src/pilot/index.js';
import {
  ValidationError,
  parsePilotDescription,
  type PilotDescriptionInput
} from '../../../src/protocol/index.js';

const valid = { type: 'kafka', resource: 'fork://localhost' };

/** Each invalid description, the key its error must name, and a word of what is expected. */
const invalid: [string, Record<string, unknown>, string, RegExp][] = [
  ['unknown type', { ...valid, type: 'storm' }, 'type', /one of "kafka"/],
  ['bad URL scheme', { ...valid, resource: 'http://localhost' }, 'resource', /fork:\/\//],
  ['not a URL', { ...valid, resource: 'localhost' }, 'resource', /resource URL/],
  ['fork on a remote host', { ...valid, resource: 'fork://example.org' }, 'resource', /localhost/],
  ['missing resource', { type: 'kafka' }, 'resource', /string/],
  ['negative cores', { ...valid, coresPerNode: -2 }, 'coresPerNode', /at least 1/],
  ['unknown key', { ...valid, numberCores: 4 }, 'numberCores', /unknown key/],
  ['wrong type of nodes', { ...valid, numberOfNodes: '1' }, 'numberOfNodes', /number/],
  ['non-integer nodes', { ...valid, numberOfNodes: 1.5 }, 'numberOfNodes', /integer/],
  ['several nodes on fork', { ...valid, numberOfNodes: 2 }, 'numberOfNodes', /exactly 1 node/],
  ['bad parent id', { ...valid, parent: '../etc' }, 'parent', /pilot id/],
  ['empty queue', { ...valid, queue: '' }, 'queue', /at least 1/],
  [
    'non-scalar configuration value',
    { ...valid, configuration: { 'num.partitions': { n: 3 } } },
    'configuration.num.partitions',
    /./
  ],
  ['zero walltime', { ...valid, walltimeMinutes: 0 }, 'walltimeMinutes', /from 1 to 525600/],
  ['walltime as text', { ...valid, walltimeMinutes: 'an hour' }, 'walltimeMinutes', /number/],
  [
    'reserved Kafka key',
    { ...valid, configuration: { listeners: 'PLAINTEXT://0.0.0.0:9092' } },
    'configuration.listeners',
    /sets this key itself/
  ],
  [
    'bad heap size',
    { ...valid, configuration: { 'pilot.heap': 'lots' } },
    'configuration.pilot.heap',
    /heap size/
  ],
  [
    'unknown pilot option',
    { ...valid, configuration: { 'pilot.cpus': 2 } },
    'configuration.pilot.cpus',
    /known pilot option/
  ],
  [
    'multi-line value',
    { ...valid, configuration: { 'log.retention.ms': '1\nlisteners=x' } },
    'configuration.log.retention.ms',
    /single-line/
  ],
  ['name with a slash', { ...valid, name: 'a/b' }, 'name', /letters/],
  ['name with a backslash', { ...valid, name: 'a\\b' }, 'name', /letters/],
  ['name with a control character', { ...valid, name: 'bell\u0007' }, 'name', /letters/],
  ['empty name', { ...valid, name: '' }, 'name', /not blank/],
  ['blank name', { ...valid, name: '   ' }, 'name', /not blank/],
  ['walltime beyond a year', { ...valid, walltimeMinutes: 1e9 }, 'walltimeMinutes', /1 to 525600/],
  [
    'port 0 on ssh',
    { ...valid, resource: 'ssh://localhost:0' },
    'resource',
    /port from 1 to 65535/
  ],
  [
    'port out of range on ssh',
    { ...valid, resource: 'ssh://localhost:70000' },
    'resource',
    /port from 1 to 65535/
  ],
  [
    'port that is no number',
    { ...valid, resource: 'slurm+ssh://login:ssh' },
    'resource',
    /port from 1 to 65535/
  ],
  ['path on ssh', { ...valid, resource: 'ssh://login/scratch/me' }, 'resource', /no path/],
  ['query on slurm+ssh', { ...valid, resource: 'slurm+ssh://login?q=1' }, 'resource', /no path/],
  ['port on fork', { ...valid, resource: 'fork://localhost:22' }, 'resource', /no port/],
  [
    'misspelt Kafka key',
    { ...valid, configuration: { 'num.partitons': 3 } },
    'configuration.num.partitons',
    /did you mean "num.partitions"/
  ],
  [
    'unknown Kafka key',
    { ...valid, configuration: { 'frobnicate.level': 3 } },
    'configuration.frobnicate.level',
    /broker setting of Kafka/
  ],
  [
    'Kafka integer that is no number',
    { ...valid, configuration: { 'num.partitions': 'abc' } },
    'configuration.num.partitions',
    /an integer/
  ],
  [
    'Kafka integer below its range',
    { ...valid, configuration: { 'num.partitions': 0 } },
    'configuration.num.partitions',
    /at least 1/
  ],
  [
    'Kafka boolean that is no boolean',
    { ...valid, configuration: { 'auto.create.topics.enable': 'yes' } },
    'configuration.auto.create.topics.enable',
    /true or false/
  ],
  [
    'Kafka value outside its choices',
    { ...valid, configuration: { 'log.cleanup.policy': 'shred' } },
    'configuration.log.cleanup.policy',
    /compact, delete/
  ]
];

describe('pilot description validation', () => {
  let home: string;
  let service: PilotComputeService;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'pilot-streaming-unit-'));
    service = new PilotComputeService({ home, cacheDir: join(home, 'cache') });
  });

  afterAll(async () => {
    await service.close();
    await rm(home, { recursive: true, force: true });
  });

  it.each(invalid)(
    'rejects %s naming the key, value and expectation',
    async (_kind, input, key, expected) => {
      const error = await service.createPilot(input as PilotDescriptionInput).then(
        () => undefined,
        (e: unknown) => e
      );
      expect(error).toBeInstanceOf(ValidationError);
      const problems = (error as ValidationError).problems;
      const problem = problems.find(p => p.key === key);
      expect(problem, `problems: ${JSON.stringify(problems)}`).toBeDefined();
      expect(problem!.expected).toMatch(expected);
      expect((error as Error).message).toContain(key);
      const shown =
        input[key] ??
        (input.configuration as Record<string, unknown> | undefined)?.[
          key.replace(/^configuration\./, '')
        ];
      if (shown !== undefined) expect((error as Error).message).toContain(JSON.stringify(shown));
    }
  );

  it('writes nothing for any invalid description', async () => {
    const entries = await readdir(home);
    const records = entries.includes('registry') ? await readdir(join(home, 'registry')) : [];
    expect(records.filter(name => name.endsWith('.json'))).toEqual([]);
    expect(entries).not.toContain('pilots');
  });

  it('accepts names in any script and ordinary Kafka settings', () => {
    for (const name of ['Zürich', 'Zu\u0308rich', '東京 2', 'Αθήνα_1', 'run-3.b']) {
      expect(() => parsePilotDescription({ ...valid, name }), name).not.toThrow();
    }
  });

  it('shows at most the start of a long value in its message', async () => {
    const name = 'n'.repeat(100_000);
    const error = await service.createPilot({ ...valid, name }).then(
      () => undefined,
      (e: unknown) => e
    );
    expect(error).toBeInstanceOf(ValidationError);
    const message = (error as Error).message;
    expect(message).toMatch(/name = "n+…" \(100000 characters\), expected .*at most 64/);
    expect(message.length).toBeLessThan(400);
  });

  it('rejects a well-formed parent that does not exist, naming it', async () => {
    await expect(
      service.createPilot({ ...valid, parent: 'pilot-000000000000' } as PilotDescriptionInput)
    ).rejects.toThrow(/pilot-000000000000/);
  });
});
