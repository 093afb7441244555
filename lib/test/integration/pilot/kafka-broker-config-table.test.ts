import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { libDir, testCacheDir } from '../../support/paths.js';

const run = promisify(execFile);

describe('the pre-launch check of Kafka settings', () => {
  it('uses a table that matches the list of broker settings Kafka itself prints', async () => {
    // The script asks kafka.server.KafkaConfig of the pilots' Kafka release for its list.
    const { stdout } = await run(
      process.execPath,
      [join(libDir, 'scripts', 'kafka-broker-configs.mjs'), '--check', '--cache', testCacheDir()],
      { timeout: 170_000 }
    );
    expect(stdout).toMatch(/^The table matches Kafka \d+\.\d+\.\d+'s \d+ broker settings\n$/);
  });
});
