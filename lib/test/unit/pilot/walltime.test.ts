import { describe, expect, it } from 'vitest';
import { walltimeEnd } from '../../../src/pilot/supervisor/walltime.js';

const started = Date.parse('2026-12-01T12:00:00.000Z');

describe('walltimeEnd', () => {
  it('counts the whole walltime from the start of the job on fork:// and ssh://', () => {
    expect(walltimeEnd({ startedAt: started, walltimeMinutes: 60, inBatchJob: false })).toEqual({
      at: started + 60 * 60_000,
      marginMs: 0
    });
  });

  it('stops a tenth of the walltime before the scheduler limit in a batch job', () => {
    expect(walltimeEnd({ startedAt: started, walltimeMinutes: 1, inBatchJob: true })).toEqual({
      at: started + 54_000,
      marginMs: 6_000
    });
  });

  it('keeps at most 30 s before the scheduler limit', () => {
    expect(walltimeEnd({ startedAt: started, walltimeMinutes: 120, inBatchJob: true })).toEqual({
      at: started + 120 * 60_000 - 30_000,
      marginMs: 30_000
    });
  });

  it('gives a job that started later (after a long queue) its full walltime from then', () => {
    const afterQueue = started + 3 * 60 * 60_000;
    const end = walltimeEnd({ startedAt: afterQueue, walltimeMinutes: 10, inBatchJob: true });
    expect(end.at - afterQueue).toBe(10 * 60_000 - end.marginMs);
  });
});
