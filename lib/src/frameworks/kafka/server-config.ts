import type { ValidationProblem } from '../../protocol/index.js';
import { brokerSettingProblem, namesPlugin } from './broker-config-check.js';
import { clientProperties } from './tls.js';

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
  'metadata.log.dir',
  // The pilot's own TLS: its key and trust stores, and that every peer shows a certificate.
  'security.inter.broker.protocol',
  'ssl.client.auth',
  'ssl.keystore.type',
  'ssl.keystore.location',
  'ssl.keystore.password',
  'ssl.keystore.key',
  'ssl.keystore.certificate.chain',
  'ssl.key.password',
  'ssl.truststore.type',
  'ssl.truststore.location',
  'ssl.truststore.password',
  'ssl.truststore.certificates'
]);

/** Pilot options carried in the configuration next to Kafka's own keys. */
export const HEAP_KEY = 'pilot.heap';
const DEFAULT_HEAP = '512m';
const HEAP_PATTERN = /^[1-9]\d*[kmg]$/i;
/**
 * How the pilot's listeners are secured: "tls" (default; mutual TLS with the pilot's own
 * certificates) or "plaintext" (anyone who reaches a broker may read and write every topic).
 */
export const SECURITY_KEY = 'pilot.security';
export const SECURITY_CHOICES = ['tls', 'plaintext'] as const;
export type KafkaSecurity = (typeof SECURITY_CHOICES)[number];
const PILOT_OPTIONS = [HEAP_KEY, SECURITY_KEY];

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
    } else if (key.startsWith('pilot.') && !PILOT_OPTIONS.includes(key)) {
      problems.push({
        key: where,
        value,
        expected: `a known pilot option (${PILOT_OPTIONS.join(', ')})`
      });
    } else if (key === HEAP_KEY && !HEAP_PATTERN.test(String(value))) {
      problems.push({ key: where, value, expected: 'a JVM heap size such as "512m" or "2g"' });
    } else if (key === SECURITY_KEY && !(SECURITY_CHOICES as readonly unknown[]).includes(value)) {
      problems.push({
        key: where,
        value,
        expected: `${SECURITY_CHOICES.map(choice => `"${choice}"`).join(' or ')} (default "tls")`
      });
    } else if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(key)) {
      problems.push({
        key: where,
        value,
        expected: 'a Kafka property name of letters, digits, ".", "_" or "-"'
      });
    } else if (typeof value === 'string' && /[\r\n]/.test(value)) {
      problems.push({ key: where, value, expected: 'a single-line value' });
    } else if (!PILOT_OPTIONS.includes(key)) {
      const expected = brokerSettingProblem(key, value, plugin);
      if (expected !== undefined) problems.push({ key: where, value, expected });
    }
  }
  return problems;
}

/** The listeners' security a configuration asks for (validated before: see above). */
export function securityOf(configuration: Configuration): KafkaSecurity {
  return configuration[SECURITY_KEY] === 'plaintext' ? 'plaintext' : 'tls';
}

/** What a pilot asking for plaintext listeners is told (the supervisor logs it too). */
export function plaintextWarning(pilotId: string): string {
  return `Kafka pilot ${pilotId} listens PLAINTEXT (${SECURITY_KEY}=plaintext): anyone who reaches its brokers can read and write every topic`;
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
  /**
   * The pilot's TLS directory (see tls.ts): every listener, the controller's included, then
   * takes TLS connections only from peers with a certificate of the pilot's authority. Without
   * it the listeners are PLAINTEXT, which a pilot gets only on explicit request.
   */
  tlsDir?: string;
}): string {
  const { host, brokerPort, controllerPort, roles } = options;
  if (roles !== 'broker' && controllerPort === undefined) {
    throw new Error(`Kafka node ${options.nodeId} runs a controller but has no controller port`);
  }
  const controllerListener =
    roles === 'broker' ? '' : `,CONTROLLER://${host}:${String(controllerPort)}`;
  const protocol = options.tlsDir === undefined ? 'PLAINTEXT' : 'SSL';
  const ours: Record<string, string> = {
    'process.roles': roles,
    'node.id': String(options.nodeId),
    'controller.quorum.voters': votersProperty(options.voters),
    listeners: `${protocol}://${host}:${brokerPort}${controllerListener}`,
    'advertised.listeners': `${protocol}://${host}:${brokerPort}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': protocol,
    'listener.security.protocol.map': `${protocol}:${protocol},CONTROLLER:${protocol}`,
    'log.dirs': options.dataDir
  };
  if (options.tlsDir !== undefined) {
    // The broker's key store serves its listeners and is its certificate as a client of the
    // other brokers and the controllers; security.protocol is a client setting, not the broker's.
    const stores = clientProperties(options.tlsDir);
    delete stores['security.protocol'];
    Object.assign(ours, stores, { 'ssl.client.auth': 'required' });
  }
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
