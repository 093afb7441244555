import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ensureKafkaDistribution,
  KAFKA_VERSION
} from '../../../src/frameworks/kafka/distribution.js';
import type { Progress } from '../../../src/frameworks/plugin.js';
import { testCacheDir } from '../../support/paths.js';

/**
 * A private cache seeded with the shared cache's Maven repository, so Maven really runs (with
 * checksum checks, into this cache) without downloading everything again.
 */
async function seededCache(): Promise<string> {
  const cache = await mkdtemp(join(tmpdir(), 'pilot-streaming-cache-'));
  await ensureKafkaDistribution({ cacheDir: testCacheDir() });
  await cp(join(testCacheDir(), 'maven-repository'), join(cache, 'maven-repository'), {
    recursive: true
  });
  return cache;
}

describe('Kafka distribution cache', () => {
  let cache: string;

  beforeEach(async () => {
    cache = await seededCache();
  });

  afterEach(async () => {
    await rm(cache, { recursive: true, force: true });
  });

  it('fetches once for two concurrent callers and is instant afterwards', async () => {
    const stages: [Progress[], Progress[]] = [[], []];
    const [first, second] = await Promise.all(
      stages.map(list =>
        ensureKafkaDistribution({ cacheDir: cache, onProgress: p => list.push(p) })
      )
    );
    expect(first).toEqual(second);
    expect(first!.version).toBe(KAFKA_VERSION);
    const fetched = stages.filter(list => list.some(p => p.stage.startsWith('Fetching Kafka')));
    const waited = stages.filter(list =>
      list.some(p => p.stage.startsWith('Waiting for another download'))
    );
    expect(fetched).toHaveLength(1);
    expect(waited).toHaveLength(1);

    const jars = await readdir(first!.libDir);
    expect(jars).toContain(`kafka_2.13-${KAFKA_VERSION}.jar`);
    expect(jars).toContain(`kafka-clients-${KAFKA_VERSION}.jar`);
    expect(jars.some(jar => jar.startsWith('log4j-slf4j-impl-'))).toBe(true);
    const marker = JSON.parse(
      await readFile(join(cache, 'kafka', KAFKA_VERSION, 'complete.json'), 'utf8')
    ) as {
      jars: { name: string }[];
    };
    expect(marker.jars.map(jar => jar.name).sort()).toEqual(
      jars.filter(j => j.endsWith('.jar')).sort()
    );
    // Nothing half-done is left: no staging directory, no lock.
    expect((await readdir(join(cache, 'kafka'))).sort()).toEqual([KAFKA_VERSION]);

    const started = Date.now();
    const again: Progress[] = [];
    await ensureKafkaDistribution({ cacheDir: cache, onProgress: p => again.push(p) });
    expect(Date.now() - started).toBeLessThan(500);
    expect(again).toEqual([]);
  });

  it('starts over after an interrupted download (no marker) and after a truncated jar', async () => {
    const versionDir = join(cache, 'kafka', KAFKA_VERSION);
    const jar = `kafka_2.13-${KAFKA_VERSION}.jar`;
    const sharedSize = (await stat(join(testCacheDir(), 'kafka', KAFKA_VERSION, 'libs', jar))).size;
    await mkdir(join(versionDir, 'libs'), { recursive: true });
    await writeFile(join(versionDir, 'libs', jar), 'half a jar');
    const distribution = await ensureKafkaDistribution({ cacheDir: cache });
    expect((await stat(join(distribution.libDir, jar))).size).toBe(sharedSize);

    // A jar cut short after the marker was written no longer counts as cached.
    await writeFile(join(distribution.libDir, jar), 'cut short');
    const stages: Progress[] = [];
    await ensureKafkaDistribution({ cacheDir: cache, onProgress: p => stages.push(p) });
    expect(stages.some(p => p.stage.startsWith('Fetching Kafka'))).toBe(true);
    expect((await stat(join(distribution.libDir, jar))).size).toBe(sharedSize);
  });

  it('names the version and Maven error when a release does not exist', async () => {
    await expect(
      ensureKafkaDistribution({ cacheDir: cache, version: '0.0.1-missing' })
    ).rejects.toThrow(
      /Maven could not fetch Kafka 0\.0\.1-missing \(exit code 1\):[\s\S]*kafka_2\.13:jar:0\.0\.1-missing/
    );
    const entries = await readdir(join(cache, 'kafka'));
    expect(entries.filter(name => name.includes('0.0.1-missing'))).toEqual([]);
  });
});
