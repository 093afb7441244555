import { execFile } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { masa, mass, runRecords } from '../../../src/miniapps/api.js';
import { readRunRecord } from '../../../src/miniapps/metrics/run-record.js';
import { expectedCount, parseRateProfile } from '../../../src/miniapps/rates/profile.js';
import { readNpy } from '../../../src/recon/npy.js';
import type { Pilot } from '../../../src/pilot/index.js';
import { isTerminal } from '../../../src/protocol/index.js';
import { distModule, sharedDataDir } from '../../support/paths.js';
import { processesMentioning, usePilotTestHome } from '../../support/pilot-home.js';

const run = promisify(execFile);
const tooth = join(sharedDataDir, 'tooth.h5');

/** Nothing of a run is left: every unit of the pilot ended, no unit process is alive. */
async function expectNothingRunning(pilot: Pilot, runId: string): Promise<void> {
  const units = await pilot.listUnits();
  expect(units.filter(unit => !isTerminal(unit.state)).map(unit => unit.name)).toEqual([]);
  expect(await processesMentioning(runId)).toEqual([]);
}

describe('Mini-App runs on a fork:// Kafka pilot', () => {
  const test = usePilotTestHome('file');
  let pilot: Pilot;

  beforeAll(async () => {
    pilot = await test.service.createPilot({ type: 'kafka', resource: 'fork://localhost' });
    await pilot.wait('Running', { timeoutMs: 170_000 });
  });

  afterAll(async () => {
    await pilot.cancel();
  });

  it('reconstructs tooth.h5 through Kafka exactly as the offline recon command does', async () => {
    const output = join(test.home, 'streamed');
    await mkdir(output);
    const source = await mass(
      pilot,
      { source: { kind: 'lightsource', file: tooth, rotationCenter: 296 }, rate: 20, messages: 4 },
      test.service
    );
    const sink = await masa(
      pilot,
      {
        topic: source.topic,
        processor: { kind: 'gridrec', center: 'message', output },
        until: 'drained'
      },
      test.service
    );
    const [produced, processed] = await Promise.all([source.done(), sink.done()]);
    expect(produced).toMatchObject({ state: 'ended', produced: 4 });
    expect(processed).toMatchObject({ state: 'ended', processed: 4, lost: 0, duplicated: 0 });

    const offline = join(test.home, 'offline.npy');
    await run(process.execPath, [
      distModule('cli/main.js'),
      'recon',
      tooth,
      '--algorithm',
      'gridrec',
      '--center',
      '296',
      '--output',
      offline
    ]);
    const expected = await readNpy(offline);
    const files = (await readdir(output)).filter(name => name.endsWith('.npy'));
    expect(files).toHaveLength(4);
    const pixels = 640 * 640;
    for (const name of files) {
      const row = Number(/row(\d+)\.npy$/.exec(name)![1]);
      const streamed = await readNpy(join(output, name));
      expect(streamed.shape).toEqual([1, 640, 640]);
      let worst = 0;
      for (let i = 0; i < pixels; i++)
        worst = Math.max(worst, Math.abs(streamed.data[i]! - expected.data[row * pixels + i]!));
      expect(worst, `${name} vs offline row ${row}`).toBeLessThanOrEqual(1e-6);
    }
    await expectNothingRunning(pilot, source.runId);
    await expectNothingRunning(pilot, sink.runId);
  });

  it('delivers 10,000 messages of 4 producers at 200 msg/s, none lost or duplicated', async () => {
    const sink = await masa(
      pilot,
      { topic: 'steady', processor: 'count', consumers: 2, until: 'drained', partitions: 4 },
      test.service
    );
    const source = await mass(
      pilot,
      {
        source: { kind: 'synthetic-bytes', size: 1000 },
        topic: 'steady',
        rate: 200,
        producers: 4,
        messages: 10_000,
        // The two consumers hold both cores of this machine; paced producers mostly wait.
        unitCores: 0
      },
      test.service
    );
    const [produced, processed] = await Promise.all([source.done(), sink.done()]);
    expect(produced).toMatchObject({ state: 'ended', produced: 10_000 });
    expect(processed).toMatchObject({ state: 'ended', processed: 10_000, lost: 0, duplicated: 0 });

    // 30 s in the middle of the run, away from the start-up and the last partial second.
    const record = await readRunRecord(produced.record!.recordPath);
    const busy = record.rates.filter(w => w.producedMessages > 0);
    const middle = busy.slice(5, 35);
    expect(middle).toHaveLength(30);
    const rate = middle.reduce((n, w) => n + w.producedMessages, 0) / 30;
    console.log(`produced ${rate.toFixed(1)} msg/s over 30 s (requested 200)`);
    expect(Math.abs(rate - 200) / 200).toBeLessThanOrEqual(0.05);
    expect(record.producers.map(p => p.messages).sort()).toEqual([2500, 2500, 2500, 2500]);
  });

  it('follows a ramp profile within 10 % per 5 s window', async () => {
    const profile = { kind: 'ramp', from: 20, to: 120, over: 30 };
    const source = await mass(
      pilot,
      {
        source: { kind: 'synthetic-bytes', size: 1000 },
        rate: profile,
        producers: 2,
        duration: 35
      },
      test.service
    );
    const summary = await source.done();
    const record = await readRunRecord(summary.record!.recordPath);
    // t = 0 of the profile is the producers' shared start; windows are whole clock seconds.
    const startMs = record.description.producersStartMs as number;
    const first = record.rates.findIndex(w => w.startMs + w.durationMs > startMs);
    // 5 s windows from the first whole second after t = 0 until the run's end at 35 s.
    const windows = record.rates.slice(first + 1);
    const canonical = parseRateProfile(profile);
    const lines: string[] = [];
    for (let i = 0; i + 5 <= windows.length; i += 5) {
      const sent = windows.slice(i, i + 5).reduce((n, w) => n + w.producedMessages, 0);
      const from = (windows[i]!.startMs - startMs) / 1000;
      if (from + 5 > 35) break;
      const due = expectedCount(canonical, from, from + 5);
      lines.push(
        `${from.toFixed(0)}-${(from + 5).toFixed(0)} s: ${sent} sent, ${due.toFixed(0)} due`
      );
      expect(Math.abs(sent - due) / due, lines.join('\n')).toBeLessThanOrEqual(0.1);
    }
    console.log(lines.join('\n'));
    expect(lines).toHaveLength(6);
  });

  it('keeps its records readable after the run', async () => {
    const records = await runRecords(pilot, test.service);
    expect(records.length).toBeGreaterThanOrEqual(5);
    for (const record of records) expect(record.id).toMatch(/^[0-9a-f-]{36}$/);
  });
});
