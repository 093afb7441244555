import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kafka } from 'kafkajs';
import { test } from 'vitest';
import { writeFormattedMarkdown } from '../support/markdown.js';
import { timeProducer } from '../support/producer.js';
import { defaultPilotCache, PilotComputeService, type Pilot } from '../../src/pilot/index.js';
import { PilotRegistry } from '../../src/pilot/registry.js';
import { isTerminal, ValidationError } from '../../src/protocol/index.js';
import { ForkAdaptor } from '../../src/resource/fork/adaptor.js';
import { Testbed } from '../../test/testbed/testbed.js';
import { median } from '../support/stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../..');

const SECURITIES = ['tls', 'plaintext'] as const;
type Security = (typeof SECURITIES)[number];
const SCHEMES = ['fork', 'slurm+ssh'] as const;
type Scheme = (typeof SCHEMES)[number];
/** Environment the ssh connections read; set for the testbed, restored afterwards. */
const SSH_ENV = ['PILOT_STREAMING_SSH_KNOWN_HOSTS', 'PILOT_STREAMING_SSH_IDENTITY'];
const MESSAGE_BYTES = 1024;
const BATCH = 500;
const START_TIMEOUT_MS = 300_000;

function settings(): { runs: number; messages: number; schemes: Scheme[] } {
  const read = (key: string, fallback: string, min: number) => {
    const value = process.env[key] ?? fallback;
    const number = Number(value);
    return { key, value, number, ok: Number.isInteger(number) && number >= min, min };
  };
  const runs = read('KAFKA_TLS_BENCH_RUNS', '5', 1);
  const messages = read('KAFKA_TLS_BENCH_MESSAGES', '50000', BATCH);
  const problems = [runs, messages]
    .filter(setting => !setting.ok)
    .map(({ key, value, min }) => ({ key, value, expected: `a whole number ≥ ${min}` }));
  const schemesValue = process.env.KAFKA_TLS_BENCH_SCHEMES ?? SCHEMES.join(',');
  const schemes = schemesValue.split(',').map(scheme => scheme.trim());
  if (!schemes.every(scheme => (SCHEMES as readonly string[]).includes(scheme))) {
    problems.push({
      key: 'KAFKA_TLS_BENCH_SCHEMES',
      value: schemesValue,
      expected: `a comma-separated list of ${SCHEMES.join(', ')}`
    });
  }
  if (problems.length > 0) throw new ValidationError('benchmark settings', problems);
  return { runs: runs.number, messages: messages.number, schemes: schemes as Scheme[] };
}

/**
 * Sends `messages` messages of MESSAGE_BYTES to a fresh one-partition topic, BATCH per request,
 * each acknowledged by the broker (acks -1); returns messages per second.
 */
async function producerThroughput(kafka: Kafka, topic: string, messages: number): Promise<number> {
  const seconds = await timeProducer(kafka, {
    topic,
    partitions: 1,
    messages,
    messageBytes: MESSAGE_BYTES,
    batch: BATCH,
    idempotent: false,
    warmUp: true
  });
  return messages / seconds;
}

async function stopForkPilots(home: string): Promise<void> {
  const adaptor = new ForkAdaptor();
  for (const record of await new PilotRegistry(home).list()) {
    if (record.description.resource.startsWith('fork:') && record.job !== undefined) {
      await adaptor.terminate(record.job, 2_000);
    }
  }
}

test('Kafka producer throughput: TLS pilots against PLAINTEXT pilots on fork:// and slurm+ssh://', async () => {
  const { runs, messages, schemes } = settings();
  const loadAtStart = loadavg()[0]!;
  const dir = await mkdtemp(join(tmpdir(), 'ps-kafka-tls-'));
  const home = join(dir, 'home');
  const savedEnv = Object.fromEntries(SSH_ENV.map(key => [key, process.env[key]]));
  const resources = new Map<Scheme, string>([['fork', 'fork://localhost']]);
  let testbed: Testbed | undefined;
  let remoteHome: string | undefined;
  let service: PilotComputeService | undefined;
  let failure: unknown;
  try {
    if (schemes.includes('slurm+ssh')) {
      // A pilot holds its nodes whole: one node for each of the two pilots.
      testbed = await Testbed.start({ nodes: SECURITIES.length });
      const { ssh } = testbed.info;
      process.env.PILOT_STREAMING_SSH_KNOWN_HOSTS = ssh.knownHostsPath;
      process.env.PILOT_STREAMING_SSH_IDENTITY = ssh.identityPath;
      remoteHome = await mkdtemp(join(testbed.info.dir, 'home-'));
      resources.set('slurm+ssh', `slurm+ssh://${ssh.user}@${ssh.host}:${ssh.port}`);
    }
    service = new PilotComputeService({
      home,
      cacheDir: defaultPilotCache(),
      // The testbed's nodes share this machine's cache: Kafka is there already.
      ...(remoteHome !== undefined
        ? { remote: { home: remoteHome, cacheDir: defaultPilotCache() } }
        : {})
    });
    const configurations = schemes.flatMap(scheme =>
      SECURITIES.map(security => ({ scheme, security }))
    );
    const pilots = new Map<string, Pilot>();
    const keyOf = (c: { scheme: Scheme; security: Security }) => `${c.scheme} ${c.security}`;
    for (const configuration of configurations) {
      const pilot = await service.createPilot({
        type: 'kafka',
        resource: resources.get(configuration.scheme)!,
        name: `bench-${configuration.security}`,
        walltimeMinutes: 30,
        configuration: { 'pilot.security': configuration.security }
      });
      await pilot.wait('Running', { timeoutMs: START_TIMEOUT_MS });
      pilots.set(keyOf(configuration), pilot);
    }
    const samples: { key: string; run: number; messagesPerSecond: number }[] = [];
    // Round-robin, so a change in the machine's load hits every configuration alike.
    for (let run = 1; run <= runs; run++) {
      for (const configuration of configurations) {
        const key = keyOf(configuration);
        const kafka = await pilots.get(key)!.getContext();
        const messagesPerSecond = await producerThroughput(kafka, `bench-${run}`, messages);
        console.log(`${key}, run ${run}: ${messagesPerSecond.toFixed(0)} msg/s`);
        samples.push({ key, run, messagesPerSecond });
      }
    }
    const medianOf = (key: string) =>
      median(samples.filter(s => s.key === key).map(s => s.messagesPerSecond));
    const rows = configurations.map(configuration => {
      const key = keyOf(configuration);
      const value = medianOf(key);
      const every = samples
        .filter(s => s.key === key)
        .map(s => s.messagesPerSecond.toFixed(0))
        .join(', ');
      return `| ${configuration.scheme} | ${configuration.security} | ${value.toFixed(0)} | ${((value * MESSAGE_BYTES) / 2 ** 20).toFixed(1)} | ${every} |`;
    });
    const ratios = schemes.map(scheme => {
      const ratio = medianOf(`${scheme} tls`) / medianOf(`${scheme} plaintext`);
      return `- ${scheme}: **TLS / PLAINTEXT ${ratio.toFixed(2)}** (TLS costs ${((1 - ratio) * 100).toFixed(0)} % of the producer throughput)`;
    });
    const markdown = [
      '# Kafka TLS: producer throughput',
      '',
      `One kafkajs producer on this machine sends ${messages} messages of ${MESSAGE_BYTES} bytes in requests of ${BATCH}, each acknowledged by the broker (acks -1), to a one-partition topic of a one-node pilot: for each resource, one pilot with its default mutual-TLS listeners and one with \`pilot.security: plaintext\`, all running throughout and measured in turn (${runs} runs each). On slurm+ssh:// (the SLURM testbed) the connections go through the ssh connection, TLS end to end inside it. Median shown; the connection's first request (and TLS handshake) is not timed.`,
      '',
      '| resource | listeners | messages/s (median) | MiB/s | every run |',
      '| --- | --- | --- | --- | --- |',
      ...rows,
      '',
      ...ratios,
      '',
      `${new Date().toISOString()}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, load average ${loadAtStart.toFixed(2)} at the start and ${loadavg()[0]!.toFixed(2)} at the end (the machine is shared).`,
      ''
    ].join('\n');
    const path = join(repo, 'docs', 'benchmarks', 'kafka-tls.md');
    console.log(await writeFormattedMarkdown(path, markdown));
  } catch (error) {
    failure = error;
  }
  // Every step runs even if one before it fails; their failures are reported together.
  const problems: string[] = [];
  const attempt = async (step: () => Promise<void>): Promise<void> => {
    await step().catch((error: Error) => problems.push(error.message));
  };
  await attempt(async () => {
    for (const pilot of (await service?.listPilots()) ?? []) {
      if (!isTerminal(pilot.state)) await pilot.cancel();
    }
  });
  await attempt(async () => service?.close());
  await attempt(() => stopForkPilots(home));
  for (const [key, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  await attempt(async () => testbed?.stop());
  await attempt(() => rm(dir, { recursive: true, force: true }));
  const cleanUp = problems.length > 0 ? `benchmark clean-up: ${problems.join('; ')}` : undefined;
  if (failure !== undefined) {
    // The run's own error comes first; clean-up problems are added to it.
    if (cleanUp !== undefined && failure instanceof Error) failure.message += ` (and ${cleanUp})`;
    throw failure;
  }
  if (cleanUp !== undefined) throw new Error(cleanUp);
});
