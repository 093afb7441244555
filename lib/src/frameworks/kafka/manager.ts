import { Kafka } from 'kafkajs';
import type {
  FrameworkDetails,
  PilotDescription,
  ValidationProblem
} from '../../protocol/index.js';
import type { ContextOptions, FrameworkManager, ProgressListener } from '../plugin.js';
import { quietLogCreator, QUIET_LOG_LEVEL } from './client-logging.js';
import { ensureKafkaDistribution } from './distribution.js';
import { kafkaConfigurationProblems } from './server-config.js';

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

  /** A kafkajs client for the pilot's broker, checked with a metadata request before returning. */
  async getContext(details: FrameworkDetails, options: ContextOptions = {}): Promise<Kafka> {
    const kafka = new Kafka({
      clientId: 'pilot-streaming',
      ...(options.socketFactory !== undefined ? { socketFactory: options.socketFactory } : {}),
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
