import { describe, expect, it } from 'vitest';
import {
  daskConfigurationEnv,
  daskConfigurationProblems
} from '../../../src/frameworks/dask/configuration.js';

describe("a Dask pilot's configuration", () => {
  it('takes Dask configuration keys and gives them as DASK_* variables', () => {
    const configuration = {
      'distributed.scheduler.allowed-failures': 7,
      'distributed.worker.memory.target': 0.5,
      'distributed.scheduler.work-stealing': false,
      'array.chunk-size': '64MiB'
    };
    expect(daskConfigurationProblems(configuration)).toEqual([]);
    expect(daskConfigurationEnv(configuration)).toEqual({
      DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES: '7',
      DASK_DISTRIBUTED__WORKER__MEMORY__TARGET: '0.5',
      DASK_DISTRIBUTED__SCHEDULER__WORK_STEALING: 'False',
      DASK_ARRAY__CHUNK_SIZE: '64MiB'
    });
  });

  it('refuses keys that would undo its security, naming key, value and why', () => {
    for (const key of [
      'distributed.comm.require-encryption',
      'distributed.comm.tls.ca-file',
      'distributed.scheduler.http.routes',
      'distributed.worker.http.routes',
      'distributed.scheduler.dashboard.tls.cert',
      'distributed.scheduler.preload',
      'distributed.worker.preload-argv',
      'distributed.nanny.preload'
    ]) {
      expect(daskConfigurationProblems({ [key]: 'x' })).toEqual([
        {
          key: `configuration.${key}`,
          value: 'x',
          expected: expect.stringMatching(/^no value: the pilot sets distributed\.\S+\* itself/)
        }
      ]);
    }
    // "_" and "-" name the same Dask key: the reserved ones are caught both ways.
    expect(
      daskConfigurationProblems({ 'distributed.comm.require_encryption': false })
    ).toHaveLength(1);
  });

  it('refuses what is not a dotted Dask key, and multi-line values', () => {
    for (const key of ['allowed-failures', 'Distributed.scheduler.x', 'a..b', 'a.b__c', 'a.b c']) {
      expect(daskConfigurationProblems({ [key]: 1 })).toEqual([
        {
          key: `configuration.${key}`,
          value: 1,
          expected: expect.stringContaining('a Dask configuration key in dotted form')
        }
      ]);
    }
    expect(daskConfigurationProblems({ 'a.b': 'one\ntwo' })).toEqual([
      { key: 'configuration.a.b', value: 'one\ntwo', expected: 'a single-line value' }
    ]);
  });
});
