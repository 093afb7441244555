import { describe, expect, it } from 'vitest';
import {
  assertMonitorable,
  describePilots,
  findLagPilot,
  type LagPilot,
  type LagPilotDirectory
} from '../../../src/monitoring/lag-pilot.js';
import { PilotNotFoundError, PilotStateError } from '../../../src/pilot/index.js';
import type { PilotRecord, PilotState } from '../../../src/protocol/index.js';

function summary(id: string, state: PilotState, name?: string) {
  return { id, state, description: name !== undefined ? { name } : {} };
}

function lagPilot(id: string, state: PilotState): LagPilot {
  return {
    id,
    state,
    getContext: () => Promise.reject(new Error('not used')),
    on: () => undefined,
    off: () => undefined
  };
}

/** A directory that knows `pilots` (by id) and lists them, or fails to list with `listError`. */
function directory(pilots: ReturnType<typeof summary>[], listError?: Error): LagPilotDirectory {
  return {
    async getPilot(id) {
      const found = pilots.find(pilot => pilot.id === id);
      if (found === undefined)
        throw new PilotNotFoundError(id, '/home/u/.pilot-streaming/registry');
      return lagPilot(found.id, found.state);
    },
    async listPilots() {
      if (listError !== undefined) throw listError;
      return pilots.map(pilot => ({ record: pilot as unknown as PilotRecord }));
    }
  };
}

describe('describePilots', () => {
  it('names every pilot with its name and state, live ones first', () => {
    expect(
      describePilots([
        summary('pilot-00000000000a', 'Canceled', 'old'),
        summary('pilot-00000000000b', 'Running', 'demo'),
        summary('pilot-00000000000c', 'Pending')
      ])
    ).toBe(
      'the pilots there: pilot-00000000000b (demo, Running), pilot-00000000000c (Pending), pilot-00000000000a (old, Canceled)'
    );
  });

  it('says when there is none', () => {
    expect(describePilots([])).toBe('there is no pilot there');
  });

  it('names at most `limit` and counts the rest', () => {
    const records = Array.from({ length: 5 }, (_, i) => summary(`pilot-00000000000${i}`, 'Done'));
    expect(describePilots(records, 2)).toBe(
      'the pilots there: pilot-000000000000 (Done), pilot-000000000001 (Done) and 3 more'
    );
  });
});

describe('findLagPilot', () => {
  const pilots = [
    summary('pilot-00000000000b', 'Running', 'demo'),
    summary('pilot-00000000000d', 'Failed')
  ];

  it('returns a pilot that is starting or running', async () => {
    expect((await findLagPilot(directory(pilots), 'pilot-00000000000b')).id).toBe(
      'pilot-00000000000b'
    );
  });

  it('fails on an unknown id, naming it, the registry and the pilots there', async () => {
    const failure = findLagPilot(directory(pilots), 'pilot-0000deadbeef');
    await expect(failure).rejects.toThrow(
      'No pilot with id "pilot-0000deadbeef" in the registry at /home/u/.pilot-streaming/registry; ' +
        'the pilots there: pilot-00000000000b (demo, Running), pilot-00000000000d (Failed)'
    );
    await expect(failure).rejects.toMatchObject({ cause: expect.any(PilotNotFoundError) });
  });

  it('still names the id when the pilots cannot be listed, and says why', async () => {
    await expect(
      findLagPilot(directory(pilots, new Error('EACCES: permission denied')), 'pilot-0000deadbeef')
    ).rejects.toThrow(
      /"pilot-0000deadbeef".*; the pilots there could not be listed: EACCES: permission denied$/
    );
  });

  it('fails on a pilot that has ended, naming its state', async () => {
    await expect(findLagPilot(directory(pilots), 'pilot-00000000000d')).rejects.toThrow(
      PilotStateError
    );
    await expect(findLagPilot(directory(pilots), 'pilot-00000000000d')).rejects.toThrow(
      /^Pilot pilot-00000000000d is Failed: it has ended/
    );
  });

  it('passes on other failures untouched', async () => {
    const broken: LagPilotDirectory = {
      getPilot: () => Promise.reject(new Error('registry unreadable')),
      listPilots: () => Promise.resolve([])
    };
    await expect(findLagPilot(broken, 'pilot-00000000000b')).rejects.toThrow(
      /^registry unreadable$/
    );
  });
});

describe('assertMonitorable', () => {
  it.each(['New', 'Pending', 'Running'] as const)('accepts a %s pilot', state => {
    expect(() => assertMonitorable(lagPilot('pilot-00000000000b', state))).not.toThrow();
  });

  it.each(['Done', 'Failed', 'Canceled'] as const)('refuses a %s pilot', state => {
    expect(() => assertMonitorable(lagPilot('pilot-00000000000b', state))).toThrow(
      `Pilot pilot-00000000000b is ${state}: it has ended`
    );
  });
});
