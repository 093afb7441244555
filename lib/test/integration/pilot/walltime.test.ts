import { describe, expect, it } from 'vitest';
import { ForkAdaptor } from '../../../src/resource/fork/adaptor.js';
import { usePilotTestHome } from '../../support/pilot-home.js';

describe('Kafka pilot walltime', () => {
  const test = usePilotTestHome('test');

  it('stops at its walltime: Done with the reason, nothing left', async () => {
    const pilot = await test.service.createPilot({
      type: 'kafka',
      resource: 'fork://localhost',
      walltimeMinutes: 1
    });
    await pilot.wait('Running', { timeoutMs: 55_000 });
    expect(await pilot.wait('Done', { timeoutMs: 90_000 })).toBe('Done');
    expect(pilot.record.reason).toBe('walltime of 1 minutes reached');
    // The walltime counts from the start of its supervisor (the job), not from the record.
    const started = Date.parse(pilot.record.startedAt!);
    expect(started).toBeGreaterThanOrEqual(Date.parse(pilot.record.createdAt));
    const ranFor = Date.parse(pilot.record.history.at(-1)!.at) - started;
    expect(ranFor).toBeGreaterThanOrEqual(60_000);
    expect(ranFor).toBeLessThan(80_000);
    for (
      let i = 0;
      i < 50 && (await new ForkAdaptor().remaining(pilot.record.job!)).length > 0;
      i++
    ) {
      await new Promise(resolve => setTimeout(resolve, 100));
    }
    expect(await new ForkAdaptor().remaining(pilot.record.job!)).toEqual([]);
  });
});
