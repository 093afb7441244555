import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidTransitionError, PilotNotFoundError } from '../../../src/pilot/errors.js';
import { newPilotRecord } from '../../../src/pilot/record.js';
import { PilotRegistry } from '../../../src/pilot/registry.js';
import { parsePilotDescription, type PilotRecord } from '../../../src/protocol/index.js';
import { distModule } from '../../support/paths.js';

const description = parsePilotDescription({ type: 'kafka', resource: 'fork://localhost' });

function runChild(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', code =>
      code === 0 ? resolve() : reject(new Error(`writer exited ${String(code)}: ${stderr}`))
    );
  });
}

describe('pilot registry', () => {
  let home: string;
  let registry: PilotRegistry;

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'pilot-streaming-registry-'));
    registry = new PilotRegistry(home);
  });

  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('creates, reads, lists and updates with a rising revision', async () => {
    const record = newPilotRecord('pilot-aaaaaaaaaaaa', description, new Date());
    await registry.create(record);
    expect(await registry.read(record.id)).toEqual(record);
    await expect(registry.create(record)).rejects.toThrow(/exists already/);
    const pending = await registry.transition(record.id, 'Pending');
    expect(pending.revision).toBe(2);
    const running = await registry.transition(record.id, 'Running');
    expect(running.revision).toBe(3);
    expect((await registry.list()).map(r => [r.id, r.state])).toEqual([[record.id, 'Running']]);
    const unchanged = await registry.update(record.id, () => undefined);
    expect(unchanged.revision).toBe(3);
  });

  it('refuses a forbidden transition without writing', async () => {
    const record = newPilotRecord('pilot-aaaaaaaaaaaa', description, new Date());
    await registry.create(record);
    await expect(registry.transition(record.id, 'Running')).rejects.toThrow(InvalidTransitionError);
    expect((await registry.read(record.id)).revision).toBe(1);
  });

  it('names unknown and malformed ids (and never reads outside the registry)', async () => {
    await expect(registry.read('pilot-bbbbbbbbbbbb')).rejects.toThrow(PilotNotFoundError);
    await expect(registry.read('pilot-bbbbbbbbbbbb')).rejects.toThrow(/"pilot-bbbbbbbbbbbb"/);
    await expect(registry.read('../../etc/passwd')).rejects.toThrow(PilotNotFoundError);
    await expect(registry.update('pilot-bbbbbbbbbbbb', r => r)).rejects.toThrow(PilotNotFoundError);
  });

  it('loses no update and shows no torn file with several writer processes', async () => {
    const record = newPilotRecord('pilot-cccccccccccc', description, new Date());
    await registry.create(record);
    const writers = 4;
    const perWriter = 30;
    const path = join(registry.directory, `${record.id}.json`);
    let reads = 0;
    let writing = true;
    // A reader parses the file the whole time: an atomic rename never shows half a record.
    const reader = (async () => {
      let last = 0;
      while (writing) {
        const seen = JSON.parse(await readFile(path, 'utf8')) as PilotRecord;
        expect(seen.revision).toBeGreaterThanOrEqual(last);
        last = seen.revision;
        reads += 1;
        await new Promise(resolve => setImmediate(resolve));
      }
    })();
    const module = distModule('pilot/registry.js');
    const script = join(import.meta.dirname, '..', '..', 'support', 'registry-writer.mjs');
    try {
      await Promise.all(
        Array.from({ length: writers }, () =>
          runChild([script, module, home, record.id, String(perWriter)])
        )
      );
    } finally {
      writing = false;
      await reader;
    }
    const final = await registry.read(record.id);
    expect(final.progress?.stage).toBe(String(writers * perWriter));
    expect(final.revision).toBe(1 + writers * perWriter);
    expect(reads).toBeGreaterThan(10);
    // No temporary files or locks left behind.
    expect((await readdir(registry.directory)).sort()).toEqual([`${record.id}.json`]);
  }, 60_000);
});
