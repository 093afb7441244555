import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PilotComputeService } from '../../../src/pilot/index.js';
import { newPilotRecord } from '../../../src/pilot/record.js';
import { parsePilotDescription, ValidationError } from '../../../src/protocol/index.js';

describe('createPilot with a parent', () => {
  let home: string;
  let service: PilotComputeService;

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'pilot-parent-'));
    service = new PilotComputeService({ home, cacheDir: join(home, 'cache') });
  });

  afterEach(async () => {
    await service.close();
    await rm(home, { recursive: true, force: true });
  });

  /** A parent record as a supervisor would leave it (no process behind it is needed here). */
  async function recordParent(resource: string, state: 'Running' | 'Done'): Promise<string> {
    const record = newPilotRecord(
      'pilot-parent000001',
      parsePilotDescription({ type: 'kafka', resource }),
      new Date()
    );
    await service.registry.create({ ...record, state });
    return record.id;
  }

  it('refuses a parent that does not exist, recording nothing', async () => {
    await expect(
      service.createPilot({
        type: 'kafka',
        resource: 'slurm://localhost',
        parent: 'pilot-nonexistent0'
      })
    ).rejects.toThrow(/pilot-nonexistent0/);
    expect(await readdir(home)).not.toContain('pilots');
  });

  it('refuses extending a single-host pilot, naming the key and what is expected', async () => {
    const parent = await recordParent('fork://localhost', 'Running');
    const attempt = service.createPilot({ type: 'kafka', resource: 'fork://localhost', parent });
    await expect(attempt).rejects.toThrow(ValidationError);
    await expect(attempt).rejects.toThrow(
      /parent = "pilot-parent000001", expected no parent on a single-host resource/
    );
    expect((await service.listPilots()).map(pilot => pilot.id)).toEqual([parent]);
  });

  it('refuses a parent on another resource and a parent that has ended', async () => {
    const parent = await recordParent('slurm+ssh://login.example.org', 'Done');
    const attempt = service.createPilot({ type: 'kafka', resource: 'slurm://localhost', parent });
    await expect(attempt).rejects.toThrow(/expected a Running pilot \(it is Done\)/);
    await expect(attempt).rejects.toThrow(
      /resource = "slurm:\/\/localhost", expected the parent's resource slurm\+ssh:\/\/login.example.org/
    );
  });
});
