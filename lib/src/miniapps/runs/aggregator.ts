/**
 * The coordinator's view of a run, built from the units' reports alone: totals, rates per
 * window, latency, loss and duplicates across consumers, the newest slice or KMeans model. Pure
 * (no I/O), so that the widget's numbers and the run record are the same computation.
 */
import type {
  MiniAppRole,
  MiniAppRunSample,
  MiniAppRunState,
  MiniAppRunView,
  MiniAppUnitView
} from '../../protocol/miniapps.js';
import { LatencyHistogram } from '../metrics/latency.js';
import { RateSeries } from '../metrics/rates.js';
import { RUN_RECORD_VERSION, type RunError, type RunRecord } from '../metrics/run-record.js';
import { SequenceTracker } from '../messages/sequence-tracker.js';
import type { UnitReport } from './report.js';

const WINDOW_MS = 1000;
const MAX_ERRORS_SHOWN = 20;

export interface RunInfo {
  readonly runId: string;
  readonly pilotId: string;
  readonly topic: string;
  readonly role: MiniAppRole;
  readonly kind: string;
  readonly startedAtMs: number;
  /** The options as given, for the record. */
  readonly description: Readonly<Record<string, unknown>>;
  /** Samples the view's history keeps (default 300). */
  readonly historyLimit?: number;
}

interface UnitState {
  latest: UnitReport;
  previous?: UnitReport;
  windows: Map<number, { messages: number; bytes: number }>;
  /** The unit's newest errors (bounded), shown while the unit belongs to the run. */
  errors: RunError[];
  /** Points of the unit's previous KMeans view, for its points per second. */
  kmeansPoints?: { points: number; t: number };
}

export class RunAggregator {
  private readonly producers = new Map<string, UnitState>();
  private readonly consumers = new Map<string, UnitState>();
  private readonly tracker = new SequenceTracker();
  private readonly latency = new LatencyHistogram();
  /** Latency of each window, for the p50/p99 series. */
  private readonly windowLatency = new Map<number, LatencyHistogram>();
  /** Runs whose messages the consumers saw (a MASA run counts their producers as its own). */
  private readonly seenRuns = new Set<string>();
  private crossDuplicates = 0;
  private slice: MiniAppRunView['slice'];
  private kmeans: MiniAppRunView['kmeans'];

  constructor(readonly info: RunInfo) {}

  /** Takes one report; reports of other runs are kept only as far as they may matter. */
  add(report: UnitReport): void {
    const own = report.runId === this.info.runId;
    if (report.role === 'producer') {
      // A MASA run learns which producers feed it from the messages; keep them all until then.
      if (!own && this.info.role === 'mass') return;
      this.keep(this.producers, `${report.runId}/${report.unit}`, report);
    } else if (own && this.keep(this.consumers, report.unit, report)) {
      this.absorbConsumer(report);
    }
  }

  /** Every unit of `expected` producers and consumers has sent its final report. */
  allEnded(expectedProducers: number, expectedConsumers: number): boolean {
    const ended = (units: Map<string, UnitState>) =>
      [...units.values()].filter(unit => unit.latest.state !== 'running').length;
    return (
      ended(this.ownProducers()) >= expectedProducers && ended(this.consumers) >= expectedConsumers
    );
  }

  /** A unit of the run reported a failure: the first such unit and its newest error. */
  failure(): string | undefined {
    for (const unit of this.runUnits()) {
      if (unit.latest.state !== 'failed') continue;
      const error = unit.errors[unit.errors.length - 1];
      return `${unit.latest.unit} on ${unit.latest.node} failed${error ? `: ${error.message}` : ''}`;
    }
    return undefined;
  }

  /** The run's own units and the producers feeding it (MASA) — not other runs' producers. */
  private runUnits(): UnitState[] {
    const producers = this.info.role === 'mass' ? this.ownProducers() : this.feedingProducers();
    return [...producers.values(), ...this.consumers.values()];
  }

  /** The newest errors of the run's units, oldest first, and how many there were in all. */
  private runErrors(): { errors: RunError[]; count: number } {
    const units = this.runUnits();
    const errors = units
      .flatMap(unit => unit.errors)
      .sort((a, b) => a.at.localeCompare(b.at))
      .slice(-MAX_ERRORS_SHOWN);
    return { errors, count: units.reduce((n, unit) => n + unit.latest.errors, 0) };
  }

  /**
   * MASA: every producer feeding the run has ended and each of its messages was processed (or
   * `lostGraceElapsed` says to stop waiting for the missing ones).
   */
  drained(): boolean {
    const feeding = [...this.feedingProducers().values()];
    if (feeding.length === 0) return false;
    if (feeding.some(unit => unit.latest.state === 'running')) return false;
    return this.lostAndDuplicated().lost === 0;
  }

  totals(): MiniAppRunView['totals'] {
    const sum = (units: Map<string, UnitState>, key: 'messages' | 'bytes') =>
      [...units.values()].reduce((total, unit) => total + unit.latest[key], 0);
    const producers = this.info.role === 'mass' ? this.ownProducers() : this.feedingProducers();
    const { lost, duplicated } = this.lostAndDuplicated();
    return {
      produced: sum(producers, 'messages'),
      producedBytes: sum(producers, 'bytes'),
      processed: sum(this.consumers, 'messages'),
      processedBytes: sum(this.consumers, 'bytes'),
      lost,
      duplicated,
      errors: this.runErrors().count
    };
  }

  view(state: MiniAppRunState, nowMs: number, reason?: string): MiniAppRunView {
    const summary = this.latency.summary();
    const producers = this.info.role === 'mass' ? this.ownProducers() : this.feedingProducers();
    return {
      runId: this.info.runId,
      pilotId: this.info.pilotId,
      topic: this.info.topic,
      role: this.info.role,
      kind: this.info.kind,
      state,
      startedAt: new Date(this.info.startedAtMs).toISOString(),
      updatedAt: new Date(nowMs).toISOString(),
      totals: this.totals(),
      latency:
        summary === undefined
          ? null
          : { p50Ms: summary.p50Ms, p95Ms: summary.p95Ms, p99Ms: summary.p99Ms },
      history: this.history(),
      producers: [...producers.values()].map(unitView),
      consumers: [...this.consumers.values()].map(unitView),
      ...(this.slice !== undefined ? { slice: this.slice } : {}),
      ...(this.kmeans !== undefined ? { kmeans: this.kmeans } : {}),
      errors: this.runErrors().errors.map(e => ({ ...e })),
      ...(reason !== undefined ? { reason } : {})
    };
  }

  record(endedAtMs: number): RunRecord {
    const producers = this.info.role === 'mass' ? this.ownProducers() : this.feedingProducers();
    const { lost, duplicated } = this.lostAndDuplicated();
    const latency = this.latency.summary() ?? null;
    return {
      version: RUN_RECORD_VERSION,
      id: this.info.runId,
      description: this.info.description,
      startedAt: new Date(this.info.startedAtMs).toISOString(),
      endedAt: new Date(endedAtMs).toISOString(),
      producers: [...producers.values()].map(({ latest }) => ({
        id: latest.unit,
        node: latest.node,
        messages: latest.messages,
        bytes: latest.bytes,
        behind: latest.behind,
        errors: latest.errors
      })),
      consumers: [...this.consumers.values()].map(({ latest }) => ({
        id: latest.unit,
        node: latest.node,
        messages: latest.messages,
        bytes: latest.bytes,
        errors: latest.errors
      })),
      lost,
      duplicated,
      latency,
      ...(latency !== null ? { latencyHistogram: this.latency.toJSON() } : {}),
      rates: this.rateSeries().windows(),
      errors: this.runErrors().errors
    };
  }

  /** Produced and processed counts per 1 s window since the start. */
  rateSeries(): RateSeries {
    const startMs = Math.floor(this.info.startedAtMs / WINDOW_MS) * WINDOW_MS;
    const series = new RateSeries({ startMs, windowMs: WINDOW_MS });
    const producers = this.info.role === 'mass' ? this.ownProducers() : this.feedingProducers();
    for (const unit of producers.values())
      for (const [at, w] of unit.windows) series.addProduced(at, w.messages, w.bytes);
    for (const unit of this.consumers.values())
      for (const [at, w] of unit.windows) series.addProcessed(at, w.messages, w.bytes);
    return series;
  }

  /** Takes the unit's report if it is newer than the one kept; false for an old or repeated one. */
  private keep(units: Map<string, UnitState>, key: string, report: UnitReport): boolean {
    let unit = units.get(key);
    if (unit === undefined) {
      unit = { latest: report, windows: new Map(), errors: [] };
      units.set(key, unit);
    } else {
      // A unit's reports arrive in order on one partition; one seen again (a redelivery) or an
      // older one changes nothing, or its deltas would count twice.
      const { latest } = unit;
      const same = report.t === latest.t && report.state === latest.state;
      if (report.t < latest.t || (same && report.messages === latest.messages)) return false;
      unit.previous = latest;
      unit.latest = report;
    }
    for (const w of report.windows)
      unit.windows.set(w.startMs, { messages: w.messages, bytes: w.bytes });
    for (const error of report.newErrors) {
      unit.errors.push({
        at: error.at,
        source: `${report.unit}@${report.node}`,
        message: error.message
      });
      if (unit.errors.length > MAX_ERRORS_SHOWN) unit.errors.shift();
    }
    return true;
  }

  private absorbConsumer(report: UnitReport): void {
    if (report.latency !== undefined) {
      const histogram = LatencyHistogram.fromJSON(report.latency, 'report.latency');
      this.latency.merge(histogram);
      const at = Math.floor(report.t / WINDOW_MS) * WINDOW_MS;
      let windowed = this.windowLatency.get(at);
      if (windowed === undefined) {
        windowed = new LatencyHistogram();
        this.windowLatency.set(at, windowed);
      }
      windowed.merge(histogram);
    }
    for (const { runId, producerId, ranges } of report.sequences ?? []) {
      this.seenRuns.add(runId);
      for (const [start, end] of ranges)
        for (let sequence = start; sequence < end; sequence++)
          if (this.tracker.record(runId, producerId, sequence) === 'duplicate')
            this.crossDuplicates++;
    }
    const view = report.view;
    if (view?.slice !== undefined) this.slice = view.slice;
    if (view?.kmeans !== undefined) {
      // The rate of the consumer whose model is shown, from its own previous model.
      const unit = this.consumers.get(report.unit)!;
      const before = unit.kmeansPoints;
      const seconds = before !== undefined ? (report.t - before.t) / 1000 : 0;
      this.kmeans = {
        ...view.kmeans,
        pointsPerSecond:
          seconds > 0 ? Math.max(0, view.kmeans.points - before!.points) / seconds : 0
      };
      unit.kmeansPoints = { points: view.kmeans.points, t: report.t };
    }
  }

  private ownProducers(): Map<string, UnitState> {
    const own = new Map<string, UnitState>();
    for (const [key, unit] of this.producers)
      if (unit.latest.runId === this.info.runId) own.set(key, unit);
    return own;
  }

  private feedingProducers(): Map<string, UnitState> {
    const feeding = new Map<string, UnitState>();
    for (const [key, unit] of this.producers)
      if (this.seenRuns.has(unit.latest.runId)) feeding.set(key, unit);
    return feeding;
  }

  /** Lost: what ended producers sent and no consumer received, plus gaps of running ones. */
  private lostAndDuplicated(): { lost: number; duplicated: number } {
    const finalCounts = new Map<string, number>();
    for (const unit of this.feedingProducers().values()) {
      const { latest } = unit;
      if (latest.state !== 'running' && latest.producerId !== undefined)
        finalCounts.set(`${latest.runId}/${latest.producerId}`, latest.messages);
    }
    let lost = 0;
    const seen = new Set<string>();
    for (const producer of this.tracker.summary().producers) {
      const key = `${producer.runId}/${producer.producerId}`;
      seen.add(key);
      const sent = finalCounts.get(key);
      lost += sent !== undefined ? Math.max(0, sent - producer.received) : producer.missing;
    }
    // An ended producer none of whose messages arrived.
    for (const [key, sent] of finalCounts) if (!seen.has(key)) lost += sent;
    const local = [...this.consumers.values()].reduce((n, unit) => n + unit.latest.duplicates, 0);
    return { lost, duplicated: local + this.crossDuplicates };
  }

  private history(): MiniAppRunSample[] {
    const limit = this.info.historyLimit ?? 300;
    const windows = this.rateSeries().windows().slice(-limit);
    return windows.map(w => {
      const latency = this.windowLatency.get(w.startMs);
      const seconds = w.durationMs / 1000;
      return {
        t: w.startMs + w.durationMs,
        producedPerSecond: w.producedMessages / seconds,
        processedPerSecond: w.processedMessages / seconds,
        p50Ms: latency !== undefined ? latency.percentile(50) : null,
        p99Ms: latency !== undefined ? latency.percentile(99) : null
      };
    });
  }
}

function unitView({ latest, previous }: UnitState): MiniAppUnitView {
  const seconds = previous !== undefined ? (latest.t - previous.t) / 1000 : 0;
  return {
    id: latest.unit,
    node: latest.node,
    messages: latest.messages,
    bytes: latest.bytes,
    messagesPerSecond:
      seconds > 0 ? Math.max(0, latest.messages - previous!.messages) / seconds : 0,
    errors: latest.errors,
    state: latest.state === 'running' ? 'running' : latest.state
  };
}
