import { posix } from 'node:path';
import { Kafka } from 'kafkajs';
import type {
  FrameworkDetails,
  KafkaDetails,
  PilotDescription,
  ValidationProblem
} from '../../protocol/index.js';
import type {
  CachedDistribution,
  ContextOptions,
  FrameworkManager,
  ProgressListener
} from '../plugin.js';
import { quietLogCreator, QUIET_LOG_LEVEL } from './client-logging.js';
import { cachedKafkaDistribution, ensureKafkaDistribution } from './distribution.js';
import { kafkaConfigurationProblems } from './server-config.js';
import { readClientCredentials, TLS_DIR, type KafkaClientCredentials } from './tls.js';

/**
 * kafkajs' `ssl` for a pilot whose listeners take TLS only: its client certificate, read from its
 * work directory (records never hold it). Empty for a PLAINTEXT pilot.
 */
export async function clientSecurity(
  details: KafkaDetails,
  options: Pick<ContextOptions, 'readPilotFile' | 'workDir'>
): Promise<{ ssl?: KafkaClientCredentials }> {
  if (details.security !== 'tls') return {};
  if (options.workDir === undefined || options.readPilotFile === undefined) {
    throw new Error(
      `Kafka at ${details.bootstrapServers.join(',')} takes TLS clients with the pilot's certificate only, and the pilot's work directory is not known to read it from`
    );
  }
  return {
    ssl: await readClientCredentials(posix.join(options.workDir, TLS_DIR), options.readPilotFile)
  };
}

/** Client side of the Kafka framework: checks, download, and the kafkajs context. */
export class KafkaManager implements FrameworkManager<Kafka> {
  readonly type = 'kafka';
  private readonly cacheDir: string;

  constructor(options: { cacheDir: string }) {
    this.cacheDir = options.cacheDir;
  }

  validate(description: PilotDescription): ValidationProblem[] {
    return kafkaConfigurationProblems(description.configuration);
  }

  async prepare(onProgress: ProgressListener): Promise<void> {
    await ensureKafkaDistribution({ cacheDir: this.cacheDir, onProgress });
  }

  distribution(onProgress: ProgressListener): Promise<CachedDistribution> {
    return cachedKafkaDistribution({ cacheDir: this.cacheDir, onProgress });
  }

  /** A kafkajs client for the pilot's broker, checked with a metadata request before returning. */
  async getContext(details: FrameworkDetails, options: ContextOptions = {}): Promise<Kafka> {
    if (details.type !== 'kafka') throw new Error(`Not a Kafka pilot's details: ${details.type}`);
    const kafka = new Kafka({
      clientId: 'pilot-streaming',
      ...(options.socketFactory !== undefined ? { socketFactory: options.socketFactory } : {}),
      ...(await clientSecurity(details, options)),
      brokers: details.bootstrapServers,
      logLevel: QUIET_LOG_LEVEL,
      logCreator: quietLogCreator
    });
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.describeCluster();
    } catch (error) {
      throw new Error(
        `Kafka at ${details.bootstrapServers.join(',')} does not answer: ${(error as Error).message}`,
        { cause: error }
      );
    } finally {
      await admin.disconnect();
    }
    return kafka;
  }
}
