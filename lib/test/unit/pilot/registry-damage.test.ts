import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultPilotCache, defaultPilotHome } from '../../../src/pilot/environment.js';
import { DamagedRecordError } from '../../../src/pilot/errors.js';
import { readEndNote, writeEndNote } from '../../../src/pilot/pilot-files.js';
import { newPilotRecord } from '../../../src/pilot/record.js';
import { PilotRegistry } from '../../../src/pilot/registry.js';
import { parsePilotDescription } from '../../../src/protocol/index.js';

const description = parsePilotDescription({ type: 'kafka', resource: 'fork://localhost' });

/** Ids for n records: pilot-000000000000, pilot-000000000001, ... */
function ids(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `pilot-${String(i).padStart(12, '0')}`);
}

describe('pilot registry under concurrency and damage', () => {
  let home: string;
  let registry: PilotRegistry;

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'pilot-streaming-registry-damage-'));
    registry = new PilotRegistry(home);
  });

  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('creates many records concurrently in one process, leaving no lock or temporary file', async () => {
    const created = ids(12);
    const outcomes = await Promise.allSettled(
      created.map(id => registry.create(newPilotRecord(id, description, new Date())))
    );
    expect(outcomes.filter(outcome => outcome.status === 'rejected')).toEqual([]);
    // Concurrent updates of all of them too, still in one process.
    await Promise.all(created.map(id => registry.transition(id, 'Pending')));
    expect((await registry.list()).map(record => [record.id, record.state])).toEqual(
      created.map(id => [id, 'Pending'])
    );
    expect((await readdir(registry.directory)).sort()).toEqual(created.map(id => `${id}.json`));
  });

  it('lists the good records and flags each damaged file with what is wrong', async () => {
    const [good, truncated, notJson, array, otherId] = ids(5) as [
      string,
      string,
      string,
      string,
      string
    ];
    await registry.create(newPilotRecord(good, description, new Date()));
    const valid = JSON.stringify(newPilotRecord(truncated, description, new Date()));
    const fileOf = (id: string): string => join(registry.directory, `${id}.json`);
    await writeFile(fileOf(truncated), valid.slice(0, valid.length / 2));
    await writeFile(fileOf(notJson), '{not json');
    await writeFile(fileOf(array), '[]');
    await writeFile(
      fileOf(otherId),
      JSON.stringify(newPilotRecord(good, description, new Date()), null, 2)
    );

    const { records, damaged } = await registry.survey();
    expect(records.map(record => record.id)).toEqual([good]);
    expect(await registry.list()).toEqual(records);
    const flagged = Object.fromEntries(damaged.map(error => [error.pilotId, error]));
    expect(Object.keys(flagged).sort()).toEqual([truncated, notJson, array, otherId].sort());
    for (const [id, error] of Object.entries(flagged)) expect(error.file).toBe(fileOf(id));
    expect(flagged[truncated]!.problem).toMatch(/not valid JSON/);
    expect(flagged[notJson]!.problem).toMatch(/not valid JSON/);
    expect(flagged[array]!.problem).toMatch(/expected a JSON object, found \[\]/);
    expect(flagged[otherId]!.problem).toMatch(
      new RegExp(`holds the record of ${good}, expected ${otherId}`)
    );

    // Reading one of them names the file; updating one fails the same way, writing nothing.
    await expect(registry.read(notJson)).rejects.toThrow(DamagedRecordError);
    await expect(registry.read(notJson)).rejects.toThrow(fileOf(notJson));
    await expect(registry.transition(array, 'Canceled')).rejects.toThrow(DamagedRecordError);
    expect((await readdir(registry.directory)).filter(name => name.startsWith('.'))).toEqual([]);
  });

  it('names an unknown state and the file instead of failing on it later', async () => {
    const [id] = ids(1) as [string];
    const record = { ...newPilotRecord(id, description, new Date()), state: 'Exploded' };
    const file = join(registry.directory, `${id}.json`);
    await registry.ensureDirectory();
    await writeFile(file, JSON.stringify(record));
    const error = await registry.read(id).then(
      () => undefined,
      (failure: unknown) => failure
    );
    expect(error).toBeInstanceOf(DamagedRecordError);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toMatch(/state = "Exploded", expected one of "New", /);
    const { records, damaged } = await registry.survey();
    expect(records).toEqual([]);
    expect(damaged.map(flagged => flagged.file)).toEqual([file]);
  });
});

describe('end notes beside the registry', () => {
  let workDir: string;

  beforeEach(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'pilot-streaming-end-note-'));
  });

  afterEach(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it('keeps an end that the registry could not record, and only an end', async () => {
    expect(await readEndNote(workDir)).toBeUndefined();
    const path = await writeEndNote(workDir, 'Canceled', 'canceled while read-only');
    expect(await readEndNote(workDir)).toMatchObject({
      state: 'Canceled',
      reason: 'canceled while read-only'
    });
    expect(await readdir(workDir)).toEqual(['end.json']);
    // A note cannot bring a pilot back to life: only Done, Failed and Canceled are read.
    await writeFile(path, JSON.stringify({ state: 'Running', reason: 'x', at: 'now' }));
    await expect(readEndNote(workDir)).rejects.toThrow(`${path} is damaged`);
  });
});

describe('pilot home from the environment', () => {
  const saved = {
    home: process.env.PILOT_STREAMING_HOME,
    cache: process.env.PILOT_STREAMING_CACHE
  };

  afterEach(() => {
    for (const [key, value] of [
      ['PILOT_STREAMING_HOME', saved.home],
      ['PILOT_STREAMING_CACHE', saved.cache]
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('resolves a relative PILOT_STREAMING_HOME and PILOT_STREAMING_CACHE once, absolutely', () => {
    process.env.PILOT_STREAMING_HOME = 'relative-home';
    process.env.PILOT_STREAMING_CACHE = './relative-cache';
    expect(defaultPilotHome()).toBe(join(process.cwd(), 'relative-home'));
    expect(defaultPilotCache()).toBe(join(process.cwd(), 'relative-cache'));
  });
});
