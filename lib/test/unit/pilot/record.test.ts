import { describe, expect, it } from 'vitest';
import { InvalidTransitionError } from '../../../src/pilot/errors.js';
import { applyTransition, newPilotId, newPilotRecord } from '../../../src/pilot/record.js';
import {
  canTransition,
  parsePilotDescription,
  pilotIdSchema,
  PILOT_STATES
} from '../../../src/protocol/index.js';

const description = parsePilotDescription({ type: 'kafka', resource: 'fork://localhost' });
const t0 = new Date('2026-01-01T00:00:00Z');
const t1 = new Date('2026-01-01T00:00:01Z');
const t2 = new Date('2026-01-01T00:00:02Z');

describe('pilot records and transitions', () => {
  it('makes ids the protocol accepts, and different ones', () => {
    const ids = new Set(Array.from({ length: 200 }, () => newPilotId()));
    expect(ids.size).toBe(200);
    for (const id of ids) expect(pilotIdSchema.safeParse(id).success).toBe(true);
  });

  it('starts New with a timestamped history', () => {
    const record = newPilotRecord('pilot-aaaaaaaaaaaa', description, t0);
    expect(record.state).toBe('New');
    expect(record.history).toEqual([{ state: 'New', at: t0.toISOString() }]);
    expect(record.revision).toBe(1);
  });

  it('follows New -> Pending -> Running -> Canceled with times and the reason', () => {
    let record = newPilotRecord('pilot-aaaaaaaaaaaa', description, t0);
    record = { ...record, progress: { stage: 'Starting' } };
    record = applyTransition(record, 'Pending', { now: t0 });
    expect(record.progress).toEqual({ stage: 'Starting' });
    record = applyTransition(record, 'Running', { now: t1 });
    expect(record.progress).toBeUndefined();
    record = applyTransition(record, 'Canceled', { reason: 'asked to', now: t2 });
    expect(record.state).toBe('Canceled');
    expect(record.reason).toBe('asked to');
    expect(record.history.map(change => [change.state, change.at])).toEqual([
      ['New', t0.toISOString()],
      ['Pending', t0.toISOString()],
      ['Running', t1.toISOString()],
      ['Canceled', t2.toISOString()]
    ]);
    expect(record.history[3]!.reason).toBe('asked to');
  });

  it('refuses every transition the state model forbids, and leaves the record as it was', () => {
    for (const from of PILOT_STATES) {
      for (const to of PILOT_STATES) {
        const record = { ...newPilotRecord('pilot-aaaaaaaaaaaa', description, t0), state: from };
        if (canTransition(from, to)) {
          expect(applyTransition(record, to, { now: t1 }).state).toBe(to);
        } else {
          expect(() => applyTransition(record, to, { now: t1 })).toThrow(InvalidTransitionError);
          expect(record.state).toBe(from);
        }
      }
    }
    expect(canTransition('Failed', 'Running')).toBe(false);
    expect(canTransition('Pending', 'Done')).toBe(false);
    expect(canTransition('Running', 'Done')).toBe(true);
  });

  it('names the pilot and both states when refusing', () => {
    const record = {
      ...newPilotRecord('pilot-bbbbbbbbbbbb', description, t0),
      state: 'Done' as const
    };
    expect(() => applyTransition(record, 'Running', { now: t1 })).toThrow(
      'Pilot pilot-bbbbbbbbbbbb cannot go from Done to Running'
    );
  });
});
