import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as prettier from 'prettier';
import type { Kafka } from 'kafkajs';
import { test } from 'vitest';
import { defaultPilotCache, PilotComputeService } from '../../src/pilot/index.js';
import { PilotRegistry } from '../../src/pilot/registry.js';
import { ValidationError, type PilotRecord, type PilotState } from '../../src/protocol/index.js';
import { ForkAdaptor } from '../../src/resource/fork/adaptor.js';
import { Testbed } from '../../test/testbed/testbed.js';
import { timeProducer } from '../support/producer.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../..');

const SCHEMES = ['fork', 'slurm+ssh'] as const;
type Scheme = (typeof SCHEMES)[number];
const SLURM_NODE_COUNTS = [1, 2, 3];
/** Generous: a slow start is a result to report, not a reason to give up. */
const START_TIMEOUT_MS = 300_000;
/** Environment the ssh connections read; set for the testbed, restored afterwards. */
const SSH_ENV = ['PILOT_STREAMING_SSH_KNOWN_HOSTS', 'PILOT_STREAMING_SSH_IDENTITY'];

interface Configuration {
  label: string;
  scheme: Scheme;
  nodes: number;
  security: 'tls' | 'plaintext';
}

/** What each started pilot's producer sends, to price TLS (kafka-tls measures it at length). */
const PRODUCER_MESSAGES = 20_000;
const PRODUCER_MESSAGE_BYTES = 1024;
const PRODUCER_BATCH = 1_000;

/** One pilot start, times in milliseconds. */
interface Sample {
  configuration: string;
  /** 1-based; run 1 is the first round of the benchmark. */
  run: number;
  /** createPilot() called → the context answered a metadata request (the figure reported). */
  totalMs: number;
  /** From the record's history: created → Pending (recorded and launched or submitted). */
  launchMs: number;
  /** Pending → Running (queue, allocation, bootstrap, framework up). */
  startMs: number;
  /** Running recorded → the client's context answered (includes the client's state polling). */
  contextMs: number;
  /** cancel() called → nothing of the pilot left. */
  cancelMs: number;
  /** Brokers the context's metadata request listed. */
  brokers: number;
  /** The machine's 1-minute load average when the run began (others share it). */
  load: number;
  /**
   * CPU seconds the whole machine spent from createPilot() to context ready (/proc/stat; the
   * testbed's nodes share its cores), and that as a share of all cores over that time.
   */
  cpuSeconds: number;
  busy: number;
  /** Of that, CPU seconds the pilot's brokers (JVMs) had used by then, all nodes together. */
  brokerCpuSeconds: number;
  /** One producer through the context: MB/s of PRODUCER_MESSAGES acknowledged messages. */
  producerMBps: number;
}

/** Non-idle and total CPU time of the machine so far, in seconds (/proc/stat's first line). */
async function machineCpu(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is inside user already).
  const total = ticks.slice(0, 8).reduce((sum, value) => sum + value, 0);
  const idle = ticks[3]! + ticks[4]!;
  const hertz = 100;
  return { busy: (total - idle) / hertz, total: total / hertz };
}

/** CPU seconds used so far by the running processes whose command line has every one of `words`. */
async function processCpu(words: string[]): Promise<number> {
  let ticks = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const command = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').join(' ');
      if (!words.every(word => command.includes(word))) continue;
      // Fields after the command name in parentheses: utime and stime are the 12th and 13th.
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch (error) {
      // A process that ended while we looked is simply not counted.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return ticks / 100;
}

/** MB/s of one idempotent producer sending PRODUCER_MESSAGES in batches, all acknowledged. */
async function producerThroughput(kafka: Kafka): Promise<number> {
  const seconds = await timeProducer(kafka, {
    topic: `startup-bench-${Date.now()}`,
    partitions: 3,
    messages: PRODUCER_MESSAGES,
    messageBytes: PRODUCER_MESSAGE_BYTES,
    batch: PRODUCER_BATCH,
    idempotent: true,
    warmUp: false
  });
  return (PRODUCER_MESSAGES * PRODUCER_MESSAGE_BYTES) / 1e6 / seconds;
}

function settings(): { runs: number; schemes: Scheme[] } {
  const runsValue = process.env.STARTUP_BENCH_RUNS ?? '5';
  const runs = Number(runsValue);
  const schemesValue = process.env.STARTUP_BENCH_SCHEMES ?? SCHEMES.join(',');
  const schemes = schemesValue.split(',').map(scheme => scheme.trim());
  const problems = [];
  if (!Number.isInteger(runs) || runs < 1) {
    problems.push({ key: 'STARTUP_BENCH_RUNS', value: runsValue, expected: 'a whole number ≥ 1' });
  }
  if (!schemes.every(scheme => (SCHEMES as readonly string[]).includes(scheme))) {
    problems.push({
      key: 'STARTUP_BENCH_SCHEMES',
      value: schemesValue,
      expected: `a comma-separated list of ${SCHEMES.join(', ')}`
    });
  }
  if (problems.length > 0) throw new ValidationError('benchmark settings', problems);
  return { runs, schemes: schemes as Scheme[] };
}

function transitionAt(record: PilotRecord, state: PilotState): number {
  const change = record.history.find(entry => entry.state === state);
  if (change === undefined) {
    throw new Error(`Pilot ${record.id} has no ${state} transition in its history`);
  }
  return Date.parse(change.at);
}

/** Starts one pilot, waits for a working context, cancels it; throws if any step fails. */
async function measure(
  service: PilotComputeService,
  configuration: Configuration,
  resource: string,
  runIndex: number
): Promise<Sample> {
  const load = loadavg()[0];
  const cpuBefore = await machineCpu();
  const started = performance.now();
  const pilot = await service.createPilot({
    type: 'kafka',
    name: `startup bench ${runIndex}`,
    resource,
    numberOfNodes: configuration.nodes,
    walltimeMinutes: 10,
    ...(configuration.security === 'plaintext'
      ? { configuration: { 'pilot.security': 'plaintext' } }
      : {})
  });
  let totalMs: number;
  let readyAt: number;
  let brokers: number;
  let cpu: { busy: number; total: number };
  let producerMBps: number;
  let brokerCpuSeconds: number;
  try {
    await pilot.wait('Running', { timeoutMs: START_TIMEOUT_MS });
    const kafka = await pilot.getContext();
    const admin = kafka.admin();
    await admin.connect();
    try {
      brokers = (await admin.describeCluster()).brokers.length;
    } finally {
      await admin.disconnect();
    }
    totalMs = performance.now() - started;
    readyAt = Date.now();
    const cpuAfter = await machineCpu();
    brokerCpuSeconds = await processCpu(['kafka.Kafka', pilot.id]);
    cpu = { busy: cpuAfter.busy - cpuBefore.busy, total: cpuAfter.total - cpuBefore.total };
    producerMBps = await producerThroughput(kafka);
  } catch (error) {
    // The start-up error is what matters; the pilot must not outlive the run either way.
    await pilot.cancel();
    throw error;
  }
  const cancelStarted = performance.now();
  await pilot.cancel();
  const cancelMs = performance.now() - cancelStarted;
  const record = pilot.record;
  if (record.state !== 'Canceled') {
    throw new Error(
      `Pilot ${pilot.id} ended ${record.state} instead of Canceled: ${record.reason ?? 'no reason'}`
    );
  }
  const createdAt = Date.parse(record.createdAt);
  const pendingAt = transitionAt(record, 'Pending');
  const runningAt = transitionAt(record, 'Running');
  return {
    configuration: configuration.label,
    run: runIndex,
    totalMs,
    launchMs: pendingAt - createdAt,
    startMs: runningAt - pendingAt,
    contextMs: readyAt - runningAt,
    cancelMs,
    brokers,
    load,
    cpuSeconds: cpu.busy,
    busy: cpu.busy / cpu.total,
    brokerCpuSeconds,
    producerMBps
  };
}

/** Stops what a failed run may have left of fork:// pilots (SLURM jobs go with the testbed). */
async function stopForkPilots(home: string): Promise<void> {
  const adaptor = new ForkAdaptor();
  for (const record of await new PilotRegistry(home).list()) {
    if (record.description.resource.startsWith('fork:') && record.job !== undefined) {
      await adaptor.terminate(record.job, 2_000);
    }
  }
}

test('pilot start-up: create → context ready on fork:// and slurm+ssh:// at 1, 2, 3 nodes', async () => {
  const { runs, schemes } = settings();
  const loadAtStart = loadavg()[0];
  const dir = await mkdtemp(join(tmpdir(), 'ps-startup-'));
  const home = join(dir, 'home');
  const savedEnv = Object.fromEntries(SSH_ENV.map(key => [key, process.env[key]]));
  let testbed: Testbed | undefined;
  let service: PilotComputeService | undefined;
  let failure: unknown;
  try {
    const resources = new Map<Scheme, string>([['fork', 'fork://localhost']]);
    const configurations: Configuration[] = [];
    // The pilots' home on the resource: a fresh one in the testbed, removed with it.
    let remoteHome: string | undefined;
    if (schemes.includes('fork')) {
      for (const security of ['tls', 'plaintext'] as const) {
        configurations.push({
          label: `fork://localhost, 1 node${security === 'plaintext' ? ', PLAINTEXT' : ''}`,
          scheme: 'fork',
          nodes: 1,
          security
        });
      }
    }
    if (schemes.includes('slurm+ssh')) {
      testbed = await Testbed.start({ nodes: Math.max(...SLURM_NODE_COUNTS) });
      const { ssh } = testbed.info;
      process.env.PILOT_STREAMING_SSH_KNOWN_HOSTS = ssh.knownHostsPath;
      process.env.PILOT_STREAMING_SSH_IDENTITY = ssh.identityPath;
      remoteHome = await mkdtemp(join(testbed.info.dir, 'home-'));
      resources.set('slurm+ssh', `slurm+ssh://${ssh.user}@${ssh.host}:${ssh.port}`);
      for (const nodes of SLURM_NODE_COUNTS) {
        configurations.push({
          label: `slurm+ssh, ${nodes} node${nodes > 1 ? 's' : ''}`,
          scheme: 'slurm+ssh',
          nodes,
          security: 'tls'
        });
      }
      // The largest again without TLS: what TLS costs at start-up and on a producer.
      const nodes = Math.max(...SLURM_NODE_COUNTS);
      configurations.push({
        label: `slurm+ssh, ${nodes} nodes, PLAINTEXT`,
        scheme: 'slurm+ssh',
        nodes,
        security: 'plaintext'
      });
    }
    const pilots = new PilotComputeService({
      home,
      cacheDir: defaultPilotCache(),
      // The testbed's nodes share this machine's cache: Kafka is there already.
      ...(remoteHome !== undefined
        ? { remote: { home: remoteHome, cacheDir: defaultPilotCache() } }
        : {})
    });
    service = pilots;
    const measureOne = async (configuration: Configuration, runIndex: number): Promise<Sample> => {
      const sample = await measure(
        pilots,
        configuration,
        resources.get(configuration.scheme)!,
        runIndex
      );
      console.log(
        `${configuration.label}, run ${runIndex}: ${(sample.totalMs / 1000).toFixed(2)} s` +
          ` (launch ${sample.launchMs} ms, start ${sample.startMs} ms, context ${sample.contextMs} ms;` +
          ` ${sample.brokers} broker(s); machine ${sample.cpuSeconds.toFixed(1)} CPU s` +
          ` (brokers ${sample.brokerCpuSeconds.toFixed(1)}),` +
          ` ${(sample.busy * 100).toFixed(0)}% busy; producer ${sample.producerMBps.toFixed(1)} MB/s;` +
          ` cancel ${(sample.cancelMs / 1000).toFixed(2)} s)`
      );
      return sample;
    };

    const samples: Sample[] = [];
    // Round-robin, so a change in the machine's load hits every configuration alike. The first
    // round pays one-off costs (cold caches, whatever a resource stages the first time); the
    // median of 5 is robust to that one slow start, and the report shows every run.
    for (let runIndex = 1; runIndex <= runs; runIndex++) {
      for (const configuration of configurations) {
        samples.push(await measureOne(configuration, runIndex));
      }
    }

    const results = {
      date: new Date().toISOString(),
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      // Others share the machine: the load says how much of it this run had.
      loadAverage: { start: loadAtStart, end: loadavg()[0] },
      runs,
      configurations: configurations.map(configuration => configuration.label),
      // The peers the ratios are taken against; null when their scheme was not measured.
      fork: configurations.find(configuration => configuration.scheme === 'fork')?.label ?? null,
      slurmOneNode:
        configurations.find(configuration => configuration.scheme === 'slurm+ssh')?.label ?? null,
      // TLS against PLAINTEXT: pairs of the same scheme and node count.
      securityPairs: configurations
        .filter(configuration => configuration.security === 'plaintext')
        .map(plain => ({
          plaintext: plain.label,
          tls: configurations.find(
            other =>
              other.security === 'tls' &&
              other.scheme === plain.scheme &&
              other.nodes === plain.nodes
          )!.label
        })),
      producer: {
        messages: PRODUCER_MESSAGES,
        bytes: PRODUCER_MESSAGE_BYTES,
        batch: PRODUCER_BATCH
      },
      samples
    };
    const docs = join(repo, 'docs', 'benchmarks');
    const json = join(dir, 'results.json');
    await writeFile(json, JSON.stringify(results, null, 2));
    const markdown = join(docs, 'startup.md');
    await run(join(repo, '.venv', 'bin', 'python'), [
      join(here, 'report.py'),
      json,
      markdown,
      join(docs, 'startup.png')
    ]);
    // Committed with the rest of the repository, so formatted as the repository's Markdown is.
    const options = (await prettier.resolveConfig(markdown)) ?? {};
    const formatted = await prettier.format(await readFile(markdown, 'utf8'), {
      ...options,
      parser: 'markdown'
    });
    await writeFile(markdown, formatted);
    console.log(formatted);
  } catch (error) {
    failure = error;
  }
  // Every step runs even if one before it fails; their failures are reported together.
  const problems: string[] = [];
  const attempt = async (step: () => Promise<void>): Promise<void> => {
    await step().catch((error: Error) => problems.push(error.message));
  };
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
    // The run's own error is what the reader needs first; clean-up problems are added to it.
    if (cleanUp !== undefined && failure instanceof Error) failure.message += ` (and ${cleanUp})`;
    throw failure;
  }
  if (cleanUp !== undefined) throw new Error(cleanUp);
});
