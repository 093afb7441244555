import type { PilotSummary } from '@pilot-streaming/lib/protocol';
import { describe, expect, it } from 'vitest';
import {
  applyProgress,
  applySnapshot,
  EMPTY_PILOTS_STATE,
  endCancel,
  endCreate,
  startCancel,
  startCreate
} from '../src/pilots/pilots-state';

function pilot(
  id: string,
  createdAt: string,
  state: PilotSummary['state'] = 'Running'
): PilotSummary {
  return {
    id,
    type: 'kafka',
    resource: 'fork://localhost',
    state,
    createdAt,
    updatedAt: createdAt
  };
}

const a = pilot('pilot-aaaaaaaaaaaa', '2026-01-01T00:00:01Z');
const b = pilot('pilot-bbbbbbbbbbbb', '2026-01-01T00:00:02Z');

describe('applySnapshot', () => {
  it('shows the pilots newest first', () => {
    const state = applySnapshot(EMPTY_PILOTS_STATE, {
      kind: 'snapshot',
      pilots: [a, b],
      at: '2026-01-01T00:01:00Z'
    });
    expect(state.pilots.map(p => p.id)).toEqual([b.id, a.id]);
    expect(state.snapshotAt).toBe('2026-01-01T00:01:00Z');
  });

  it('replaces the list: changed states show, removed pilots go', () => {
    let state = applySnapshot(EMPTY_PILOTS_STATE, {
      kind: 'snapshot',
      pilots: [a, b],
      at: '2026-01-01T00:01:00Z'
    });
    state = applySnapshot(state, {
      kind: 'snapshot',
      pilots: [{ ...a, state: 'Canceled', reason: 'canceled by user' }],
      at: '2026-01-01T00:02:00Z'
    });
    expect(state.pilots).toEqual([{ ...a, state: 'Canceled', reason: 'canceled by user' }]);
  });

  it('drops a snapshot older than the one shown', () => {
    const newer = applySnapshot(EMPTY_PILOTS_STATE, {
      kind: 'snapshot',
      pilots: [a, b],
      at: '2026-01-01T00:02:00Z'
    });
    const after = applySnapshot(newer, {
      kind: 'snapshot',
      pilots: [],
      at: '2026-01-01T00:01:00Z'
    });
    expect(after).toBe(newer);
  });

  it('forgets a cancel in flight for a pilot that left the registry', () => {
    let state = startCancel(EMPTY_PILOTS_STATE, a.id);
    state = startCancel(state, b.id);
    state = applySnapshot(state, { kind: 'snapshot', pilots: [b], at: '2026-01-01T00:01:00Z' });
    expect(state.canceling).toEqual([b.id]);
  });
});

describe('create and cancel bookkeeping', () => {
  it('tracks progress of a create until it ends', () => {
    let state = startCreate(EMPTY_PILOTS_STATE, 'r1', {
      type: 'kafka',
      resource: 'fork://localhost'
    });
    state = applyProgress(state, {
      kind: 'progress',
      requestId: 'r1',
      stage: 'launching',
      fraction: 0.5
    });
    state = applyProgress(state, { kind: 'progress', requestId: 'other', stage: 'ignored' });
    expect(state.creating).toEqual([
      {
        requestId: 'r1',
        description: { type: 'kafka', resource: 'fork://localhost' },
        stage: 'launching',
        fraction: 0.5
      }
    ]);
    state = applyProgress(state, {
      kind: 'progress',
      requestId: 'r1',
      stage: 'waiting for broker'
    });
    expect(state.creating[0]).toEqual({
      requestId: 'r1',
      description: { type: 'kafka', resource: 'fork://localhost' },
      stage: 'waiting for broker'
    });
    expect(endCreate(state, 'r1').creating).toEqual([]);
  });

  it('marks a pilot canceling once, until the cancel ends', () => {
    let state = startCancel(EMPTY_PILOTS_STATE, a.id);
    expect(startCancel(state, a.id)).toBe(state);
    state = endCancel(state, a.id);
    expect(state.canceling).toEqual([]);
  });
});
