import { describe, expect, it } from 'vitest';
import {
  sparkConfigurationArgs,
  sparkConfigurationProblems
} from '../../../src/frameworks/spark/configuration.js';

describe('Spark pilot configuration', () => {
  it("takes Spark properties and gives them to the application as spark-submit's --conf", () => {
    const configuration = { 'spark.executor.memory': '2g', 'spark.sql.shuffle.partitions': 8 };
    expect(sparkConfigurationProblems(configuration)).toEqual([]);
    expect(sparkConfigurationArgs(configuration)).toEqual([
      '--conf',
      'spark.executor.memory=2g',
      '--conf',
      'spark.sql.shuffle.partitions=8'
    ]);
  });

  it('refuses what would undo the pilot’s security or move its endpoints, naming the key', () => {
    const refused = [
      'spark.authenticate',
      'spark.authenticate.secret',
      'spark.network.crypto.enabled',
      'spark.ssl.ui.enabled',
      'spark.connect.authenticate.token',
      'spark.connect.grpc.binding.address',
      'spark.master.rest.enabled',
      'spark.ui.filters',
      'spark.master'
    ];
    const problems = sparkConfigurationProblems(Object.fromEntries(refused.map(key => [key, 'x'])));
    expect(problems.map(problem => problem.key)).toEqual(
      refused.map(key => `configuration.${key}`)
    );
    for (const problem of problems) expect(problem.expected).toMatch(/^no value: the pilot sets/);
    // Names that only start alike are the user's.
    expect(sparkConfigurationProblems({ 'spark.authenticateLater': 'x' })).toHaveLength(0);
    expect(sparkConfigurationProblems({ 'spark.master.ui.title': 'x' })).toEqual([]);
  });

  it('refuses keys that are not Spark properties and multi-line values', () => {
    expect(sparkConfigurationProblems({ 'executor.memory': '2g' })).toEqual([
      {
        key: 'configuration.executor.memory',
        value: '2g',
        expected: expect.stringMatching(/^a Spark property/)
      }
    ]);
    expect(sparkConfigurationProblems({ 'spark.app.name': 'a\nspark.authenticate=false' })).toEqual(
      [
        {
          key: 'configuration.spark.app.name',
          value: 'a\nspark.authenticate=false',
          expected: 'a single-line value'
        }
      ]
    );
  });
});
