import { describe, expect, it } from 'vitest';
import {
  ControlSession,
  UNSOLICITED_REQUEST_ID,
  type ControlService
} from '../../../src/control/control-session.js';
import type { ProgressListener } from '../../../src/frameworks/plugin.js';
import {
  parsePilotDescription,
  type ControlMessage,
  type PilotDescriptionInput,
  type PilotRecord,
  type PilotState
} from '../../../src/protocol/index.js';

function record(id: string, state: PilotState, createdAt: string): PilotRecord {
  return {
    format: 1,
    id,
    description: parsePilotDescription({ type: 'kafka', resource: 'fork://localhost' }),
    state,
    history: [{ state, at: createdAt }],
    revision: 1,
    createdAt,
    updatedAt: createdAt
  };
}

/** An in-memory pilot service: just enough behaviour to exercise the session. */
class FakeService implements ControlService {
  readonly records = new Map<string, PilotRecord>();
  readonly listeners = new Set<(records: PilotRecord[]) => void>();
  watchCalls = 0;
  private counter = 0;

  async createPilot(input: PilotDescriptionInput, options?: { onProgress?: ProgressListener }) {
    const description = parsePilotDescription(input);
    options?.onProgress?.({ stage: 'writing record' });
    options?.onProgress?.({ stage: 'launching', fraction: 0.5 });
    this.counter += 1;
    const id = `pilot-${String(this.counter).padStart(12, '0')}`;
    const created = { ...record(id, 'Pending', `2026-01-01T00:00:0${this.counter}Z`), description };
    this.records.set(id, created);
    return { record: created };
  }

  async getPilot(id: string) {
    const found = this.records.get(id);
    if (found === undefined)
      throw Object.assign(new Error(`No pilot ${id}`), { name: 'PilotNotFoundError' });
    return {
      record: found,
      cancel: async () => {
        const canceled = { ...found, state: 'Canceled' as const, reason: 'canceled by user' };
        this.records.set(id, canceled);
        // What a real Pilot does: its record reflects the end state once cancel resolves.
        Object.assign(found, canceled);
      }
    };
  }

  async listPilots() {
    return [...this.records.values()].map(r => ({ record: r }));
  }

  watch(listener: (records: PilotRecord[]) => void) {
    this.watchCalls += 1;
    this.listeners.add(listener);
    return { close: () => this.listeners.delete(listener) };
  }

  /** Simulates a change made by another process (a notebook, the CLI). */
  changeElsewhere(next: PilotRecord): void {
    this.records.set(next.id, next);
    for (const listener of this.listeners) listener([...this.records.values()]);
  }
}

function setup() {
  const service = new FakeService();
  const sent: ControlMessage[] = [];
  const session = new ControlSession(
    service,
    m => sent.push(m),
    () => new Date('2026-01-01T12:00:00Z')
  );
  return { service, sent, session };
}

describe('ControlSession', () => {
  it('sends a snapshot of every pilot on open, oldest first', async () => {
    const { service, sent, session } = setup();
    service.records.set(
      'pilot-bbbbbbbbbbbb',
      record('pilot-bbbbbbbbbbbb', 'Running', '2026-01-01T00:00:02Z')
    );
    service.records.set(
      'pilot-aaaaaaaaaaaa',
      record('pilot-aaaaaaaaaaaa', 'Failed', '2026-01-01T00:00:01Z')
    );
    await session.open();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ kind: 'snapshot', at: '2026-01-01T12:00:00.000Z' });
    const snapshot = sent[0] as Extract<ControlMessage, { kind: 'snapshot' }>;
    expect(snapshot.pilots.map(p => [p.id, p.state])).toEqual([
      ['pilot-aaaaaaaaaaaa', 'Failed'],
      ['pilot-bbbbbbbbbbbb', 'Running']
    ]);
    expect(snapshot.pilots[0]).toMatchObject({ type: 'kafka', resource: 'fork://localhost' });
  });

  it('answers list with the summaries', async () => {
    const { service, sent, session } = setup();
    service.records.set(
      'pilot-aaaaaaaaaaaa',
      record('pilot-aaaaaaaaaaaa', 'Running', '2026-01-01T00:00:01Z')
    );
    await session.handle({ kind: 'list', requestId: 'r1' });
    expect(sent).toEqual([
      expect.objectContaining({
        kind: 'reply',
        requestId: 'r1',
        ok: true,
        pilots: [expect.objectContaining({ id: 'pilot-aaaaaaaaaaaa' })]
      })
    ]);
  });

  it('creates a pilot: progress first, then a snapshot with it, then the reply', async () => {
    const { sent, session } = setup();
    await session.open();
    await session.handle({
      kind: 'create',
      requestId: 'c1',
      description: { type: 'kafka', resource: 'fork://localhost', name: 'demo' }
    });
    expect(sent.map(m => m.kind)).toEqual([
      'snapshot',
      'progress',
      'progress',
      'snapshot',
      'reply'
    ]);
    expect(sent[1]).toEqual({ kind: 'progress', requestId: 'c1', stage: 'writing record' });
    expect(sent[2]).toEqual({
      kind: 'progress',
      requestId: 'c1',
      stage: 'launching',
      fraction: 0.5
    });
    expect(sent[3]).toMatchObject({ pilots: [{ name: 'demo', state: 'Pending' }] });
    expect(sent[4]).toMatchObject({
      requestId: 'c1',
      ok: true,
      pilot: { name: 'demo', state: 'Pending' }
    });
  });

  it('replies to an invalid description with the ValidationError and its problems', async () => {
    const { sent, session } = setup();
    await session.handle({
      kind: 'create',
      requestId: 'c2',
      description: { type: 'storm', resource: 'http://x' }
    });
    expect(sent).toHaveLength(1);
    const reply = sent[0] as Extract<ControlMessage, { kind: 'reply'; ok: false }>;
    expect(reply).toMatchObject({ kind: 'reply', requestId: 'c2', ok: false });
    expect(reply.error.name).toBe('ValidationError');
    expect(reply.error.message).toContain('type = "storm"');
    expect(reply.error.problems?.map(p => p.key).sort()).toEqual(['resource', 'type']);
  });

  it('cancels a pilot and replies with its end state', async () => {
    const { service, sent, session } = setup();
    service.records.set(
      'pilot-aaaaaaaaaaaa',
      record('pilot-aaaaaaaaaaaa', 'Running', '2026-01-01T00:00:01Z')
    );
    await session.handle({ kind: 'cancel', requestId: 'x1', pilotId: 'pilot-aaaaaaaaaaaa' });
    expect(sent.map(m => m.kind)).toEqual(['snapshot', 'reply']);
    expect(sent[1]).toMatchObject({
      ok: true,
      pilot: { state: 'Canceled', reason: 'canceled by user' }
    });
  });

  it('reports an unknown pilot with the service error name', async () => {
    const { sent, session } = setup();
    await session.handle({ kind: 'cancel', requestId: 'x2', pilotId: 'pilot-000000000000' });
    expect(sent).toEqual([
      {
        kind: 'reply',
        requestId: 'x2',
        ok: false,
        error: { name: 'PilotNotFoundError', message: 'No pilot pilot-000000000000' }
      }
    ]);
  });

  it('rejects malformed requests, naming the bad key and keeping the requestId', async () => {
    const { sent, session } = setup();
    await session.handle({ kind: 'cancel', requestId: 'x3', pilotId: '../etc' });
    await session.handle({ kind: 'explode', requestId: 'x4' });
    await session.handle('not an object');
    expect(sent).toHaveLength(3);
    const [bad, unknown, garbage] = sent as Extract<ControlMessage, { kind: 'reply'; ok: false }>[];
    expect(bad).toMatchObject({ requestId: 'x3', ok: false });
    expect(bad?.error.problems).toEqual([
      expect.objectContaining({ key: 'pilotId', value: '../etc' })
    ]);
    expect(unknown).toMatchObject({ requestId: 'x4', ok: false });
    expect(unknown?.error.problems?.[0]).toMatchObject({ key: 'kind', value: 'explode' });
    expect(garbage).toMatchObject({ requestId: UNSOLICITED_REQUEST_ID, ok: false });
  });

  it('pushes a snapshot when another process changes the registry, once per change', async () => {
    const { service, sent, session } = setup();
    await session.open();
    const elsewhere = record('pilot-cccccccccccc', 'Pending', '2026-01-01T00:00:03Z');
    service.changeElsewhere(elsewhere);
    service.changeElsewhere(elsewhere); // same content: nothing new to say
    service.changeElsewhere({ ...elsewhere, state: 'Running', revision: 2 });
    expect(sent.map(m => m.kind)).toEqual(['snapshot', 'snapshot', 'snapshot']);
    expect(sent[2]).toMatchObject({ pilots: [{ id: 'pilot-cccccccccccc', state: 'Running' }] });
  });

  it('stops watching and sending when closed', async () => {
    const { service, sent, session } = setup();
    await session.open();
    expect(service.listeners.size).toBe(1);
    session.close();
    expect(service.listeners.size).toBe(0);
    await session.handle({ kind: 'list', requestId: 'late' });
    expect(sent.map(m => m.kind)).toEqual(['snapshot']);
    expect(session.closed).toBe(true);
  });

  it('reports a failing first snapshot instead of dropping it', async () => {
    const { service, sent, session } = setup();
    service.listPilots = async () => {
      throw new Error('registry unreadable: EACCES');
    };
    await session.open();
    expect(sent).toEqual([
      {
        kind: 'reply',
        requestId: UNSOLICITED_REQUEST_ID,
        ok: false,
        error: { name: 'Error', message: 'registry unreadable: EACCES' }
      }
    ]);
  });
});
