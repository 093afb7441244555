import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PilotComputeService } from '../../../src/pilot/index.js';
import { ValidationError } from '../../../src/protocol/index.js';

describe('createPilot on resources without a remote bootstrap yet', () => {
  let home: string;
  let service: PilotComputeService;

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'pilot-service-'));
    service = new PilotComputeService({ home, cacheDir: join(home, 'cache') });
  });

  afterEach(async () => {
    await service.close();
    await rm(home, { recursive: true, force: true });
  });

  it.each(['ssh://node.example.org', 'slurm://localhost', 'slurm+ssh://login.example.org:2222'])(
    'refuses %s with the key, the value and what is expected, recording nothing',
    async resource => {
      const attempt = service.createPilot({ type: 'kafka', resource });
      await expect(attempt).rejects.toThrow(ValidationError);
      await expect(attempt).rejects.toThrow(
        `resource = ${JSON.stringify(resource)}, expected fork://localhost for now`
      );
      expect(await service.listPilots()).toEqual([]);
      expect(await readdir(home)).not.toContain('pilots');
    }
  );
});
