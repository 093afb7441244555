import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../../../src/miniapps/metrics/latency.js';
import { parseReport, REPORT_VERSION, toRanges } from '../../../../src/miniapps/runs/report.js';
import type { UnitReport } from '../../../../src/miniapps/runs/report.js';

const REPORT: UnitReport = {
  v: REPORT_VERSION,
  runId: '11111111-1111-4111-8111-111111111111',
  role: 'consumer',
  unit: 'consumer-0',
  node: 'node1',
  pid: 4242,
  t: 1_772_366_400_000,
  state: 'running',
  messages: 12,
  bytes: 1200,
  behind: 0,
  duplicates: 1,
  errors: 1,
  windows: [{ startMs: 1_772_366_400_000, messages: 12, bytes: 1200 }],
  latency: new LatencyHistogram().toJSON(),
  sequences: [{ runId: '33333333-3333-4333-8333-333333333333', producerId: 0, ranges: [[0, 12]] }],
  newErrors: [{ at: '2026-03-01T12:00:00.000Z', message: 'bad message' }],
  view: { kmeans: { centers: [[1, 2]], weights: [3], points: 12 } }
};

const encode = (value: unknown) => Buffer.from(JSON.stringify(value));

/** A copy of the report without `keys`. */
function without(...keys: string[]): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...REPORT };
  for (const key of keys) delete copy[key];
  return copy;
}

describe('toRanges', () => {
  it('turns sorted numbers into half-open ranges', () => {
    expect(toRanges([])).toEqual([]);
    expect(toRanges([7])).toEqual([[7, 8]]);
    expect(toRanges([3, 4, 5, 9])).toEqual([
      [3, 6],
      [9, 10]
    ]);
    expect(toRanges([0, 2, 4, 5])).toEqual([
      [0, 1],
      [2, 3],
      [4, 6]
    ]);
  });
});

describe('parseReport', () => {
  it('accepts a report as a unit publishes it', () => {
    expect(parseReport(encode(REPORT))).toEqual(REPORT);
    const minimal = without('latency', 'sequences', 'view');
    expect(parseReport(encode({ ...minimal, role: 'producer', producerId: 3 }))).toMatchObject({
      role: 'producer',
      producerId: 3
    });
  });

  it('returns undefined for anything that is not a report', () => {
    expect(parseReport(null)).toBeUndefined();
    expect(parseReport(Buffer.from('not json {'))).toBeUndefined();
    expect(parseReport(Buffer.from(''))).toBeUndefined();
    expect(parseReport(encode(null))).toBeUndefined();
    expect(parseReport(encode([REPORT]))).toBeUndefined();
    expect(parseReport(encode({ ...REPORT, v: 2 }))).toBeUndefined();
    expect(parseReport(encode({ ...REPORT, role: 'observer' }))).toBeUndefined();
    expect(parseReport(encode({ ...REPORT, messages: -1 }))).toBeUndefined();
    expect(
      parseReport(encode({ ...REPORT, sequences: [{ runId: 'r', producerId: 0, ranges: [[1]] }] }))
    ).toBeUndefined();
    for (const key of ['runId', 'unit', 't', 'state', 'messages', 'windows', 'newErrors']) {
      expect(parseReport(encode(without(key))), key).toBeUndefined();
    }
  });
});
