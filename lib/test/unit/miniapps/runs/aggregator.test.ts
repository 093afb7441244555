import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { MiniAppRole } from '../../../../src/protocol/miniapps.js';
import { LatencyHistogram } from '../../../../src/miniapps/metrics/latency.js';
import type { LatencyHistogramJSON } from '../../../../src/miniapps/metrics/latency.js';
import { readRunRecord, writeRunRecord } from '../../../../src/miniapps/metrics/run-record.js';
import { RunAggregator } from '../../../../src/miniapps/runs/aggregator.js';
import type { RunInfo } from '../../../../src/miniapps/runs/aggregator.js';
import type { SequenceRanges, UnitReport } from '../../../../src/miniapps/runs/report.js';

const MASS_RUN = '11111111-1111-4111-8111-111111111111';
const MASA_RUN = '22222222-2222-4222-8222-222222222222';
const OTHER_RUN = '33333333-3333-4333-8333-333333333333';
const START = Date.parse('2026-03-01T12:00:00.000Z');

function aggregator(role: MiniAppRole, info: Partial<RunInfo> = {}): RunAggregator {
  return new RunAggregator({
    runId: role === 'mass' ? MASS_RUN : MASA_RUN,
    pilotId: 'pilot-1',
    topic: 'points',
    role,
    kind: role === 'mass' ? 'cluster' : 'kmeans',
    startedAtMs: START,
    description: { role },
    ...info
  });
}

type Fields = Partial<UnitReport>;

function report(fields: Fields & Pick<UnitReport, 'role' | 'unit' | 'runId'>): UnitReport {
  return {
    v: 1,
    node: 'node1',
    pid: 4242,
    t: START + 1000,
    state: 'running',
    messages: 0,
    bytes: 0,
    behind: 0,
    duplicates: 0,
    errors: 0,
    windows: [],
    newErrors: [],
    ...fields
  };
}

/** Producer `id` of the MASS run (or of `fields.runId`). */
function producer(id: number, fields: Fields = {}): UnitReport {
  return report({
    runId: MASS_RUN,
    role: 'producer',
    unit: `producer-${id}`,
    producerId: id,
    ...fields
  });
}

/** Consumer `id` of the MASA run (or of `fields.runId`). */
function consumer(id: number, fields: Fields = {}): UnitReport {
  return report({ runId: MASA_RUN, role: 'consumer', unit: `consumer-${id}`, ...fields });
}

/** Sequence numbers of a MASS producer, as a consumer reports them. */
function received(
  producerId: number,
  ranges: [number, number][],
  runId = MASS_RUN
): SequenceRanges {
  return { runId, producerId, ranges };
}

function histogram(samplesMs: number[]): LatencyHistogram {
  const h = new LatencyHistogram();
  for (const ms of samplesMs) h.record(ms);
  return h;
}

function latency(samplesMs: number[]): LatencyHistogramJSON {
  return histogram(samplesMs).toJSON();
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('RunAggregator totals', () => {
  it('sums the newest cumulative report of each unit', () => {
    const run = aggregator('mass');
    run.add(producer(0, { t: START + 1000, messages: 10, bytes: 100 }));
    run.add(producer(1, { t: START + 1500, messages: 5, bytes: 50 }));
    run.add(producer(0, { t: START + 2000, messages: 25, bytes: 250 }));
    expect(run.totals()).toMatchObject({ produced: 30, producedBytes: 300, processed: 0 });
  });

  it('ignores a report older than the newest one of its unit', () => {
    const run = aggregator('masa');
    run.add(consumer(0, { sequences: [received(0, [[0, 20]])] }));
    run.add(producer(0, { t: START + 2000, messages: 25, bytes: 250 }));
    run.add(producer(0, { t: START + 1500, messages: 12, bytes: 120 }));
    run.add(consumer(0, { t: START + 3000, messages: 20, bytes: 2000 }));
    run.add(consumer(0, { t: START + 2500, messages: 5, bytes: 500 }));
    expect(run.totals()).toMatchObject({
      produced: 25,
      producedBytes: 250,
      processed: 20,
      processedBytes: 2000
    });
  });

  it('ignores the windows of an out-of-date report', () => {
    const run = aggregator('mass');
    run.add(
      producer(0, { t: START + 2000, windows: [{ startMs: START, messages: 10, bytes: 1 }] })
    );
    run.add(producer(0, { t: START + 1000, windows: [{ startMs: START, messages: 4, bytes: 1 }] }));
    expect(run.rateSeries().windows()[0].producedMessages).toBe(10);
  });

  it('a MASS run counts its own producers only', () => {
    const run = aggregator('mass');
    run.add(producer(0, { messages: 10, bytes: 100 }));
    run.add(producer(0, { runId: OTHER_RUN, messages: 1000, bytes: 10_000 }));
    run.add(consumer(0, { runId: OTHER_RUN, messages: 7, sequences: [received(0, [[0, 7]])] }));
    expect(run.totals()).toMatchObject({ produced: 10, producedBytes: 100, processed: 0, lost: 0 });
    expect(run.view('running', START + 2000).producers.map(p => p.messages)).toEqual([10]);
  });

  it('a MASA run counts the producers whose messages its consumers received', () => {
    const run = aggregator('masa');
    run.add(producer(0, { messages: 10, bytes: 100 }));
    run.add(producer(0, { runId: OTHER_RUN, messages: 1000, bytes: 10_000 }));
    // Until a consumer has seen a message of the MASS run, no producer feeds the MASA run.
    expect(run.totals().produced).toBe(0);
    run.add(consumer(0, { messages: 4, bytes: 40, sequences: [received(0, [[0, 4]])] }));
    expect(run.totals()).toMatchObject({ produced: 10, producedBytes: 100, processed: 4 });
    expect(run.view('running', START + 2000).producers.map(p => p.messages)).toEqual([10]);
  });

  it('a MASA run ignores consumers of other runs and what they received', () => {
    const run = aggregator('masa');
    run.add(producer(0, { runId: OTHER_RUN, messages: 50 }));
    run.add(
      consumer(0, {
        runId: OTHER_RUN,
        messages: 50,
        sequences: [received(0, [[0, 50]], OTHER_RUN)]
      })
    );
    expect(run.totals()).toMatchObject({ produced: 0, processed: 0, lost: 0, duplicated: 0 });
  });
});

describe('RunAggregator loss and duplicates', () => {
  it('counts as lost what ended producers sent and no consumer received', () => {
    const run = aggregator('masa');
    run.add(consumer(0, { sequences: [received(0, [[0, 5]])] }));
    run.add(
      consumer(1, {
        sequences: [
          received(0, [
            [5, 7],
            [8, 9]
          ])
        ]
      })
    );
    run.add(producer(0, { state: 'ended', messages: 10 }));
    expect(run.totals().lost).toBe(2);
    // A producer of the same run none of whose messages arrived: all it sent is lost.
    run.add(producer(1, { state: 'ended', messages: 4 }));
    expect(run.totals().lost).toBe(6);
  });

  it('counts only the gaps below the highest sequence for a running producer', () => {
    const run = aggregator('masa');
    run.add(producer(0, { messages: 10 }));
    run.add(
      consumer(0, {
        sequences: [
          received(0, [
            [0, 4],
            [5, 8]
          ])
        ]
      })
    );
    // Sequences 8 and 9 may still be on their way; 4 was skipped over.
    expect(run.totals().lost).toBe(1);
    run.add(producer(0, { t: START + 2000, state: 'ended', messages: 10 }));
    expect(run.totals().lost).toBe(3);
  });

  it('adds the consumers’ own duplicates to sequences that two consumers received', () => {
    const run = aggregator('masa');
    run.add(consumer(0, { duplicates: 2, sequences: [received(0, [[0, 5]])] }));
    run.add(
      consumer(1, {
        duplicates: 1,
        sequences: [
          received(0, [
            [3, 4],
            [5, 6]
          ])
        ]
      })
    );
    expect(run.totals().duplicated).toBe(4);
  });

  it('is drained once every feeding producer has ended and nothing is lost', () => {
    const run = aggregator('masa');
    expect(run.drained()).toBe(false);
    run.add(producer(0, { messages: 6 }));
    // A producer of a run the consumers never saw does not hold the run back.
    run.add(producer(0, { runId: OTHER_RUN, messages: 3 }));
    run.add(consumer(0, { sequences: [received(0, [[0, 6]])] }));
    expect(run.drained()).toBe(false);
    run.add(producer(0, { t: START + 2000, state: 'ended', messages: 8 }));
    expect(run.totals().lost).toBe(2);
    expect(run.drained()).toBe(false);
    run.add(consumer(0, { t: START + 2500, sequences: [received(0, [[6, 8]])] }));
    expect(run.drained()).toBe(true);
  });
});

describe('RunAggregator end and failure', () => {
  it('allEnded waits for the expected producers and consumers, failed ones included', () => {
    const mass = aggregator('mass');
    mass.add(producer(0, { state: 'ended' }));
    mass.add(producer(1));
    mass.add(producer(2, { runId: OTHER_RUN, state: 'ended' }));
    expect(mass.allEnded(2, 0)).toBe(false);
    mass.add(producer(1, { t: START + 2000, state: 'failed' }));
    expect(mass.allEnded(2, 0)).toBe(true);
    expect(mass.allEnded(3, 0)).toBe(false);

    const masa = aggregator('masa');
    masa.add(consumer(0, { state: 'ended' }));
    expect(masa.allEnded(0, 2)).toBe(false);
    masa.add(consumer(1, { state: 'ended' }));
    expect(masa.allEnded(0, 2)).toBe(true);
  });

  it('failure names the failed unit, its node and its newest error', () => {
    const run = aggregator('mass');
    // `errors` counts a unit's errors so far; `newErrors` carries the ones since its last report.
    run.add(
      producer(0, {
        errors: 1,
        newErrors: [{ at: new Date(START).toISOString(), message: 'slow' }]
      })
    );
    run.add(
      producer(1, {
        node: 'node2',
        errors: 1,
        newErrors: [{ at: new Date(START).toISOString(), message: 'timeout' }]
      })
    );
    expect(run.failure()).toBeUndefined();
    run.add(
      producer(1, {
        t: START + 2000,
        node: 'node2',
        state: 'failed',
        errors: 2,
        newErrors: [{ at: new Date(START + 2000).toISOString(), message: 'broker gone' }]
      })
    );
    expect(run.failure()).toBe('producer-1 on node2 failed: broker gone');
    expect(run.totals().errors).toBe(3);
  });

  it('failure without an error names the unit alone', () => {
    const run = aggregator('masa');
    run.add(consumer(3, { node: 'node7', state: 'failed' }));
    expect(run.failure()).toBe('consumer-3 on node7 failed');
  });

  // The metrics topic keeps every earlier run's reports: a failed producer that does not feed
  // this run must not fail it.
  it('a MASA run does not fail for a producer that does not feed it', () => {
    const run = aggregator('masa');
    run.add(producer(0, { runId: OTHER_RUN, state: 'failed' }));
    run.add(producer(0, { messages: 5 }));
    run.add(consumer(0, { sequences: [received(0, [[0, 5]])] }));
    expect(run.failure()).toBeUndefined();
  });
});

describe('RunAggregator view', () => {
  it('keeps one history sample per second with rates and latency percentiles', () => {
    const run = aggregator('masa');
    const first = range(1, 101);
    const second = range(200, 300);
    run.add(
      consumer(0, {
        t: START + 900,
        messages: 8,
        windows: [{ startMs: START, messages: 8, bytes: 80 }],
        latency: latency(first),
        sequences: [received(0, [[0, 8]])]
      })
    );
    run.add(
      producer(0, {
        t: START + 2500,
        messages: 40,
        windows: [
          { startMs: START, messages: 10, bytes: 100 },
          { startMs: START + 1000, messages: 20, bytes: 200 },
          { startMs: START + 2000, messages: 10, bytes: 100 }
        ]
      })
    );
    run.add(
      consumer(0, {
        t: START + 1900,
        messages: 30,
        windows: [{ startMs: START + 1000, messages: 22, bytes: 220 }],
        latency: latency(second)
      })
    );
    const { history, latency: overall } = run.view('running', START + 3000);
    expect(history.map(s => s.t)).toEqual([START + 1000, START + 2000, START + 3000]);
    expect(history.map(s => s.producedPerSecond)).toEqual([10, 20, 10]);
    expect(history.map(s => s.processedPerSecond)).toEqual([8, 22, 0]);
    expect(history[0].p50Ms).toBe(histogram(first).percentile(50));
    expect(history[0].p99Ms).toBe(histogram(first).percentile(99));
    expect(history[1].p50Ms).toBe(histogram(second).percentile(50));
    expect(history[1].p99Ms).toBe(histogram(second).percentile(99));
    expect(history[2].p50Ms).toBeNull();
    expect(history[2].p99Ms).toBeNull();
    const all = histogram([...first, ...second]);
    expect(overall).toEqual({
      p50Ms: all.percentile(50),
      p95Ms: all.percentile(95),
      p99Ms: all.percentile(99)
    });
  });

  it('replaces a window that a unit reports again rather than adding to it', () => {
    const run = aggregator('mass');
    run.add(producer(0, { t: START + 500, windows: [{ startMs: START, messages: 5, bytes: 5 }] }));
    run.add(producer(0, { t: START + 900, windows: [{ startMs: START, messages: 8, bytes: 8 }] }));
    expect(run.view('running', START + 1000).history[0].producedPerSecond).toBe(8);
  });

  it('keeps the newest historyLimit samples', () => {
    const run = aggregator('mass', { historyLimit: 3 });
    const windows = range(0, 10).map(i => ({ startMs: START + i * 1000, messages: i, bytes: 0 }));
    run.add(producer(0, { t: START + 10_000, windows }));
    const { history } = run.view('running', START + 10_000);
    expect(history.map(s => s.producedPerSecond)).toEqual([7, 8, 9]);
  });

  it('describes the run and each unit with its rate over the last report interval', () => {
    const run = aggregator('mass');
    run.add(producer(0, { t: START + 1000, messages: 10, bytes: 1000 }));
    run.add(producer(0, { t: START + 3000, messages: 50, bytes: 5000, node: 'node4' }));
    const view = run.view('stopping', START + 4000, 'stopped by the user');
    expect(view).toMatchObject({
      runId: MASS_RUN,
      pilotId: 'pilot-1',
      topic: 'points',
      role: 'mass',
      kind: 'cluster',
      state: 'stopping',
      startedAt: '2026-03-01T12:00:00.000Z',
      updatedAt: '2026-03-01T12:00:04.000Z',
      latency: null,
      consumers: [],
      errors: [],
      reason: 'stopped by the user'
    });
    expect(view.producers).toEqual([
      {
        id: 'producer-0',
        node: 'node4',
        messages: 50,
        bytes: 5000,
        messagesPerSecond: 20,
        errors: 0,
        state: 'running'
      }
    ]);
    expect('reason' in run.view('running', START)).toBe(false);
  });

  it('computes the KMeans points per second from two consecutive reports', () => {
    const run = aggregator('masa');
    const centers = [
      [0, 0, 0],
      [1, 1, 1]
    ];
    run.add(
      consumer(0, { t: START + 1000, view: { kmeans: { centers, weights: [1, 2], points: 5000 } } })
    );
    expect(run.view('running', START + 1000).kmeans).toEqual({
      centers,
      weights: [1, 2],
      points: 5000,
      pointsPerSecond: 0
    });
    run.add(
      consumer(0, {
        t: START + 3000,
        view: { kmeans: { centers, weights: [3, 4], points: 15_000 } }
      })
    );
    expect(run.view('running', START + 3000).kmeans).toMatchObject({
      weights: [3, 4],
      points: 15_000,
      pointsPerSecond: 5000
    });
  });

  // Each consumer trains its own model: its rate comes from its own previous report.
  it('computes KMeans points per second per consumer when several report', () => {
    const run = aggregator('masa');
    const kmeans = (points: number) => ({ kmeans: { centers: [[0]], weights: [1], points } });
    run.add(consumer(0, { t: START + 1000, view: kmeans(5000) }));
    run.add(consumer(1, { t: START + 1500, view: kmeans(1000) }));
    run.add(consumer(0, { t: START + 2000, view: kmeans(10_000) }));
    run.add(consumer(1, { t: START + 2500, view: kmeans(2000) }));
    // Consumer 1 trained on 1,000 points in the second since its previous report.
    expect(run.view('running', START + 3000).kmeans?.pointsPerSecond).toBe(1000);
  });

  it('shows the newest slice', () => {
    const slice = (sequence: number) => ({
      png: 'data:image/png;base64,',
      width: 2,
      height: 2,
      row: 0,
      producerId: 0,
      sequence,
      center: 1,
      algorithm: 'gridrec'
    });
    const run = aggregator('masa', { kind: 'gridrec' });
    run.add(consumer(0, { t: START + 1000, view: { slice: slice(3) } }));
    run.add(consumer(0, { t: START + 2000 }));
    run.add(consumer(1, { t: START + 2100, view: { slice: slice(9) } }));
    expect(run.view('running', START + 3000).slice?.sequence).toBe(9);
  });
});

describe('RunAggregator record', () => {
  let directory: string | undefined;

  afterEach(async () => {
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
    directory = undefined;
  });

  it('writes a valid run record that reads back the same', async () => {
    const run = aggregator('masa', { description: { processor: { kind: 'kmeans', k: 3 } } });
    run.add(
      producer(0, {
        state: 'ended',
        messages: 10,
        bytes: 1000,
        behind: 2,
        windows: [{ startMs: START, messages: 10, bytes: 1000 }]
      })
    );
    run.add(
      consumer(0, {
        t: START + 1500,
        node: 'node2',
        messages: 9,
        bytes: 900,
        duplicates: 1,
        errors: 1,
        windows: [{ startMs: START + 1000, messages: 9, bytes: 900 }],
        latency: latency(range(1, 10)),
        sequences: [received(0, [[0, 9]])],
        newErrors: [{ at: new Date(START + 1200).toISOString(), message: 'decode failed' }]
      })
    );
    const record = run.record(START + 5000);
    expect(record).toMatchObject({
      id: MASA_RUN,
      description: { processor: { kind: 'kmeans', k: 3 } },
      startedAt: '2026-03-01T12:00:00.000Z',
      endedAt: '2026-03-01T12:00:05.000Z',
      producers: [
        { id: 'producer-0', node: 'node1', messages: 10, bytes: 1000, behind: 2, errors: 0 }
      ],
      consumers: [{ id: 'consumer-0', node: 'node2', messages: 9, bytes: 900, errors: 1 }],
      lost: 1,
      duplicated: 1,
      errors: [{ source: 'consumer-0@node2', message: 'decode failed' }]
    });
    expect(record.latency?.count).toBe(9);
    expect(record.latencyHistogram?.count).toBe(9);
    expect(record.rates.map(w => [w.producedMessages, w.processedMessages])).toEqual([
      [10, 0],
      [0, 9]
    ]);

    directory = await mkdtemp(join(tmpdir(), 'aggregator-'));
    const { recordPath } = await writeRunRecord(directory, record);
    expect(await readRunRecord(recordPath)).toEqual(record);
  });

  it('writes a record without latency when nothing was processed', async () => {
    const run = aggregator('mass');
    run.add(producer(0, { messages: 3, windows: [{ startMs: START, messages: 3, bytes: 0 }] }));
    const record = run.record(START + 1000);
    expect(record.latency).toBeNull();
    expect('latencyHistogram' in record).toBe(false);
    directory = await mkdtemp(join(tmpdir(), 'aggregator-'));
    const { recordPath } = await writeRunRecord(directory, record);
    expect((await readRunRecord(recordPath)).producers[0].messages).toBe(3);
  });
});
