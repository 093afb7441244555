import { execFile, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Admin, Kafka } from 'kafkajs';
import * as prettier from 'prettier';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { KAFKA_VERSION } from '../../src/frameworks/kafka/distribution.js';
import { masa, mass, type MiniAppRun, type RunSummary } from '../../src/miniapps/api.js';
import { LatencyHistogram } from '../../src/miniapps/metrics/latency.js';
import type { RateWindow } from '../../src/miniapps/metrics/rates.js';
import { readRunRecord, type RunRecord } from '../../src/miniapps/metrics/run-record.js';
import { parseReport } from '../../src/miniapps/runs/report.js';
import type { ProducerSpec } from '../../src/miniapps/runs/spec.js';
import { PilotComputeService, type Pilot } from '../../src/pilot/index.js';
import { PilotRegistry } from '../../src/pilot/registry.js';
import { isTerminal } from '../../src/protocol/index.js';
import { loadSinograms } from '../../src/recon/load.js';
import { createReconstructor, reconstruct } from '../../src/recon/reconstruct.js';
import { ForkAdaptor } from '../../src/resource/fork/adaptor.js';
import { sharedDataDir, testCacheDir } from '../../test/support/paths.js';
import { Testbed } from '../../test/testbed/testbed.js';
import { coresBetween, CpuWatch, type CpuSample, type CpuUse, type ProcessMatcher } from './cpu.js';
import { summarizeProfile, type ProfileSummary } from './profile.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const lib = resolve(here, '../..');
const repo = resolve(lib, '..');
const python = join(repo, '.venv', 'bin', 'python');
const toothPath = join(sharedDataDir, 'tooth.h5');

const ROWS = ['producer', 'kmeans', 'gridrec', 'latency', 'scaling'] as const;
type Row = (typeof ROWS)[number];

/** Row 1: message sizes, and messages per run (about 8–10 s of sending at the rates seen here). */
const PRODUCER_CASES = [
  { size: 300_000, messages: 1500 },
  { size: 2_000_000, messages: 500 }
];
/** Ours and the peer take turns, the first in one round going second in the next. */
const PRODUCER_ROUNDS = 3;
const PARTITIONS = 8;
const MAX_MESSAGE_BYTES = 4_194_304;
/** Row 2. */
const KMEANS_INPROCESS_MESSAGES = 200;
const KMEANS_REPEATS = 7;
const KMEANS_PIPELINE_MESSAGES = 8000;
const KMEANS_PIPELINE_PRODUCERS = 2;
/** Row 3: the tooth's 2 rows, tiled; and the messages of the streaming run. */
const TOOTH_TILES = 8;
const TOOTH_CENTER = 296;
const GRIDREC_REPEATS = 5;
const GRIDREC_MESSAGES = 300;
/** Row 4. */
const LATENCY_RATE = 100;
const LATENCY_SECONDS = 30;
const LATENCY_BYTES = 1000;
const LATENCY_DISCARD_SECONDS = 3;
/** The p99 target: the report counts the messages slower than this. */
const LATENCY_P99_TARGET_MS = 25;
const E2E_RECORDS = 2000;
/** Row 5. */
const SCALING_NODES = 3;
const SCALING_MESSAGES = 8000;
const SCALING_PARTITIONS = 12;
/** The pinned single-core runs of row 2 use this CPU (as `taskset -c 0`). */
const ONE_CORE = '0';

/** kafka-run-class.sh's JVM options, which kafka-producer-perf-test.sh and kafka-e2e-latency.sh use. */
const KAFKA_RUN_CLASS_JVM = [
  '-Xmx256M',
  '-server',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-XX:MaxInlineLevel=15',
  '-Djava.awt.headless=true'
];

function selectedRows(): Row[] {
  const value = process.env.MINIAPPS_BENCH_ROWS;
  if (value === undefined || value.trim() === '') return [...ROWS];
  const rows = value.split(',').map(row => row.trim());
  const unknown = rows.filter(row => !(ROWS as readonly string[]).includes(row));
  if (unknown.length > 0)
    throw new Error(
      `MINIAPPS_BENCH_ROWS = ${JSON.stringify(value)}: expected a comma-separated list of ${ROWS.join(', ')}`
    );
  return rows as Row[];
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const suffix = () => randomBytes(3).toString('hex');

type Field = 'producedMessages' | 'producedBytes' | 'processedMessages' | 'processedBytes';

/** A rate from a run record's 1 s windows. */
interface Steady {
  /** Over the windows with traffic but the first and the last (partial: start-up, end). */
  perSecond: number;
  /** Over every window from the first to the last with traffic (partial ones too). */
  spanPerSecond: number;
  /** Windows from the first to the last with traffic, and those `perSecond` used. */
  windows: number;
  interior: number;
  /** Per-second rate of each window of the span, for the plot. */
  series: number[];
  /** Clock times (ms) where the windows `perSecond` used begin and end. */
  fromMs: number;
  toMs: number;
}

function steadyRate(rates: readonly RateWindow[], field: Field): Steady {
  const first = rates.findIndex(window => window[field] > 0);
  const last = rates.findLastIndex(window => window[field] > 0);
  if (first < 0)
    return {
      perSecond: 0,
      spanPerSecond: 0,
      windows: 0,
      interior: 0,
      series: [],
      fromMs: 0,
      toMs: 0
    };
  const span = rates.slice(first, last + 1);
  const rate = (windows: readonly RateWindow[]) =>
    windows.reduce((sum, window) => sum + window[field], 0) /
    (windows.reduce((sum, window) => sum + window.durationMs, 0) / 1000);
  const interior = span.length >= 3 ? span.slice(1, -1) : span;
  return {
    perSecond: rate(interior),
    spanPerSecond: rate(span),
    windows: span.length,
    interior: interior.length,
    series: span.map(window => window[field] / (window.durationMs / 1000)),
    fromMs: interior[0]!.startMs,
    toMs: interior.at(-1)!.startMs + interior.at(-1)!.durationMs
  };
}

async function recordOf(summary: RunSummary, what: string): Promise<RunRecord> {
  if (summary.state !== 'ended' || summary.record === null)
    throw new Error(`${what} ended ${summary.state}: ${summary.reason ?? 'no reason given'}`);
  return readRunRecord(summary.record.recordPath);
}

/** Runs a command to completion; rejects with its last output lines when it fails. */
async function runCommand(
  argv: string[],
  options: {
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number;
    /** Called with each line of standard output and the clock time (ms) it arrived. */
    onLine?: (line: string, atMs: number) => void;
  } = {}
): Promise<string[]> {
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe']
  });
  const lines: string[] = [];
  createInterface({ input: child.stdout }).on('line', line => {
    lines.push(line);
    options.onLine?.(line, Date.now());
  });
  createInterface({ input: child.stderr }).on('line', line => lines.push(line));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  }).finally(() => clearTimeout(timer));
  if (code !== 0)
    throw new Error(`${argv.join(' ')} exited ${String(code)}:\n${lines.slice(-15).join('\n')}`);
  return lines;
}

/**
 * CPU seconds (user + system) a child process has used, read from /proc every 100 ms until it
 * exits: the last reading is its total to within 100 ms. With the wall time it says how much of
 * the time the process ran, waited (idle) or was kept off the CPU by others on a shared machine.
 */
function trackCpu(pid: number): { seconds(): number; stop(): void } {
  let last = 0;
  const read = () => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Fields 14 and 15 of stat (utime, stime), in clock ticks of 1/100 s.
      last = (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      // Exited: keep the last reading.
    }
  };
  read();
  const timer = setInterval(read, 100);
  return {
    seconds: () => (read(), last),
    stop: () => clearInterval(timer)
  };
}

/** How Kafka's own tools are run: their scripts when the cache holds a tarball, else their classes. */
interface KafkaTools {
  how: string;
  producerPerfTest: string[];
  endToEndLatency: string[];
}

async function findFile(dir: string, name: string, depth: number): Promise<string | undefined> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
  for (const entry of entries) if (entry.isFile() && entry.name === name) return join(dir, name);
  if (depth === 0) return undefined;
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name === 'maven-repository' || entry.name === 'libs')
      continue;
    const found = await findFile(join(dir, entry.name), name, depth - 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

async function kafkaTools(cacheDir: string, work: string): Promise<KafkaTools> {
  const script = await findFile(cacheDir, 'kafka-producer-perf-test.sh', 4);
  if (script !== undefined) {
    const bin = dirname(script);
    return {
      how: `the distribution's scripts (${bin})`,
      producerPerfTest: [script],
      endToEndLatency: [join(bin, 'kafka-e2e-latency.sh')]
    };
  }
  // The pilots' Kafka is the Maven artifacts (jars only, no bin/): run the classes the scripts
  // run, with kafka-run-class.sh's JVM options and a WARN-level log4j configuration.
  const libs = join(cacheDir, 'kafka', KAFKA_VERSION, 'libs');
  if (!existsSync(join(libs, `kafka-tools-${KAFKA_VERSION}.jar`)))
    throw new Error(`${libs} holds no kafka-tools jar: start a Kafka pilot once to fill the cache`);
  const log4j = join(work, 'tools-log4j2.properties');
  await writeFile(
    log4j,
    [
      'rootLogger.level = WARN',
      'rootLogger.appenderRef.stderr.ref = STDERR',
      'appender.stderr.type = Console',
      'appender.stderr.name = STDERR',
      'appender.stderr.target = SYSTEM_ERR',
      'appender.stderr.layout.type = PatternLayout',
      'appender.stderr.layout.pattern = [%d] %p %m (%c)%n',
      ''
    ].join('\n')
  );
  const java = (mainClass: string) => [
    'java',
    ...KAFKA_RUN_CLASS_JVM,
    `-Dlog4j2.configurationFile=${log4j}`,
    '-cp',
    join(libs, '*'),
    mainClass
  ];
  return {
    how: `Kafka ${KAFKA_VERSION}'s own tools run as the classes their scripts run (org.apache.kafka.tools.ProducerPerformance for kafka-producer-perf-test.sh, EndToEndLatency for kafka-e2e-latency.sh) from the pilot's jars in the cache, with kafka-run-class.sh's JVM options: the cache holds Kafka's Maven artifacts, which have no bin/`,
    producerPerfTest: java('org.apache.kafka.tools.ProducerPerformance'),
    endToEndLatency: java('org.apache.kafka.tools.EndToEndLatency')
  };
}

async function createTopic(admin: Admin, topic: string, partitions: number): Promise<void> {
  await admin.createTopics({
    topics: [
      {
        topic,
        numPartitions: partitions,
        configEntries: [{ name: 'max.message.bytes', value: String(MAX_MESSAGE_BYTES) }]
      }
    ]
  });
  await leadersElected(admin, topic, partitions);
}

/**
 * Waits until every partition of a new topic has a leader. kafkajs' own `waitForLeaders` gives
 * up when the broker answers "does not host this topic-partition" before its metadata has the
 * new topic (seen here on a loaded machine); that answer only means "not yet".
 */
async function leadersElected(admin: Admin, topic: string, partitions: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const found = topics[0]?.partitions ?? [];
      if (found.length === partitions && found.every(partition => partition.leader >= 0)) return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`topic ${topic} has no leaders after 60 s`);
    await new Promise(resolve => setTimeout(resolve, 200));
  }
}

/** Frees the broker's disk; a topic that is already gone is fine. */
async function deleteTopics(admin: Admin, topics: string[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const present = topics.filter(topic => existing.has(topic));
  if (present.length > 0) await admin.deleteTopics({ topics: present }).catch(() => {});
}

/** Units of a Mini-App run on `topic` (their spec, on the command line, names it). */
const unitsOn =
  (topic: string, role: 'producer' | 'consumer'): ProcessMatcher =>
  command =>
    command.includes('unit-main.js') &&
    command.includes(`"topic":"${topic}"`) &&
    command.includes(`"role":"${role}"`);

/** The brokers of a pilot: Kafka JVMs whose command line names the pilot's work directory. */
const brokersOf =
  (workDir: string): ProcessMatcher =>
  command =>
    command.includes('kafka.Kafka') && command.includes(workDir);

/** Runs `body` while watching the cores that `groups` use. */
async function watched<T>(
  groups: Record<string, ProcessMatcher>,
  body: () => Promise<T>
): Promise<{ result: T; cpu: CpuUse; samples: CpuSample[] }> {
  const watch = await CpuWatch.start(groups);
  try {
    const result = await body();
    return { result, cpu: await watch.stop(), samples: watch.samples };
  } catch (error) {
    await watch.stop().catch(() => {});
    throw error;
  }
}

/** What every fork:// row shares. */
interface Fork {
  service: PilotComputeService;
  pilot: Pilot;
  brokerProcesses: ProcessMatcher;
  kafka: Kafka;
  admin: Admin;
  brokers: string[];
  work: string;
  tools: KafkaTools;
}

// ---- Row 1: MASS producer MB/s vs kafka-producer-perf-test ----

const PERF_WINDOW =
  /^(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency\.$/;
const PERF_TOTAL =
  /^(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th/;

interface ProducerRun {
  who: 'ours' | 'peer';
  round: number;
  /** Payload MB/s (10^6 bytes; the same payload bytes for both). */
  steadyMBps: number;
  /** Over the whole run: the peer's own total; ours over the span of windows with traffic. */
  wholeMBps: number;
  windows: number;
  series: number[];
  load: number;
  /** Cores the producer client and the broker used over the steady-state windows. */
  cpu: CpuUse;
}

async function peerProducer(
  fork: Fork,
  size: number,
  messages: number,
  round: number
): Promise<ProducerRun> {
  const topic = `bench-peer-${size}-${round}-${suffix()}`;
  await createTopic(fork.admin, topic, PARTITIONS);
  const load = loadavg()[0]!;
  try {
    const peerProcess: ProcessMatcher = command =>
      /ProducerPerformance|producer-perf-test/.test(command) && command.includes(topic);
    const windowTimes: number[] = [];
    const { result: lines, samples } = await watched(
      { client: peerProcess, brokers: fork.brokerProcesses },
      () =>
        runCommand(
          [
            ...fork.tools.producerPerfTest,
            '--bootstrap-server',
            fork.brokers.join(','),
            '--topic',
            topic,
            '--num-records',
            String(messages),
            '--record-size',
            String(size),
            '--throughput',
            '-1',
            '--reporting-interval',
            '1000',
            '--command-property',
            'acks=all',
            `max.request.size=${MAX_MESSAGE_BYTES}`
          ],
          { onLine: (line, atMs) => void (PERF_WINDOW.test(line) && windowTimes.push(atMs)) }
        )
    );
    const windows = lines.flatMap(line => {
      const match = PERF_WINDOW.exec(line);
      return match === null ? [] : [Number(match[2])];
    });
    const total = lines.map(line => PERF_TOTAL.exec(line)).find(match => match !== null);
    if (total === undefined || total === null)
      throw new Error(`no total line in the perf test's output:\n${lines.slice(-10).join('\n')}`);
    // Its windows are whole reporting intervals; the first holds the connection and warm-up.
    const steady = windows.length >= 2 ? windows.slice(1) : windows;
    // A window's line is printed as it closes: the steady windows span from the first's line on.
    const cpu = coresBetween(samples, windowTimes[0] ?? 0, windowTimes.at(-1) ?? 0);
    return {
      who: 'peer',
      round,
      steadyMBps: (mean(steady) * size) / 1e6,
      wholeMBps: (Number(total[2]) * size) / 1e6,
      windows: windows.length,
      series: windows.map(rate => (rate * size) / 1e6),
      load,
      cpu
    };
  } finally {
    await deleteTopics(fork.admin, [topic]);
  }
}

async function ourProducer(
  fork: Fork,
  size: number,
  messages: number,
  round: number
): Promise<ProducerRun> {
  const topic = `bench-ours-${size}-${round}-${suffix()}`;
  await createTopic(fork.admin, topic, PARTITIONS);
  const load = loadavg()[0]!;
  try {
    const { result: summary, samples } = await watched(
      { client: unitsOn(topic, 'producer'), brokers: fork.brokerProcesses },
      async () => {
        const source = await mass(
          fork.pilot,
          {
            source: { kind: 'synthetic-bytes', size },
            rate: 'unlimited',
            messages,
            producers: 1,
            topic,
            partitions: PARTITIONS
          },
          fork.service
        );
        return source.done();
      }
    );
    const record = await recordOf(summary, `MASS ${size} B`);
    if (summary.produced !== messages)
      throw new Error(`MASS ${size} B produced ${summary.produced} of ${messages} messages`);
    const steady = steadyRate(record.rates, 'producedMessages');
    const cpu = coresBetween(samples, steady.fromMs, steady.toMs);
    return {
      who: 'ours',
      round,
      steadyMBps: (steady.perSecond * size) / 1e6,
      wholeMBps: (steady.spanPerSecond * size) / 1e6,
      windows: steady.windows,
      series: steady.series.map(rate => (rate * size) / 1e6),
      load,
      cpu
    };
  } finally {
    await deleteTopics(fork.admin, [topic, `${topic}.metrics`]);
  }
}

/**
 * Our producer unit run by hand under `node --cpu-prof` (the same unit-main.js and spec a MASS
 * run submits), to see where its time goes.
 */
async function profileOurProducer(
  fork: Fork,
  size: number,
  messages: number
): Promise<ProfileSummary & { messages: number; wallSeconds: number; cpuSeconds: number }> {
  const topic = `bench-profile-${size}-${suffix()}`;
  const metricsTopic = `${topic}.metrics`;
  await createTopic(fork.admin, topic, PARTITIONS);
  await fork.admin.createTopics({ topics: [{ topic: metricsTopic, numPartitions: 1 }] });
  await leadersElected(fork.admin, metricsTopic, 1);
  const dir = await mkdtemp(join(fork.work, 'profile-'));
  try {
    const spec: ProducerSpec = {
      role: 'producer',
      runId: randomUUID(),
      unit: 'producer-0',
      topic,
      metricsTopic,
      brokers: fork.brokers,
      reportIntervalMs: 1000,
      producerId: 0,
      producers: 1,
      index: 0,
      source: { kind: 'synthetic-bytes', size },
      rate: { kind: 'unlimited' },
      messages,
      startMs: Date.now(),
      partitions: PARTITIONS
    };
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [
        '--cpu-prof',
        `--cpu-prof-dir=${dir}`,
        join(lib, 'dist', 'miniapps', 'unit-main.js'),
        JSON.stringify(spec)
      ],
      { stdio: 'ignore' }
    );
    const cpu = trackCpu(child.pid!);
    const code = await new Promise<number | null>(resolve => child.once('exit', resolve));
    cpu.stop();
    const wallSeconds = (performance.now() - started) / 1000;
    if (code !== 0) throw new Error(`the profiled producer unit exited ${String(code)}`);
    const [profile] = (await readdir(dir)).filter(name => name.endsWith('.cpuprofile'));
    if (profile === undefined) throw new Error(`no CPU profile in ${dir}`);
    return {
      ...(await summarizeProfile(join(dir, profile))),
      messages,
      wallSeconds,
      cpuSeconds: cpu.seconds()
    };
  } finally {
    await deleteTopics(fork.admin, [topic, metricsTopic]);
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Our consumer unit run by hand under `node --cpu-prof` on a filled topic (a group of its own,
 * from the beginning), stopped with SIGTERM once its reports say it has processed `expected`.
 */
async function profileOurConsumer(
  fork: Fork,
  topic: string,
  processor: Record<string, unknown>,
  expected: number
): Promise<ProfileSummary & { messages: number; wallSeconds: number; cpuSeconds: number }> {
  const metricsTopic = `${topic}.profile-${suffix()}`;
  await fork.admin.createTopics({ topics: [{ topic: metricsTopic, numPartitions: 1 }] });
  await leadersElected(fork.admin, metricsTopic, 1);
  const dir = await mkdtemp(join(fork.work, 'profile-'));
  const runId = randomUUID();
  const follower = fork.kafka.consumer({ groupId: `bench-profile-reports-${suffix()}` });
  try {
    let reached: () => void = () => {};
    const done = new Promise<void>(resolve => (reached = resolve));
    await follower.connect();
    await follower.subscribe({ topic: metricsTopic, fromBeginning: true });
    await follower.run({
      eachMessage: async ({ message }) => {
        const report = parseReport(message.value);
        if (report?.runId === runId && report.messages >= expected) reached();
      }
    });
    const spec = {
      role: 'consumer',
      runId,
      unit: 'consumer-0',
      topic,
      metricsTopic,
      brokers: fork.brokers,
      reportIntervalMs: 1000,
      groupId: `bench-profile-${suffix()}`,
      fromBeginning: true,
      processor
    };
    const child = spawn(
      process.execPath,
      [
        '--cpu-prof',
        `--cpu-prof-dir=${dir}`,
        join(lib, 'dist', 'miniapps', 'unit-main.js'),
        JSON.stringify(spec)
      ],
      { stdio: 'ignore' }
    );
    const started = performance.now();
    const cpu = trackCpu(child.pid!);
    const exited = new Promise(resolve => child.once('exit', resolve));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>(resolve => (timer = setTimeout(resolve, 180_000)));
    await Promise.race([done, exited, timedOut]);
    clearTimeout(timer);
    const wallSeconds = (performance.now() - started) / 1000;
    const cpuSeconds = cpu.seconds();
    cpu.stop();
    child.kill('SIGTERM');
    await exited;
    const [profile] = (await readdir(dir)).filter(name => name.endsWith('.cpuprofile'));
    if (profile === undefined) throw new Error(`no CPU profile in ${dir}`);
    return {
      ...(await summarizeProfile(join(dir, profile))),
      messages: expected,
      wallSeconds,
      cpuSeconds
    };
  } finally {
    await follower.disconnect().catch(() => {});
    await deleteTopics(fork.admin, [metricsTopic]);
    await rm(dir, { recursive: true, force: true });
  }
}

async function producerRow(fork: Fork) {
  const cases = [];
  for (const { size, messages } of PRODUCER_CASES) {
    const runs: ProducerRun[] = [];
    for (let round = 1; round <= PRODUCER_ROUNDS; round++) {
      const order = round % 2 === 1 ? (['peer', 'ours'] as const) : (['ours', 'peer'] as const);
      for (const who of order) {
        const result =
          who === 'peer'
            ? await peerProducer(fork, size, messages, round)
            : await ourProducer(fork, size, messages, round);
        console.log(
          `producer ${size} B round ${round} ${who}: ${result.steadyMBps.toFixed(1)} MB/s steady, ${result.wholeMBps.toFixed(1)} MB/s whole run (${result.windows} windows)`
        );
        runs.push(result);
      }
    }
    const profile = await profileOurProducer(fork, size, Math.ceil(messages / 2));
    console.log(
      `producer ${size} B profile: ${profile.categories
        .slice(0, 5)
        .map(c => `${c.category} ${(c.share * 100).toFixed(0)}%`)
        .join(', ')}`
    );
    const ours = runs.filter(r => r.who === 'ours');
    const peer = runs.filter(r => r.who === 'peer');
    cases.push({
      size,
      messages,
      runs,
      // Medians over the rounds: a round that the machine's other users slowed stays one round.
      ours: {
        steadyMBps: median(ours.map(r => r.steadyMBps)),
        wholeMBps: median(ours.map(r => r.wholeMBps))
      },
      peer: {
        steadyMBps: median(peer.map(r => r.steadyMBps)),
        wholeMBps: median(peer.map(r => r.wholeMBps))
      },
      // The ratio per round (ours and the peer back to back, under about the same load); their
      // median is the figure judged.
      roundRatios: Array.from({ length: PRODUCER_ROUNDS }, (_, i) => {
        const a = ours.find(r => r.round === i + 1)!;
        const b = peer.find(r => r.round === i + 1)!;
        return a.steadyMBps / b.steadyMBps;
      }),
      profile
    });
  }
  return { partitions: PARTITIONS, rounds: PRODUCER_ROUNDS, tools: fork.tools.how, cases };
}

// ---- Row 2: KMeans messages/s per core ----

/** A MASA run on a topic already filled, until drained; its steady processed rate. */
async function drain(
  pilot: Pilot,
  service: PilotComputeService,
  brokers: ProcessMatcher,
  topic: string,
  processor: Parameters<typeof masa>[1]['processor'],
  consumers: number,
  what: string
) {
  const { result: summary, samples } = await watched(
    { consumers: unitsOn(topic, 'consumer'), brokers },
    async () => {
      const sink = await masa(
        pilot,
        { topic, processor, consumers, until: 'drained', groupId: `bench-${suffix()}` },
        service
      );
      return sink.done();
    }
  );
  const record = await recordOf(summary, what);
  if (summary.processed < summary.produced || summary.produced === 0)
    throw new Error(`${what} processed ${summary.processed} of ${summary.produced} messages`);
  const steady = steadyRate(record.rates, 'processedMessages');
  // Cores over the windows the rate is taken from (not the units' start and stop).
  const cpu = coresBetween(samples, steady.fromMs, steady.toMs);
  console.log(
    `${what}: ${steady.perSecond.toFixed(1)} msg/s steady over ${steady.interior} windows (${summary.processed} messages); cores: ${JSON.stringify(cpu)}`
  );
  return {
    messages: summary.processed,
    steady,
    nodes: record.consumers.map(consumer => consumer.node ?? '?'),
    cpu,
    load: loadavg()[0]!
  };
}

/** MASS until done; its steady produced rate. */
async function fill(
  pilot: Pilot,
  service: PilotComputeService,
  options: Parameters<typeof mass>[1],
  what: string
) {
  const source = await mass(pilot, options, service);
  const summary = await source.done();
  const record = await recordOf(summary, what);
  if (summary.produced !== options.messages)
    throw new Error(`${what} produced ${summary.produced} of ${options.messages} messages`);
  const steady = steadyRate(record.rates, 'producedMessages');
  console.log(
    `${what}: ${steady.perSecond.toFixed(1)} msg/s steady (${summary.produced} messages)`
  );
  return { topic: source.topic, steady, nodes: record.producers.map(p => p.node ?? '?') };
}

async function kmeansRow(fork: Fork) {
  const dir = await mkdtemp(join(fork.work, 'kmeans-'));
  try {
    const pin = ['taskset', '-c', ONE_CORE];
    await runCommand(
      [
        ...pin,
        process.execPath,
        join(here, 'kmeans-ours.mjs'),
        dir,
        '--messages',
        String(KMEANS_INPROCESS_MESSAGES),
        '--repeats',
        String(KMEANS_REPEATS)
      ],
      { cwd: lib }
    ).then(lines => console.log(lines.join('\n')));
    const threads = { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
    await runCommand(
      [
        ...pin,
        python,
        join(here, 'kmeans-peer.py'),
        dir,
        join(dir, 'peer.json'),
        '--messages',
        String(KMEANS_INPROCESS_MESSAGES),
        '--points',
        '5000',
        '--k',
        '10',
        '--repeats',
        String(KMEANS_REPEATS)
      ],
      { env: { ...process.env, ...threads } }
    ).then(lines => console.log(lines.join('\n')));
    const ours = JSON.parse(await readFile(join(dir, 'ours.json'), 'utf8')) as {
      messageBytes: number;
      perSecond: Record<string, { median: number; all: number[] }>;
      finalCenters: number[][];
    };
    const peer = JSON.parse(await readFile(join(dir, 'peer.json'), 'utf8')) as {
      python: string;
      numpy: string;
      affinity: number[];
      threadVariables: Record<string, string>;
      peers: Record<string, { perSecond: number; all: number[]; finalCenters: number[][] }>;
    };
    const agreement = Object.fromEntries(
      Object.entries(peer.peers).map(([name, entry]) => [
        name,
        Math.max(
          ...entry.finalCenters.flatMap((row, c) =>
            row.map((x, j) => Math.abs(x - ours.finalCenters[c]![j]!))
          )
        )
      ])
    );

    // Through the pipeline: the topic filled first, then drained by one consumer, so that the
    // consumer's rate is its own (not the producer's) on this 2-core machine.
    const filled = await fill(
      fork.pilot,
      fork.service,
      {
        source: 'cluster',
        rate: 'unlimited',
        messages: KMEANS_PIPELINE_MESSAGES,
        producers: KMEANS_PIPELINE_PRODUCERS
      },
      'MASS cluster'
    );
    const kmeans = await drain(
      fork.pilot,
      fork.service,
      fork.brokerProcesses,
      filled.topic,
      'kmeans',
      1,
      'MASA kmeans'
    );
    const count = await drain(
      fork.pilot,
      fork.service,
      fork.brokerProcesses,
      filled.topic,
      'count',
      1,
      'MASA count'
    );
    const profile = await profileOurConsumer(
      fork,
      filled.topic,
      { kind: 'kmeans' },
      KMEANS_PIPELINE_MESSAGES
    );
    await deleteTopics(fork.admin, [filled.topic, `${filled.topic}.metrics`]);
    return {
      cpu: ONE_CORE,
      messages: KMEANS_INPROCESS_MESSAGES,
      repeats: KMEANS_REPEATS,
      messageBytes: ours.messageBytes,
      ours: Object.fromEntries(Object.entries(ours.perSecond).map(([k, v]) => [k, v.median])),
      peer: {
        python: peer.python,
        numpy: peer.numpy,
        affinity: peer.affinity,
        threadVariables: peer.threadVariables,
        perSecond: Object.fromEntries(
          Object.entries(peer.peers).map(([name, entry]) => [name, entry.perSecond])
        ),
        maxCenterDifference: agreement
      },
      pipeline: {
        messages: KMEANS_PIPELINE_MESSAGES,
        producers: KMEANS_PIPELINE_PRODUCERS,
        profile,
        producedPerSecond: filled.steady.perSecond,
        kmeansPerSecond: kmeans.steady.perSecond,
        countPerSecond: count.steady.perSecond,
        kmeansWindows: kmeans.steady.interior,
        countWindows: count.steady.interior,
        kmeansCpu: kmeans.cpu,
        countCpu: count.cpu,
        kmeansSeries: kmeans.steady.series,
        countSeries: count.steady.series
      }
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// ---- Row 3: streaming GridRec vs offline recon ----

async function gridrecRow(fork: Fork) {
  const tooth = await loadSinograms(toothPath);
  const { sinograms, angles } = tooth;
  const block = new Float32Array(sinograms.data.length * TOOTH_TILES);
  for (let t = 0; t < TOOTH_TILES; t++) block.set(sinograms.data, t * sinograms.data.length);
  const stack = { ...sinograms, data: block, slices: sinograms.slices * TOOTH_TILES };
  const options = { algorithm: 'gridrec' as const, center: TOOTH_CENTER };

  // Offline, one thread: what `recon` does (GridRec reconstructs slices two at a time). And one
  // sinogram at a time through the streaming reconstructor: what a consumer does per message.
  const reconstructor = await createReconstructor(angles, sinograms.pixels, options);
  const length = sinograms.angles * sinograms.pixels;
  const offlinePass = () => reconstruct(stack, angles, { ...options, threads: 1 });
  const singlePass = async () => {
    for (let s = 0; s < stack.slices; s++)
      reconstructor.reconstruct(block.subarray(s * length, (s + 1) * length), TOOTH_CENTER);
  };
  /** Median slices/s of the timed passes, after an untimed one. */
  const timed = async (pass: () => Promise<unknown>) => {
    await pass();
    const rates: number[] = [];
    for (let r = 0; r < GRIDREC_REPEATS; r++) {
      const start = performance.now();
      await pass();
      rates.push(stack.slices / ((performance.now() - start) / 1000));
    }
    return median(rates);
  };
  // Measured before and after the streaming run (the machine is shared): their mean is the peer.
  const offline = [await timed(offlinePass)];
  const single = [await timed(singlePass)];
  console.log(
    `gridrec offline ${offline[0]!.toFixed(1)} slices/s, one at a time ${single[0]!.toFixed(1)} slices/s`
  );

  const filled = await fill(
    fork.pilot,
    fork.service,
    {
      source: { kind: 'lightsource', file: toothPath, rotationCenter: TOOTH_CENTER },
      rate: 'unlimited',
      messages: GRIDREC_MESSAGES,
      producers: 1
    },
    'MASS lightsource'
  );
  const streaming = await drain(
    fork.pilot,
    fork.service,
    fork.brokerProcesses,
    filled.topic,
    { kind: 'gridrec', center: TOOTH_CENTER },
    1,
    'MASA gridrec'
  );
  const count = await drain(
    fork.pilot,
    fork.service,
    fork.brokerProcesses,
    filled.topic,
    'count',
    1,
    'MASA count'
  );
  const profile = await profileOurConsumer(
    fork,
    filled.topic,
    { kind: 'gridrec', center: TOOTH_CENTER },
    GRIDREC_MESSAGES
  );
  await deleteTopics(fork.admin, [filled.topic, `${filled.topic}.metrics`]);
  offline.push(await timed(offlinePass));
  single.push(await timed(singlePass));
  console.log(
    `gridrec after: offline ${offline[1]!.toFixed(1)} slices/s, one at a time ${single[1]!.toFixed(1)} slices/s`
  );
  return {
    profile,
    slices: stack.slices,
    angles: sinograms.angles,
    pixels: sinograms.pixels,
    center: TOOTH_CENTER,
    repeats: GRIDREC_REPEATS,
    offlinePerSecond: mean(offline),
    singlePerSecond: mean(single),
    offlineBeforeAfter: offline,
    singleBeforeAfter: single,
    messages: GRIDREC_MESSAGES,
    messageBytes: sinograms.angles * sinograms.pixels * 4,
    producedPerSecond: filled.steady.perSecond,
    streamingPerSecond: streaming.steady.perSecond,
    countPerSecond: count.steady.perSecond,
    streamingWindows: streaming.steady.interior,
    countWindows: count.steady.interior,
    streamingCpu: streaming.cpu,
    countCpu: count.cpu,
    streamingSeries: streaming.steady.series
  };
}

// ---- Row 4: end-to-end latency at 100 msg/s ----

/** Samples of a histogram above `ms` (whole buckets: one straddling `ms` counts as below). */
function countAbove(histogram: LatencyHistogram, ms: number): number {
  const json = histogram.toJSON();
  const sub = json.subBucketsPerOctave;
  let count = 0;
  for (const [index, n] of json.buckets) {
    if (index === 0) continue;
    const low =
      json.lowestMs * 2 ** Math.floor((index - 1) / sub) * (1 + ((index - 1) % sub) / sub);
    if (low >= ms) count += n;
  }
  return count;
}

/** Resolves once the run's first consumer has reported and its group is Stable with it. */
async function consumerReady(sink: MiniAppRun, admin: Admin, groupId: string): Promise<number> {
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the MASA consumer did not start')), 120_000);
    const check = (view: ReturnType<MiniAppRun['view']>) => {
      if (view.consumers[0]?.state === 'running') {
        clearTimeout(timer);
        sink.off('update', check);
        resolve();
      }
    };
    sink.on('update', check);
  });
  // 'running' comes with the consumer's first report, which may precede its group join.
  for (;;) {
    const { groups } = await admin.describeGroups([groupId]);
    const group = groups[0];
    if (group?.state === 'Stable' && group.members.length === 1) break;
    if (performance.now() - started > 120_000) throw new Error(`group ${groupId} never Stable`);
    await new Promise(resolve => setTimeout(resolve, 200));
  }
  return (performance.now() - started) / 1000;
}

async function latencyRow(fork: Fork) {
  const topic = `bench-latency-${suffix()}`;
  const groupId = `bench-latency-${suffix()}`;
  const sink = await masa(
    fork.pilot,
    { topic, processor: 'count', consumers: 1, fromBeginning: true, until: 'drained', groupId },
    fork.service
  );
  // The consumers' reports, each with the latency histogram of the messages since its last one.
  const reports: { t: number; histogram: LatencyHistogram }[] = [];
  const follower = fork.kafka.consumer({ groupId: `bench-latency-reports-${suffix()}` });
  await follower.connect();
  await follower.subscribe({ topic: `${topic}.metrics`, fromBeginning: true });
  await follower.run({
    eachMessage: async ({ message }) => {
      const report = parseReport(message.value);
      if (report?.role !== 'consumer' || report.runId !== sink.runId) return;
      if (report.latency !== undefined && report.latency.count > 0)
        reports.push({ t: report.t, histogram: LatencyHistogram.fromJSON(report.latency) });
    }
  });
  let joinSeconds: number;
  let summary: RunSummary;
  let samples: CpuSample[];
  try {
    joinSeconds = await consumerReady(sink, fork.admin, groupId);
    ({ samples } = await watched(
      {
        producer: unitsOn(topic, 'producer'),
        consumer: unitsOn(topic, 'consumer'),
        brokers: fork.brokerProcesses
      },
      async () => {
        const source = await mass(
          fork.pilot,
          {
            source: { kind: 'synthetic-bytes', size: LATENCY_BYTES },
            rate: LATENCY_RATE,
            duration: LATENCY_SECONDS,
            topic,
            producers: 1
          },
          fork.service
        );
        await recordOf(await source.done(), 'MASS latency');
      }
    ));
    summary = await sink.done();
    await recordOf(summary, 'MASA latency');
    // The final report went out before the run ended; give the follower a moment to read it.
    await new Promise(resolve => setTimeout(resolve, 1500));
  } finally {
    await follower.disconnect();
    await deleteTopics(fork.admin, [topic, `${topic}.metrics`]);
  }
  if (summary.latencyMs === null) throw new Error('the latency run recorded no latency');
  reports.sort((a, b) => a.t - b.t);
  const firstT = reports[0]?.t ?? 0;
  const steady = new LatencyHistogram();
  for (const report of reports)
    if (report.t >= firstT + LATENCY_DISCARD_SECONDS * 1000) steady.merge(report.histogram);
  const steadySummary = steady.summary();
  const whole = new LatencyHistogram();
  for (const report of reports) whole.merge(report.histogram);
  // Each report's messages (about 1 s of them), and how busy the machine was meanwhile: is the
  // tail spread out or a few bad seconds, and were they seconds when the cores were taken?
  const windows = reports.map((report, index) => {
    const cpu = coresBetween(samples, reports[index - 1]?.t ?? report.t - 1000, report.t);
    return {
      seconds: (report.t - firstT) / 1000,
      count: report.histogram.count,
      over: countAbove(report.histogram, LATENCY_P99_TARGET_MS),
      p50Ms: report.histogram.percentile(50),
      p99Ms: report.histogram.percentile(99),
      maxMs: report.histogram.percentile(100),
      machineCores: cpu.machineCores,
      producerCores: cpu.groups.producer ?? null,
      consumerCores: cpu.groups.consumer ?? null,
      brokerCores: cpu.groups.brokers ?? null
    };
  });

  // The peer: Kafka's own end-to-end latency tool on the same broker (1 partition, as it needs).
  const peerTopic = `bench-e2e-${suffix()}`;
  await fork.admin.createTopics({ topics: [{ topic: peerTopic, numPartitions: 1 }] });
  await leadersElected(fork.admin, peerTopic, 1);
  let lines: string[];
  let peerCpu: CpuUse;
  try {
    ({ result: lines, cpu: peerCpu } = await watched(
      {
        tool: command => command.includes('EndToEndLatency') && command.includes(peerTopic),
        brokers: fork.brokerProcesses
      },
      () =>
        runCommand([
          ...fork.tools.endToEndLatency,
          '--bootstrap-server',
          fork.brokers.join(','),
          '--topic',
          peerTopic,
          '--num-records',
          String(E2E_RECORDS),
          '--producer-acks',
          'all',
          '--record-size',
          String(LATENCY_BYTES)
        ])
    ));
  } finally {
    await deleteTopics(fork.admin, [peerTopic]);
  }
  const average = lines.map(line => /^Avg latency: ([\d.]+) ms/.exec(line)).find(Boolean);
  const percentiles = lines
    .map(line => /^Percentiles: 50th = (\d+), 99th = (\d+), 99\.9th = (\d+)/.exec(line))
    .find(Boolean);
  if (!average || !percentiles)
    throw new Error(`no latency figures in the tool's output:\n${lines.slice(-10).join('\n')}`);
  const result = {
    rate: LATENCY_RATE,
    seconds: LATENCY_SECONDS,
    bytes: LATENCY_BYTES,
    discardSeconds: LATENCY_DISCARD_SECONDS,
    joinSeconds,
    processed: summary.processed,
    lost: summary.lost,
    summary: summary.latencyMs,
    whole: whole.summary() ?? null,
    steady: steadySummary ?? null,
    windows,
    peer: {
      records: E2E_RECORDS,
      averageMs: Number(average[1]),
      p50Ms: Number(percentiles[1]),
      p99Ms: Number(percentiles[2]),
      p999Ms: Number(percentiles[3]),
      cpu: peerCpu
    }
  };
  console.log(`latency: ${JSON.stringify(result)}`);
  return result;
}

// ---- Row 5: scaling over testbed nodes ----

async function scalingRow() {
  const sshKeys = ['PILOT_STREAMING_SSH_KNOWN_HOSTS', 'PILOT_STREAMING_SSH_IDENTITY'];
  const saved = Object.fromEntries(sshKeys.map(key => [key, process.env[key]]));
  const testbedStart = performance.now();
  const testbed = await Testbed.start({ nodes: SCALING_NODES });
  let service: PilotComputeService | undefined;
  let pilot: Pilot | undefined;
  const dir = await mkdtemp(join(tmpdir(), 'miniapps-bench-scaling-'));
  try {
    const { ssh } = testbed.info;
    process.env.PILOT_STREAMING_SSH_KNOWN_HOSTS = ssh.knownHostsPath;
    process.env.PILOT_STREAMING_SSH_IDENTITY = ssh.identityPath;
    const remoteHome = await mkdtemp(join(testbed.info.dir, 'home-'));
    service = new PilotComputeService({
      home: join(dir, 'home'),
      cacheDir: testCacheDir(),
      // The testbed's nodes share this machine's cache: Kafka is there already.
      remote: { home: remoteHome, cacheDir: testCacheDir() }
    });
    const resource = `slurm+ssh://${ssh.user}@${ssh.host}:${ssh.port}`;
    const pilotStart = performance.now();
    pilot = await service.createPilot({
      type: 'kafka',
      resource,
      numberOfNodes: SCALING_NODES,
      walltimeMinutes: 30
    });
    await pilot.wait('Running', { timeoutMs: 300_000 });
    const startSeconds = (performance.now() - pilotStart) / 1000;
    console.log(
      `scaling: ${SCALING_NODES}-node slurm+ssh pilot Running in ${startSeconds.toFixed(1)} s`
    );
    const filled = await fill(
      pilot,
      service,
      {
        source: 'cluster',
        rate: 'unlimited',
        messages: SCALING_MESSAGES,
        producers: SCALING_NODES,
        partitions: SCALING_PARTITIONS
      },
      'MASS cluster (testbed)'
    );
    const steps = [];
    for (let consumers = 1; consumers <= SCALING_NODES; consumers++) {
      const drained = await drain(
        pilot,
        service,
        brokersOf(pilot.record.workDir!),
        filled.topic,
        'kmeans',
        consumers,
        `MASA kmeans × ${consumers} (testbed)`
      );
      steps.push({
        consumers,
        perSecond: drained.steady.perSecond,
        interior: drained.steady.interior,
        nodes: drained.nodes,
        series: drained.steady.series,
        cpu: drained.cpu,
        load: drained.load
      });
    }
    return {
      resource: 'slurm+ssh (testbed)',
      nodes: SCALING_NODES,
      testbedSeconds: (pilotStart - testbedStart) / 1000,
      pilotStartSeconds: startSeconds,
      messages: SCALING_MESSAGES,
      partitions: SCALING_PARTITIONS,
      producers: SCALING_NODES,
      producerNodes: filled.nodes,
      producedPerSecond: filled.steady.perSecond,
      steps
    };
  } finally {
    const problems: string[] = [];
    if (
      pilot !== undefined &&
      !isTerminal((await pilot.refresh().catch(() => pilot!.record)).state)
    )
      await pilot.cancel().catch((error: Error) => problems.push(error.message));
    await service?.close().catch((error: Error) => problems.push(error.message));
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await testbed.stop().catch((error: Error) => problems.push(error.message));
    await rm(dir, { recursive: true, force: true });
    if (problems.length > 0) console.error(`scaling clean-up: ${problems.join('; ')}`);
  }
}

// ---- The benchmark ----

const rows = selectedRows();
const forkRows = rows.filter(row => row !== 'scaling');

describe('Streaming Mini-Apps: MASS, KMeans, GridRec, latency, scaling', () => {
  const results: {
    date: string;
    machine: Record<string, unknown>;
    rows: Record<string, unknown>;
  } = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      loadAverage: { start: loadavg()[0] }
    },
    rows: {}
  };
  let work: string;
  let fork: Fork | undefined;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'miniapps-bench-'));
    if (forkRows.length === 0) return;
    if (!existsSync(join(lib, 'dist', 'miniapps', 'unit-main.js')))
      throw new Error('lib/dist is missing: build the library first (npm run build -w lib)');
    const service = new PilotComputeService({ home: join(work, 'home'), cacheDir: testCacheDir() });
    const pilot = await service.createPilot({ type: 'kafka', resource: 'fork://localhost' });
    await pilot.wait('Running', { timeoutMs: 170_000 });
    const record = await pilot.refresh();
    const kafka = await pilot.getContext();
    const admin = kafka.admin();
    await admin.connect();
    fork = {
      service,
      pilot,
      brokerProcesses: brokersOf(record.workDir!),
      kafka,
      admin,
      brokers: record.details!.bootstrapServers,
      work,
      tools: await kafkaTools(testCacheDir(), work)
    };
    results.machine.kafka = record.details!.kafkaVersion;
  });

  afterAll(async () => {
    results.machine.loadAverage = { ...(results.machine.loadAverage as object), end: loadavg()[0] };
    const problems: string[] = [];
    const attempt = async (step: () => Promise<unknown>) =>
      step().catch((error: Error) => problems.push(error.message));
    try {
      if (Object.keys(results.rows).length > 0) await writeReport(results, work);
    } finally {
      await attempt(async () => fork?.admin.disconnect());
      await attempt(async () => fork?.pilot.cancel());
      await attempt(async () => fork?.service.close());
      await attempt(async () => stopForkPilots(join(work, 'home')));
      await attempt(() => rm(work, { recursive: true, force: true }));
    }
    if (problems.length > 0) throw new Error(`benchmark clean-up: ${problems.join('; ')}`);
  });

  const measure = (row: Row, body: () => Promise<unknown>) =>
    it.skipIf(!rows.includes(row))(row, async () => {
      const load = loadavg()[0];
      const started = performance.now();
      try {
        const figures = await body();
        results.rows[row] = {
          status: 'measured',
          seconds: (performance.now() - started) / 1000,
          load: { start: load, end: loadavg()[0] },
          ...(figures as object)
        };
      } catch (error) {
        results.rows[row] = { status: 'failed', error: (error as Error).message };
        throw error;
      }
    });

  measure('producer', () => producerRow(fork!));
  measure('kmeans', () => kmeansRow(fork!));
  measure('gridrec', () => gridrecRow(fork!));
  measure('latency', () => latencyRow(fork!));
  measure('scaling', () => scalingRow());
});

/** Stops what a failed run may have left of the fork:// pilot. */
async function stopForkPilots(home: string): Promise<void> {
  if (!existsSync(home)) return;
  const adaptor = new ForkAdaptor();
  for (const record of await new PilotRegistry(home).list())
    if (record.job !== undefined) await adaptor.terminate(record.job, 2_000);
}

async function writeReport(results: object, work: string): Promise<void> {
  const docs = join(repo, 'docs', 'benchmarks');
  await mkdir(docs, { recursive: true });
  const json = join(work, 'results.json');
  await writeFile(json, JSON.stringify(results, null, 2));
  // Kept for re-running report.py alone: MINIAPPS_BENCH_RESULTS=path.json.
  const keep = process.env.MINIAPPS_BENCH_RESULTS;
  if (keep !== undefined && keep !== '') await writeFile(keep, JSON.stringify(results, null, 2));
  const markdown = join(docs, 'miniapps.md');
  await run(python, [join(here, 'report.py'), json, markdown, join(docs, 'miniapps.png')]);
  const options = (await prettier.resolveConfig(markdown)) ?? {};
  const formatted = await prettier.format(await readFile(markdown, 'utf8'), {
    ...options,
    parser: 'markdown'
  });
  await writeFile(markdown, formatted);
  console.log(formatted);
}
