import type { CachedDistribution, ProgressListener } from '../plugin.js';
import {
  cachedMavenDistribution,
  ensureMavenDistribution,
  mavenDependency,
  type MavenDistribution,
  type MavenDistributionSpec
} from '../maven-distribution.js';

/**
 * The Kafka release pilots run: the newest 4.x whose artifacts are all on Maven Central
 * (4.4.0's kafka-tools-api is missing there, so it does not resolve).
 */
export const KAFKA_VERSION = '4.3.1';
const SCALA_VERSION = '2.13';
/** Kafka logs through SLF4J 1.7; this binding sends it to log4j2 like Kafka's own tarball does. */
const LOG4J_VERSION = '2.25.4';

export type KafkaDistribution = MavenDistribution;

function kafkaSpec(version: string): MavenDistributionSpec {
  return {
    name: 'Kafka',
    version,
    directory: 'kafka',
    dependencies: [
      mavenDependency('org.apache.kafka', `kafka_${SCALA_VERSION}`, version),
      // Kafka's admin tools (partition reassignment, leader election, cluster membership): their
      // other dependencies are the broker's, plus Kafka Connect's, which those tools do not use.
      mavenDependency('org.apache.kafka', 'kafka-tools', version, { alone: true }),
      mavenDependency('org.apache.logging.log4j', 'log4j-slf4j-impl', LOG4J_VERSION)
    ].join('\n'),
    // A cache fetched before the admin tools were part of the distribution is fetched again.
    accepts: jars => jars.includes(`kafka-tools-${version}.jar`)
  };
}

/**
 * Kafka's jars in `<cacheDir>/kafka/<version>/libs`, fetched once from Maven Central with checksum
 * verification (see maven-distribution).
 */
export function ensureKafkaDistribution(options: {
  cacheDir: string;
  version?: string;
  onProgress?: ProgressListener;
}): Promise<KafkaDistribution> {
  return ensureMavenDistribution(kafkaSpec(options.version ?? KAFKA_VERSION), options);
}

/** The cached distribution as a resource's cache gets it (after ensureKafkaDistribution). */
export function cachedKafkaDistribution(options: {
  cacheDir: string;
  onProgress?: ProgressListener;
}): Promise<CachedDistribution> {
  return cachedMavenDistribution(kafkaSpec(KAFKA_VERSION), options);
}
