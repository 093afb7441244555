import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MiniAppInputError } from '../../../../src/miniapps/errors.js';
import { LatencyHistogram } from '../../../../src/miniapps/metrics/latency.js';
import { RateSeries } from '../../../../src/miniapps/metrics/rates.js';
import {
  RUN_RECORD_VERSION,
  ratesCsv,
  readRunRecord,
  writeRunRecord,
  type RunRecord
} from '../../../../src/miniapps/metrics/run-record.js';

const START = Date.parse('2026-03-01T12:00:00.000Z');

function sampleRecord(overrides: Partial<RunRecord> = {}): RunRecord {
  const latency = new LatencyHistogram();
  for (let i = 1; i <= 100; i++) latency.record(i / 10);
  const rates = new RateSeries({ startMs: START });
  rates.addProduced(START + 100, 200, 200 * 1024);
  rates.addProcessed(START + 900, 150, 150 * 1024);
  rates.addProduced(START + 1100, 200, 200 * 1024);
  rates.addProcessed(START + 1500, 250, 250 * 1024);
  return {
    version: RUN_RECORD_VERSION,
    id: 'run-20260301-120000',
    description: { rate: { kind: 'fixed', rate: 200 }, messageBytes: 1024, producers: 2 },
    startedAt: new Date(START).toISOString(),
    endedAt: new Date(START + 2000).toISOString(),
    producers: [
      { id: 'producer-0', node: 'node1', messages: 200, bytes: 204_800, behind: 0, errors: 0 },
      { id: 'producer-1', messages: 200, bytes: 204_800, behind: 3, errors: 1 }
    ],
    consumers: [{ id: 'consumer-0', node: 'node2', messages: 400, bytes: 409_600, errors: 0 }],
    lost: 0,
    duplicated: 0,
    latency: latency.summary() ?? null,
    latencyHistogram: latency.toJSON(),
    rates: rates.windows(),
    errors: [{ at: new Date(START + 500).toISOString(), source: 'producer-1', message: 'timeout' }],
    ...overrides
  };
}

let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'run-record-'));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function expectRejection(promise: Promise<unknown>, message: string) {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason
  );
  expect(error).toBeInstanceOf(MiniAppInputError);
  expect((error as Error).message).toContain(message);
}

describe('writeRunRecord and readRunRecord', () => {
  it('round-trip a record', async () => {
    const record = sampleRecord();
    const paths = await writeRunRecord(directory, record);
    expect(paths).toEqual({
      recordPath: join(directory, 'run-20260301-120000.json'),
      csvPath: join(directory, 'run-20260301-120000.csv')
    });
    const back = await readRunRecord(paths.recordPath);
    expect(back).toEqual(record);
    expect(LatencyHistogram.fromJSON(back.latencyHistogram).percentile(50)).toBe(
      record.latency!.p50Ms
    );
    expect(await readdir(directory)).toEqual([
      'run-20260301-120000.csv',
      'run-20260301-120000.json'
    ]);
  });

  it('round-trips a record without latency', async () => {
    const record = sampleRecord({ latency: null, latencyHistogram: undefined, rates: [] });
    delete (record as { latencyHistogram?: unknown }).latencyHistogram;
    const { recordPath } = await writeRunRecord(join(directory, 'new', 'dir'), record);
    expect(await readRunRecord(recordPath)).toEqual(record);
  });

  it('writes the time series as CSV', async () => {
    const { csvPath } = await writeRunRecord(directory, sampleRecord());
    expect(await readFile(csvPath, 'utf8')).toBe(
      [
        'window_start_ms,seconds_since_start,produced_messages,produced_bytes,processed_messages,processed_bytes,produced_messages_per_s,processed_messages_per_s',
        `${START},0,200,204800,150,153600,200,150`,
        `${START + 1000},1,200,204800,250,256000,200,250`,
        ''
      ].join('\n')
    );
    expect(ratesCsv(sampleRecord({ rates: [] }))).toBe(
      'window_start_ms,seconds_since_start,produced_messages,produced_bytes,processed_messages,processed_bytes,produced_messages_per_s,processed_messages_per_s\n'
    );
  });

  it('replaces an old record and leaves no temporary file', async () => {
    await writeRunRecord(directory, sampleRecord());
    const { recordPath } = await writeRunRecord(directory, sampleRecord({ lost: 7 }));
    expect((await readRunRecord(recordPath)).lost).toBe(7);
    expect((await readdir(directory)).filter(name => name.endsWith('.tmp'))).toEqual([]);
  });

  it('a record that cannot be serialised changes nothing', async () => {
    const { recordPath, csvPath } = await writeRunRecord(directory, sampleRecord());
    const oldJson = await readFile(recordPath, 'utf8');
    const oldCsv = await readFile(csvPath, 'utf8');
    // Valid to the schema, but JSON.stringify throws on a BigInt.
    const unserialisable = sampleRecord({ lost: 9, rates: [], description: { seed: 10n } });
    await expect(writeRunRecord(directory, unserialisable)).rejects.toThrow(/BigInt/);
    expect(await readFile(recordPath, 'utf8')).toBe(oldJson);
    expect(await readFile(csvPath, 'utf8')).toBe(oldCsv);
    expect((await readdir(directory)).sort()).toEqual([
      'run-20260301-120000.csv',
      'run-20260301-120000.json'
    ]);
  });

  it('a write that fails after its temporary file was written leaves the old record', async () => {
    const { recordPath, csvPath } = await writeRunRecord(directory, sampleRecord());
    const oldJson = await readFile(recordPath, 'utf8');
    // A directory where the CSV goes: the rename of the written temporary file onto it fails.
    await rm(csvPath);
    await mkdir(join(csvPath, 'occupied'), { recursive: true });
    await expect(writeRunRecord(directory, sampleRecord({ lost: 9 }))).rejects.toThrow();
    expect(await readFile(recordPath, 'utf8')).toBe(oldJson);
    expect((await readRunRecord(recordPath)).lost).toBe(0);
    expect((await readdir(directory)).sort()).toEqual([
      'run-20260301-120000.csv',
      'run-20260301-120000.json'
    ]);
  });

  it('a failing rename of the record removes its temporary file', async () => {
    await mkdir(join(directory, 'run-20260301-120000.json', 'occupied'), { recursive: true });
    await expect(writeRunRecord(directory, sampleRecord())).rejects.toThrow();
    expect((await readdir(directory)).sort()).toEqual([
      'run-20260301-120000.csv',
      'run-20260301-120000.json'
    ]);
  });

  it('refuses an invalid record before writing anything', async () => {
    await expectRejection(
      writeRunRecord(directory, sampleRecord({ id: '../escape', lost: -1 })),
      'run record "../escape" is invalid: id = "../escape", expected a name of letters, digits'
    );
    await expectRejection(
      writeRunRecord(directory, sampleRecord({ lost: -1 })),
      'lost = -1, expected a value of at least 0'
    );
    expect(await readdir(directory)).toEqual([]);
  });
});

describe('readRunRecord errors', () => {
  it('names a missing record', async () => {
    const path = join(directory, 'absent.json');
    await expectRejection(readRunRecord(path), `no run record at ${path}: the file does not exist`);
  });

  it('names a file that is not JSON', async () => {
    const path = join(directory, 'broken.json');
    const { recordPath } = await writeRunRecord(directory, sampleRecord());
    const text = await readFile(recordPath, 'utf8');
    await writeFile(path, text.slice(0, text.length / 2));
    await expectRejection(readRunRecord(path), `run record ${path} is corrupt: not JSON (`);
  });

  it('names the bad fields of a corrupt record', async () => {
    const path = join(directory, 'bad.json');
    const corrupt: Record<string, unknown> = { ...sampleRecord(), duplicated: 'many' };
    delete corrupt.producers;
    await writeFile(path, JSON.stringify(corrupt));
    await expectRejection(readRunRecord(path), `run record ${path} is corrupt: `);
    await expectRejection(
      readRunRecord(path),
      'producers = missing, expected a value of type array'
    );
    await expectRejection(
      readRunRecord(path),
      'duplicated = "many", expected a value of type number'
    );
  });

  it('names a corrupt latency histogram', async () => {
    const path = join(directory, 'bad-histogram.json');
    const record = sampleRecord();
    await writeFile(
      path,
      JSON.stringify({ ...record, latencyHistogram: { ...record.latencyHistogram, count: 1 } })
    );
    await expectRejection(readRunRecord(path), 'latencyHistogram.count = 1: expected 100');
  });

  it('names another version', async () => {
    const path = join(directory, 'future.json');
    await writeFile(path, JSON.stringify({ ...sampleRecord(), version: 2 }));
    await expectRejection(
      readRunRecord(path),
      `run record ${path} has version = 2: expected version 1`
    );
  });

  it('names JSON that is not a record at all', async () => {
    const path = join(directory, 'null.json');
    await writeFile(path, 'null');
    await expectRejection(readRunRecord(path), `run record ${path} is corrupt:`);
  });
});
