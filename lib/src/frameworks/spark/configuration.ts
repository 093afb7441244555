import type { PilotDescription, ValidationProblem } from '../../protocol/index.js';

/**
 * A Spark pilot's `configuration` holds Spark properties (`spark.executor.memory`, ...), given
 * to its Connect server's application. Those that would undo the pilot's security or move its
 * endpoints are refused, naming the key.
 */

/** Reserved with everything below them ("spark.authenticate" and "spark.authenticate.secret"). */
const RESERVED_TREES = [
  'spark.authenticate',
  'spark.network.crypto',
  'spark.io.encryption',
  'spark.ssl',
  'spark.connect.authenticate',
  'spark.connect.grpc.binding',
  'spark.master.rest',
  'spark.acls',
  'spark.redaction'
];
/** Reserved as exactly these keys. */
const RESERVED_KEYS = [
  'spark.master',
  'spark.ui.filters',
  'spark.ui.view.acls',
  'spark.driver.host',
  'spark.driver.bindAddress',
  // Keep executors' temporary files in the pilot's directory (extraJavaOptions stay the user's).
  'spark.executor.defaultJavaOptions'
];

/** The reserved key or tree (as "tree.*") that `key` falls under, if any. */
function reservedBy(key: string): string | undefined {
  if (RESERVED_KEYS.includes(key)) return key;
  const tree = RESERVED_TREES.find(root => key === root || key.startsWith(`${root}.`));
  return tree !== undefined ? `${tree}*` : undefined;
}

export function sparkConfigurationProblems(
  configuration: PilotDescription['configuration']
): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  for (const [key, value] of Object.entries(configuration ?? {})) {
    const where = `configuration.${key}`;
    const reserved = reservedBy(key);
    if (!/^spark\.[A-Za-z0-9_.-]+$/.test(key)) {
      problems.push({
        key: where,
        value,
        expected: 'a Spark property, e.g. "spark.executor.memory" or "spark.sql.shuffle.partitions"'
      });
    } else if (reserved !== undefined) {
      problems.push({
        key: where,
        value,
        expected: `no value: the pilot sets ${reserved} itself (its secret, TLS, token, endpoints and temporary directory)`
      });
    } else if (typeof value === 'string' && /[\r\n\0]/.test(value)) {
      problems.push({ key: where, value, expected: 'a single-line value' });
    }
  }
  return problems;
}

/** The configuration as `--conf key=value` arguments of spark-submit. */
export function sparkConfigurationArgs(configuration: PilotDescription['configuration']): string[] {
  return Object.entries(configuration ?? {}).flatMap(([key, value]) => [
    '--conf',
    `${key}=${String(value)}`
  ]);
}
