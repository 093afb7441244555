import type { ValidationProblem } from '../../protocol/index.js';
import { brokerSettingProblem, namesPlugin } from './broker-config-check.js';

/** Keys the pilot sets itself: overriding them would break the broker's listeners or storage. */
const RESERVED_KEYS = new Set([
  'process.roles',
  'node.id',
  'broker.id',
  'controller.quorum.voters',
  'controller.quorum.bootstrap.servers',
  'controller.listener.names',
  'listeners',
  'advertised.listeners',
  'inter.broker.listener.name',
  'listener.security.protocol.map',
  'log.dirs',
  'log.dir',
  'metadata.log.dir'
]);

/** Pilot options carried in the configuration next to Kafka's own keys. */
export const HEAP_KEY = 'pilot.heap';
const DEFAULT_HEAP = '512m';
const HEAP_PATTERN = /^[1-9]\d*[kmg]$/i;

type Configuration = Record<string, string | number | boolean>;

/**
 * Problems with the Kafka part of a description's configuration (empty when fine), found before
 * anything is launched: keys and values are checked against Kafka's own list of broker settings.
 */
export function kafkaConfigurationProblems(configuration: Configuration): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const plugin = namesPlugin(configuration);
  for (const [key, value] of Object.entries(configuration)) {
    const where = `configuration.${key}`;
    if (RESERVED_KEYS.has(key)) {
      problems.push({
        key: where,
        value,
        expected:
          'no value: the pilot sets this key itself (ports, node id and directories are per pilot)'
      });
    } else if (key.startsWith('pilot.') && key !== HEAP_KEY) {
      problems.push({ key: where, value, expected: `a known pilot option (${HEAP_KEY})` });
    } else if (key === HEAP_KEY && !HEAP_PATTERN.test(String(value))) {
      problems.push({ key: where, value, expected: 'a JVM heap size such as "512m" or "2g"' });
    } else if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(key)) {
      problems.push({
        key: where,
        value,
        expected: 'a Kafka property name of letters, digits, ".", "_" or "-"'
      });
    } else if (typeof value === 'string' && /[\r\n]/.test(value)) {
      problems.push({ key: where, value, expected: 'a single-line value' });
    } else if (key !== HEAP_KEY) {
      const expected = brokerSettingProblem(key, value, plugin);
      if (expected !== undefined) problems.push({ key: where, value, expected });
    }
  }
  return problems;
}

export function heapOf(configuration: Configuration): string {
  const heap = configuration[HEAP_KEY];
  return heap === undefined ? DEFAULT_HEAP : String(heap);
}

/** Java properties escaping for a value (backslashes, and leading spaces which would be lost). */
function escapeValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/^ /, '\\ ');
}

/** A KRaft controller of the pilot's quorum, as `controller.quorum.voters` names it. */
export interface QuorumVoter {
  nodeId: number;
  host: string;
  port: number;
}

/** `controller.quorum.voters`: "1@host:port,2@host:port". */
export function votersProperty(voters: readonly QuorumVoter[]): string {
  return voters.map(voter => `${voter.nodeId}@${voter.host}:${voter.port}`).join(',');
}

/**
 * server.properties for one Kafka node of a pilot (KRaft). Nodes of the pilot's own allocation
 * run combined (broker + controller) and together form the controller quorum; nodes added by an
 * extending child pilot run as brokers only and join that quorum as clients. `host` is the
 * address the node listens on and advertises.
 */
export function renderServerProperties(options: {
  nodeId: number;
  roles: 'broker,controller' | 'broker';
  host: string;
  brokerPort: number;
  /** Required for the controller role. */
  controllerPort?: number;
  voters: readonly QuorumVoter[];
  dataDir: string;
  configuration: Configuration;
}): string {
  const { host, brokerPort, controllerPort, roles } = options;
  if (roles !== 'broker' && controllerPort === undefined) {
    throw new Error(`Kafka node ${options.nodeId} runs a controller but has no controller port`);
  }
  const controllerListener =
    roles === 'broker' ? '' : `,CONTROLLER://${host}:${String(controllerPort)}`;
  const ours: Record<string, string> = {
    'process.roles': roles,
    'node.id': String(options.nodeId),
    'controller.quorum.voters': votersProperty(options.voters),
    listeners: `PLAINTEXT://${host}:${brokerPort}${controllerListener}`,
    'advertised.listeners': `PLAINTEXT://${host}:${brokerPort}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': options.dataDir
  };
  // Internal topics get one replica: a pilot's brokers live and die together (a lost broker
  // fails the pilot). Fewer offsets partitions than Kafka's 50 make the group coordinator ready
  // seconds sooner.
  const defaults: Record<string, string> = {
    'num.partitions': '1',
    'offsets.topic.num.partitions': '5',
    'offsets.topic.replication.factor': '1',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
    'group.initial.rebalance.delay.ms': '0'
  };
  const passed: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.configuration)) {
    if (!key.startsWith('pilot.')) passed[key] = String(value);
  }
  const lines = ['# Written by pilot-streaming for this pilot; edits are lost on restart.'];
  for (const [key, value] of Object.entries({ ...defaults, ...passed, ...ours })) {
    lines.push(`${key}=${escapeValue(value)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** log4j2 configuration: everything to standard output, which the supervisor sends to a file. */
export const LOG4J2_PROPERTIES = `rootLogger.level=INFO
rootLogger.appenderRef.stdout.ref=STDOUT
appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
logger.kafka.name=kafka
logger.kafka.level=INFO
logger.apache.name=org.apache.kafka
logger.apache.level=INFO
`;
