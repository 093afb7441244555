/**
 * A MASS or MASA run on a pilot, seen from the process that started it (kernel, CLI): it makes
 * the topics, submits one executable compute unit per producer or consumer, follows their
 * reports on the metrics topic, decides when the run is over, stops the units and writes the
 * run record. The units do the work; nothing here touches a data message.
 */
import { EventEmitter } from 'node:events';
import { posix } from 'node:path';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { ComputeUnit, ProcessResult } from '../../pilot/compute-unit.js';
import {
  isTerminal,
  type ExecutableUnitInput,
  type PilotRecord,
  type UnitRecord
} from '../../protocol/index.js';
import type { MiniAppRole, MiniAppRunState, MiniAppRunView } from '../../protocol/miniapps.js';
import { MiniAppInputError } from '../errors.js';
import { newRunId } from '../messages/format.js';
import type { RateWindow } from '../metrics/rates.js';
import { writeRunRecord, type RunRecordPaths } from '../metrics/run-record.js';
import { RunAggregator } from './aggregator.js';
import type { ParsedMasa, ParsedMass } from './options.js';
import { parseReport } from './report.js';
import { prepareRunTopics } from './topics.js';
import type { ConsumerSpec, ProducerSpec, UnitSpec } from './spec.js';
import { TLS_DIR } from '../../frameworks/kafka/tls.js';

/** How long a stopped run waits for its units' final reports. */
const FINAL_REPORT_WAIT_MS = 15_000;
/** How often the units' own records are read (a unit that dies before reporting). */
const UNIT_CHECK_MS = 2_000;

/** What a run needs of a pilot and its service. */
export interface RunPilot {
  readonly id: string;
  refresh(): Promise<PilotRecord>;
  getContext(): Promise<Kafka>;
  submit(executable: ExecutableUnitInput): Promise<ComputeUnit<ProcessResult>>;
  listUnits(): Promise<UnitRecord[]>;
}

export interface RunPlace {
  /** Command that runs the unit entry on the pilot's nodes, e.g. [node, …/unit-main.js]. */
  readonly unitCommand: readonly string[];
  /** Directory for the run record. */
  readonly recordDirectory: string;
  /** Whether files named in options are on this machine too (a local pre-flight can open them). */
  readonly sharesFiles: boolean;
}

/** What `--json` prints and a finished run resolves with. */
export interface RunSummary {
  runId: string;
  role: MiniAppRole;
  kind: string;
  topic: string;
  state: MiniAppRunState;
  reason?: string;
  produced: number;
  processed: number;
  lost: number;
  duplicated: number;
  errors: number;
  /** The run's whole life, from its start to its record. */
  seconds: number;
  /** Rates over the seconds that had traffic (first to last 1 s window with any). */
  producedPerSecond: number;
  processedPerSecond: number;
  producedMBPerSecond: number;
  processedMBPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number } | null;
  record: RunRecordPaths | null;
}

type Plan =
  | { role: 'mass'; options: ParsedMass; description: Record<string, unknown> }
  | { role: 'masa'; options: ParsedMasa; description: Record<string, unknown> };

export class MiniAppRun extends EventEmitter<{ update: [MiniAppRunView] }> {
  readonly runId: string;
  readonly topic: string;
  readonly role: MiniAppRole;
  private readonly aggregator: RunAggregator;
  private units: ComputeUnit<ProcessResult>[] = [];
  /** The brokers the units connect to (as the pilot's nodes reach them). */
  private brokers: string[] = [];
  /** Partitions of the data topic, once known. */
  private partitions = 1;
  private metricsConsumer: Consumer | undefined;
  private state: MiniAppRunState = 'starting';
  private reason: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastUnitCheck = 0;
  private stopping: Promise<RunSummary> | undefined;
  private result: RunSummary | undefined;
  private readonly finished: Promise<RunSummary>;
  private resolveFinished: (summary: RunSummary) => void = () => {};

  private constructor(
    private readonly pilot: RunPilot,
    private readonly place: RunPlace,
    private readonly plan: Plan,
    runId: string,
    topic: string
  ) {
    super();
    this.runId = runId;
    this.topic = topic;
    this.role = plan.role;
    const kind = plan.role === 'mass' ? plan.options.source.kind : plan.options.processor.kind;
    this.aggregator = new RunAggregator({
      runId,
      pilotId: pilot.id,
      topic,
      role: plan.role,
      kind,
      startedAtMs: Date.now(),
      description: plan.description
    });
    this.finished = new Promise(resolve => (this.resolveFinished = resolve));
  }

  static async startMass(
    pilot: RunPilot,
    place: RunPlace,
    options: ParsedMass,
    description: Record<string, unknown>
  ): Promise<MiniAppRun> {
    const runId = newRunId();
    const topic = options.topic ?? `mass-${runId.slice(0, 8)}`;
    const run = new MiniAppRun(pilot, place, { role: 'mass', options, description }, runId, topic);
    await run.start();
    return run;
  }

  static async startMasa(
    pilot: RunPilot,
    place: RunPlace,
    options: ParsedMasa,
    description: Record<string, unknown>
  ): Promise<MiniAppRun> {
    const run = new MiniAppRun(
      pilot,
      place,
      { role: 'masa', options, description },
      newRunId(),
      options.topic
    );
    await run.start();
    return run;
  }

  get metricsTopic(): string {
    return `${this.topic}.metrics`;
  }

  /** The widget's state now. */
  view(): MiniAppRunView {
    return this.aggregator.view(this.state, Date.now(), this.reason);
  }

  /** Resolves when the run has ended (by itself, by failure or by stop()). */
  done(): Promise<RunSummary> {
    return this.finished;
  }

  get ended(): boolean {
    return this.result !== undefined;
  }

  /** Stops every unit (each sends its final report), writes the record and resolves with it. */
  stop(reason?: string): Promise<RunSummary> {
    this.stopping ??= this.finish('ended', reason ?? 'stopped');
    return this.stopping;
  }

  private async start(): Promise<void> {
    const record = await this.pilot.refresh();
    if (record.state !== 'Running' || record.details === undefined)
      throw new MiniAppInputError(
        `pilot ${this.pilot.id} is ${record.state}: a Mini-App runs on a Running Kafka pilot`
      );
    if (record.details.type !== 'kafka')
      throw new MiniAppInputError(
        `pilot ${this.pilot.id} runs ${record.details.type}: a Mini-App runs on a Running Kafka pilot`
      );
    const { plan } = this;
    await this.checkCores(
      record,
      plan.role === 'mass' ? plan.options.producers : plan.options.consumers
    );
    const kafka = await this.pilot.getContext();
    const admin = kafka.admin();
    await admin.connect();
    try {
      await this.prepareTopics(admin);
    } finally {
      await admin.disconnect();
    }
    try {
      await this.followReports(kafka);
      // Made last, so that the producers' shared start time is still ahead when they start.
      const specs = this.unitSpecs(record.details.bootstrapServers, tlsDirOf(record));
      await this.submitUnits(this.pilot, specs);
    } catch (error) {
      await this.finish('failed', `cannot start the units: ${(error as Error).message}`);
      throw error;
    }
    this.timer = setInterval(() => void this.tick(), this.reportInterval());
  }

  /**
   * MASA: adds `count` consumers to the run's group on `pilot`, e.g. a child that extends the
   * run's pilot with more nodes. The group rebalances; each partition stays with one consumer, so
   * more consumers help up to the topic's partition count.
   */
  async addConsumers(pilot: RunPilot, count: number): Promise<void> {
    if (this.plan.role !== 'masa')
      throw new MiniAppInputError('addConsumers: only a MASA run has consumers to add');
    if (this.stopping !== undefined)
      throw new MiniAppInputError(`addConsumers: run ${this.runId} has ended or is stopping`);
    if (!Number.isInteger(count) || count < 1)
      throw new MiniAppInputError(`count = ${JSON.stringify(count)}: expected a whole number ≥ 1`);
    const record = await pilot.refresh();
    if (record.state !== 'Running')
      throw new MiniAppInputError(`pilot ${pilot.id} is ${record.state}: expected Running`);
    await this.checkCores(record, count, pilot);
    const specs = this.unitSpecs(this.brokers, tlsDirOf(record), this.units.length, count);
    await this.submitUnits(pilot, specs);
  }

  /**
   * Units of a run must run at once: refuses a run whose units would queue behind each other or
   * behind the pilot's other units (a unit holding a core until it ends never lets them start).
   */
  private async checkCores(record: PilotRecord, units: number, pilot = this.pilot): Promise<void> {
    const perUnit = this.plan.options.unitCores;
    if (perUnit === 0) return;
    const total = (record.agents ?? []).reduce((sum, agent) => sum + agent.cores, 0);
    const busy = (await pilot.listUnits())
      .filter(unit => !isTerminal(unit.state))
      .reduce((sum, unit) => sum + unit.cores, 0);
    if (units * perUnit > total - busy) {
      const what = this.role === 'mass' ? 'producers' : 'consumers';
      throw new MiniAppInputError(
        `${units} ${what} × ${perUnit} core need ${units * perUnit} cores, but pilot ${pilot.id} has ${total - busy} free of ${total} (its other units hold ${busy}): they would wait for each other. Use unitCores: 0 (--unit-cores 0) to share cores, fewer ${what}, or a bigger pilot`
      );
    }
  }

  private async submitUnits(pilot: RunPilot, specs: UnitSpec[]): Promise<void> {
    const [executable, ...prefix] = this.place.unitCommand;
    for (const spec of specs) {
      this.units.push(
        await pilot.submit({
          executable: executable!,
          arguments: [...prefix, JSON.stringify(spec)],
          name: `${this.role}-${spec.unit}`,
          cores: this.plan.options.unitCores
        })
      );
    }
  }

  private reportInterval(): number {
    return this.plan.options.reportIntervalMs;
  }

  /** The topics, checked and made; the data topic's partition count for the producers. */
  private async prepareTopics(admin: Admin): Promise<void> {
    const { plan } = this;
    this.partitions = await prepareRunTopics(admin, {
      topic: this.topic,
      metricsTopic: this.metricsTopic,
      partitions:
        plan.options.partitions ??
        Math.max(plan.role === 'mass' ? plan.options.producers : plan.options.consumers, 8),
      // A source on files this machine cannot see is checked by the producers themselves.
      ...(plan.role === 'mass' &&
      (plan.options.source.kind !== 'lightsource' || this.place.sharesFiles)
        ? { source: plan.options.source, runId: this.runId }
        : {})
    });
  }

  private unitSpecs(
    brokers: string[],
    tlsDir: string | undefined,
    firstConsumer = 0,
    consumers?: number
  ): UnitSpec[] {
    this.brokers = brokers;
    const common = {
      runId: this.runId,
      topic: this.topic,
      metricsTopic: this.metricsTopic,
      brokers,
      ...(tlsDir !== undefined ? { tlsDir } : {}),
      reportIntervalMs: this.reportInterval()
    };
    const { plan } = this;
    if (plan.role === 'masa') {
      const { options } = plan;
      return Array.from({ length: consumers ?? options.consumers }, (_, i): ConsumerSpec => ({
        ...common,
        role: 'consumer',
        unit: `consumer-${firstConsumer + i}`,
        groupId: options.groupId ?? `masa-${this.runId}`,
        fromBeginning: options.fromBeginning,
        processor: options.processor
      }));
    }
    const { options } = plan;
    const startMs = Date.now() + options.startDelayMs;
    // t = 0 of the rate profile, for whoever compares the rates with it later.
    plan.description.producersStartMs = startMs;
    return Array.from({ length: options.producers }, (_, i): ProducerSpec => {
      // Producer i sends the group's messages i, i + P, i + 2P, … (as the pacer's slots).
      const messages =
        options.messages === undefined
          ? undefined
          : Math.max(0, Math.ceil((options.messages - i) / options.producers));
      return {
        ...common,
        role: 'producer',
        unit: `producer-${i}`,
        producerId: i,
        producers: options.producers,
        index: i,
        source: options.source,
        rate: { ...options.rate },
        ...(messages !== undefined ? { messages } : {}),
        startMs,
        ...(options.duration !== undefined ? { endMs: startMs + options.duration * 1000 } : {}),
        partitions: this.partitions
      };
    });
  }

  private async followReports(kafka: Kafka): Promise<void> {
    const consumer = kafka.consumer({ groupId: `miniapps-coordinator-${this.runId}` });
    await consumer.connect();
    await consumer.subscribe({ topic: this.metricsTopic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const report = parseReport(message.value);
        if (report === undefined) return;
        this.aggregator.add(report);
        if (this.state === 'starting' && report.runId === this.runId) this.state = 'running';
      }
    });
    this.metricsConsumer = consumer;
  }

  private async tick(): Promise<void> {
    if (this.stopping !== undefined) return;
    this.emit('update', this.view());
    const failure = this.aggregator.failure() ?? (await this.unitFailure());
    if (failure !== undefined) {
      void this.finish('failed', failure);
      return;
    }
    const reason = this.endReason();
    if (reason !== undefined) void this.stop(reason);
  }

  /** Why the run is over by its own terms, if it is. */
  private endReason(): string | undefined {
    const { plan, aggregator } = this;
    if (plan.role === 'mass') {
      return aggregator.allEnded(plan.options.producers, 0)
        ? 'every producer has ended'
        : undefined;
    }
    const { options } = plan;
    const totals = aggregator.totals();
    if (options.messages !== undefined && totals.processed >= options.messages)
      return `${options.messages} messages processed`;
    if (
      options.duration !== undefined &&
      Date.now() - aggregator.info.startedAtMs >= options.duration * 1000
    )
      return `${options.duration} s passed`;
    if (options.until === 'drained' && aggregator.drained())
      return 'every producer has ended and all it sent is processed';
    return undefined;
  }

  /** A unit that ended without a final report (it could not start, or was killed). */
  private async unitFailure(): Promise<string | undefined> {
    if (Date.now() - this.lastUnitCheck < UNIT_CHECK_MS) return undefined;
    this.lastUnitCheck = Date.now();
    for (const unit of this.units) {
      const record = await unit.refresh();
      if (record.state !== 'Failed') continue;
      const stderr = (await unit.stderr().catch(() => '')).trim().split('\n').slice(-20).join('\n');
      return `${record.name ?? unit.id} on ${record.node} failed (${record.reason ?? 'no reason given'})${stderr ? `:\n${stderr}` : ''}`;
    }
    return undefined;
  }

  private async finish(state: 'ended' | 'failed', reason: string | undefined): Promise<RunSummary> {
    clearInterval(this.timer);
    this.state = 'stopping';
    this.reason = reason;
    this.emit('update', this.view());
    await Promise.all(this.units.map(unit => unit.cancel().catch(() => {})));
    const deadline = Date.now() + FINAL_REPORT_WAIT_MS;
    const expected = this.units.length;
    const [producers, consumers] = this.role === 'mass' ? [expected, 0] : [0, expected];
    while (Date.now() < deadline && !this.aggregator.allEnded(producers, consumers))
      await new Promise(resolve => setTimeout(resolve, 100));
    await this.metricsConsumer?.disconnect().catch(() => {});
    this.state = state === 'failed' || this.aggregator.failure() !== undefined ? 'failed' : 'ended';
    this.reason ??= this.aggregator.failure();
    const endedAt = Date.now();
    let record: RunRecordPaths | null = null;
    try {
      record = await writeRunRecord(this.place.recordDirectory, this.aggregator.record(endedAt));
    } catch (error) {
      this.reason = `${this.reason ?? ''}${this.reason ? '; ' : ''}the run record could not be written: ${(error as Error).message}`;
    }
    const view = this.view();
    this.emit('update', view);
    this.result = summarize(view, this.aggregator.rateSeries().windows(), endedAt, record);
    this.resolveFinished(this.result);
    return this.result;
  }
}

/** Seconds from the first to the end of the last 1 s window with any of `field` (at least 1 ms). */
/** Where a TLS pilot's units find its client certificate (undefined for a PLAINTEXT pilot). */
function tlsDirOf(record: PilotRecord): string | undefined {
  if (record.details?.security !== 'tls') return undefined;
  if (record.workDir === undefined) {
    throw new Error(`pilot ${record.id} listens TLS but its record names no work directory`);
  }
  return posix.join(record.workDir, TLS_DIR);
}

function activeSeconds(
  windows: readonly RateWindow[],
  field: 'producedMessages' | 'processedMessages'
): number {
  const first = windows.findIndex(w => w[field] > 0);
  if (first < 0) return 1e-3;
  let last = windows.length - 1;
  while (windows[last]![field] === 0) last--;
  return (windows[last]!.startMs + windows[last]!.durationMs - windows[first]!.startMs) / 1000;
}

function summarize(
  view: MiniAppRunView,
  windows: readonly RateWindow[],
  endedAtMs: number,
  record: RunRecordPaths | null
): RunSummary {
  const seconds = Math.max(1e-3, (endedAtMs - Date.parse(view.startedAt)) / 1000);
  const producing = activeSeconds(windows, 'producedMessages');
  const processing = activeSeconds(windows, 'processedMessages');
  const { totals } = view;
  return {
    runId: view.runId,
    role: view.role,
    kind: view.kind,
    topic: view.topic,
    state: view.state,
    ...(view.reason !== undefined ? { reason: view.reason } : {}),
    produced: totals.produced,
    processed: totals.processed,
    lost: totals.lost,
    duplicated: totals.duplicated,
    errors: totals.errors,
    seconds,
    producedPerSecond: totals.produced / producing,
    processedPerSecond: totals.processed / processing,
    producedMBPerSecond: totals.producedBytes / 1e6 / producing,
    processedMBPerSecond: totals.processedBytes / 1e6 / processing,
    latencyMs:
      view.latency === null
        ? null
        : { p50: view.latency.p50Ms, p95: view.latency.p95Ms, p99: view.latency.p99Ms },
    record
  };
}
