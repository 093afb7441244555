import {
  ValidationError,
  type PilotDescription,
  type ValidationProblem
} from '../../protocol/index.js';
import type { FlinkStores } from './tls.js';

/**
 * A Flink pilot's config.yaml, which its JobManager, TaskManagers and SQL Gateway read: the
 * pilot's own settings (addresses, Flink-chosen ports, TLS with its secrets) and the Flink
 * options of the description's `configuration`, except those that would undo the pilot's
 * security or move its endpoints, which are refused naming the key.
 */

type ConfigValue = string | number | boolean;

/**
 * The module options Flink 2.3's own conf/config.yaml gives every JVM (env.java.opts.all) for
 * Java 17+; the pilot's config.yaml replaces that file, so it carries them.
 */
export const FLINK_JAVA_MODULE_OPTIONS = [
  '--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED',
  '--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED',
  '--add-opens=java.base/java.lang=ALL-UNNAMED',
  '--add-opens=java.base/java.net=ALL-UNNAMED',
  '--add-opens=java.base/java.io=ALL-UNNAMED',
  '--add-opens=java.base/java.nio=ALL-UNNAMED',
  '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
  '--add-opens=java.base/java.lang.reflect=ALL-UNNAMED',
  '--add-opens=java.base/java.text=ALL-UNNAMED',
  '--add-opens=java.base/java.time=ALL-UNNAMED',
  '--add-opens=java.base/java.util=ALL-UNNAMED',
  '--add-opens=java.base/java.util.concurrent=ALL-UNNAMED',
  '--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED',
  '--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED'
] as const;

/** Reserved with everything below them ("security.ssl" and "security.ssl.rest.enabled"). */
const RESERVED_TREES = [
  // TLS of RPC, blob, data and REST, with the pilot's stores and password.
  'security.ssl',
  // Where the JobManager listens and TaskManagers find it (its port is Flink's choice).
  'jobmanager.rpc',
  'taskmanager.rpc',
  // The SQL Gateway's endpoint: its address, its Flink-chosen port, and its type.
  'sql-gateway.endpoint',
  // The pilot's JobManager is its leader; another leader election would move it.
  'high-availability',
  // Reporters such as Prometheus's listen unauthenticated on every interface.
  'metrics.reporter',
  // Scripts' settings: the pilot's directories and its JVMs' module and temporary-file options.
  'env'
];
/** Reserved as exactly these keys. */
const RESERVED_KEYS = [
  'jobmanager.bind-host',
  'taskmanager.host',
  'taskmanager.bind-host',
  // Its pilot and node: how a child's TaskManagers are known when they leave.
  'taskmanager.resource-id',
  'taskmanager.data.port',
  'taskmanager.data.bind-port',
  'taskmanager.collect-sink.port',
  'blob.server.port',
  'metrics.internal.query-service.port',
  'metrics.reporters',
  'rest.address',
  'rest.bind-address',
  'rest.port',
  'rest.bind-port',
  // Switches that turn TLS off for one kind of connection.
  'taskmanager.data.ssl.enabled',
  'blob.service.ssl.enabled',
  'pekko.ssl.enabled',
  'akka.ssl.enabled',
  // The gateway runs statements on the pilot's cluster, not elsewhere.
  'execution.target'
];
/** Under "env": JVM options of one kind of process stay the user's. */
const USER_ENV_KEYS = [
  'env.java.opts.jobmanager',
  'env.java.opts.taskmanager',
  'env.java.opts.sql-gateway'
];

const KEY_PATTERN = /^[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)+$/;

/** The reserved key or tree (as "tree.*") that `key` falls under, if any. */
function reservedBy(key: string): string | undefined {
  if (RESERVED_KEYS.includes(key)) return key;
  if (USER_ENV_KEYS.includes(key)) return undefined;
  const tree = RESERVED_TREES.find(root => key === root || key.startsWith(`${root}.`));
  return tree !== undefined ? `${tree}.*` : undefined;
}

export function flinkConfigurationProblems(
  configuration: PilotDescription['configuration']
): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  for (const [key, value] of Object.entries(configuration ?? {})) {
    const where = `configuration.${key}`;
    const reserved = reservedBy(key);
    if (!KEY_PATTERN.test(key)) {
      problems.push({
        key: where,
        value,
        expected:
          'a Flink option, e.g. "taskmanager.memory.process.size" or "table.exec.resource.default-parallelism"'
      });
    } else if (reserved !== undefined) {
      problems.push({
        key: where,
        value,
        expected: `no value: the pilot sets ${reserved} itself (its TLS and secrets, its addresses and Flink-chosen ports, its directories and JVM options)`
      });
    } else if (typeof value === 'string' && /[\r\n\0]/.test(value)) {
      problems.push({ key: where, value, expected: 'a single-line value' });
    } else if (typeof value === 'number' && !Number.isFinite(value)) {
      problems.push({ key: where, value, expected: 'a finite number' });
    }
  }
  return problems;
}

/** What the pilot's configuration needs from its bootstrap. */
export interface FlinkClusterSettings {
  /** The first node's address: the JobManager's and SQL Gateway's. */
  address: string;
  stores: FlinkStores;
  slotsPerTaskManager: number;
  configuration: PilotDescription['configuration'];
}

/**
 * The pilot's options: defaults the description may change, its `configuration`, then the
 * pilot's own settings. TaskManagers add their node's address on their command line.
 */
export function flinkOptions(settings: FlinkClusterSettings): Record<string, ConfigValue> {
  const problems = flinkConfigurationProblems(settings.configuration);
  // The manager refuses such a description first; a bootstrap never runs with one.
  if (problems.length > 0) throw new ValidationError('Flink configuration', problems);
  const { address, stores } = settings;
  const ssl = (scope: 'internal' | 'rest'): Record<string, ConfigValue> => ({
    [`security.ssl.${scope}.enabled`]: true,
    [`security.ssl.${scope}.keystore`]: stores.keyStore,
    [`security.ssl.${scope}.keystore-type`]: 'PKCS12',
    [`security.ssl.${scope}.keystore-password`]: stores.password,
    [`security.ssl.${scope}.key-password`]: stores.password,
    [`security.ssl.${scope}.truststore`]: stores.trustStore,
    [`security.ssl.${scope}.truststore-type`]: 'PKCS12',
    [`security.ssl.${scope}.truststore-password`]: stores.password
  });
  return {
    'jobmanager.memory.process.size': '1024m',
    'taskmanager.memory.process.size': '1280m',
    'taskmanager.numberOfTaskSlots': settings.slotsPerTaskManager,
    ...settings.configuration,
    'env.java.opts.all': FLINK_JAVA_MODULE_OPTIONS.join(' '),
    'jobmanager.rpc.address': address,
    'jobmanager.bind-host': address,
    // Port 0: Flink binds a free port and logs it; TaskManagers are told it.
    'jobmanager.rpc.port': 0,
    'rest.address': address,
    'rest.bind-address': address,
    'rest.port': 0,
    'sql-gateway.endpoint.type': 'rest',
    'sql-gateway.endpoint.rest.address': address,
    'sql-gateway.endpoint.rest.bind-address': address,
    'sql-gateway.endpoint.rest.port': 0,
    'execution.target': 'remote',
    ...ssl('internal'),
    ...ssl('rest'),
    // Mutual TLS: REST clients (the gateway's of the JobManager included) present a
    // certificate of the pilot's authority.
    'security.ssl.rest.authentication-enabled': true,
    'security.ssl.protocol': 'TLSv1.3',
    'security.ssl.algorithms': 'TLS_AES_256_GCM_SHA384,TLS_AES_128_GCM_SHA256'
  };
}

/** One YAML scalar: strings double-quoted (JSON's escapes are YAML's), so no value is misread. */
function yamlScalar(key: string, value: ConfigValue): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new Error(`Flink option ${key} = ${value}: expected a finite number`);
  }
  return String(value);
}

/** config.yaml with one flattened key a line (Flink reads "a.b.c: v" as the nested form). */
export function renderConfigYaml(options: Record<string, ConfigValue>, header: string): string {
  const lines = Object.entries(options).map(([key, value]) => {
    if (!KEY_PATTERN.test(key)) throw new Error(`"${key}" is not a Flink option key`);
    return `${key}: ${yamlScalar(key, value)}`;
  });
  const comments = header.split('\n').map(line => `# ${line}`);
  return `${[...comments, ...lines].join('\n')}\n`;
}
