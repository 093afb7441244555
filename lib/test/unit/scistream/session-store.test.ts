import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { SessionStore, type SessionRecord } from '../../../src/scistream/s2cs/session-store.js';

function session(uid: string): SessionRecord {
  return {
    version: 1,
    uid,
    role: 'PROD',
    side: 'producer',
    owner: 'alice',
    numConn: 2,
    rate: 0,
    backend: 'native',
    state: 'streaming',
    ports: [41001, 41002],
    targets: ['10.0.0.1:5000', '10.0.0.1:5001'],
    prodListeners: [],
    psk: 'ab'.repeat(32),
    pids: [],
    createdMs: 1_700_000_000_000
  };
}

describe('SciStream session store', () => {
  let dir = '';
  let store: SessionStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sst-sessions-'));
    store = new SessionStore(dir);
    await store.init();
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('loads the good sessions and moves each damaged file aside, naming its problem', async () => {
    await store.save(session('good-1'));
    await store.save(session('good-2'));
    const sessions = join(dir, 'sessions');
    const damagedFiles: Record<string, string> = {
      'truncated.json': JSON.stringify(session('truncated')).slice(0, 40),
      'array.json': '[]',
      'other-version.json': JSON.stringify({ ...session('other-version'), version: 2 }),
      'bad-state.json': JSON.stringify({ ...session('bad-state'), state: 'Exploded' }),
      'renamed.json': JSON.stringify(session('original-name'))
    };
    for (const [name, text] of Object.entries(damagedFiles)) {
      await writeFile(join(sessions, name), text, { mode: 0o600 });
    }

    const { records, damaged } = await store.loadAll();

    expect(records.map(record => record.uid).sort()).toEqual(['good-1', 'good-2']);
    const problems = Object.fromEntries(
      damaged.map(entry => [entry.path.slice(sessions.length + 1), entry.problem])
    );
    expect(Object.keys(problems).sort()).toEqual(Object.keys(damagedFiles).sort());
    expect(problems['truncated.json']).toMatch(/^not JSON/);
    expect(problems['array.json']).toMatch(/record/);
    expect(problems['other-version.json']).toMatch(/^version: /);
    expect(problems['bad-state.json']).toMatch(/^state: /);
    expect(problems['renamed.json']).toBe('uid "original-name" does not match the file name');
    // Nothing is lost: each damaged file is kept beside the sessions, unchanged.
    const names = (await readdir(sessions)).sort();
    expect(names).toEqual(
      [
        'good-1.json',
        'good-2.json',
        ...Object.keys(damagedFiles).map(name => `${name}.damaged`)
      ].sort()
    );
    expect(await readFile(join(sessions, 'array.json.damaged'), 'utf8')).toBe('[]');
    // A second start sees only the good ones.
    expect((await store.loadAll()).damaged).toEqual([]);
  });
});
