import { posix } from 'node:path';
import type {
  FrameworkDetails,
  PilotDescription,
  ValidationProblem
} from '../../protocol/index.js';
import { readPilotClientCredentials } from '../certificates.js';
import { tlsDashboardTarget } from '../dashboard-target.js';
import type {
  CachedDistribution,
  ContextOptions,
  DashboardTarget,
  FrameworkManager,
  ProgressListener
} from '../plugin.js';
import { CONNECT_TOKEN_FILE, SPARK_DIR } from './bootstrap.js';
import { sparkConfigurationProblems } from './configuration.js';
import { SparkContext } from './context.js';
import {
  cachedSparkDistribution,
  ensureSparkDistribution,
  sparkConnectProtos
} from './distribution.js';
import { SPARK_TLS_DIR } from './tls.js';

/** Client side of Spark: the jars from Maven Central, and a SparkContext on a running pilot. */
export class SparkManager implements FrameworkManager<SparkContext> {
  readonly type = 'spark';
  private readonly cacheDir: string;

  constructor(options: { cacheDir: string }) {
    this.cacheDir = options.cacheDir;
  }

  validate(description: PilotDescription): ValidationProblem[] {
    return sparkConfigurationProblems(description.configuration);
  }

  async prepare(onProgress: ProgressListener): Promise<void> {
    await ensureSparkDistribution({ cacheDir: this.cacheDir, onProgress });
  }

  distribution(onProgress: ProgressListener): Promise<CachedDistribution> {
    return cachedSparkDistribution({ cacheDir: this.cacheDir, onProgress });
  }

  /** A Spark Connect session with the pilot's certificate and token (read where the pilot is). */
  async getContext(details: FrameworkDetails, options: ContextOptions = {}): Promise<SparkContext> {
    if (details.type !== 'spark') throw new Error(`Not a Spark pilot's details: ${details.type}`);
    const { workDir, readPilotFile } = options;
    if (workDir === undefined || readPilotFile === undefined) {
      throw new Error(
        `Spark Connect at ${details.connectAddress} takes clients with the pilot's certificate and token only, and the pilot's work directory is not known to read them from`
      );
    }
    const tokenPath = posix.join(workDir, SPARK_DIR, CONNECT_TOKEN_FILE);
    const [credentials, token, distribution] = await Promise.all([
      readPilotClientCredentials(posix.join(workDir, SPARK_TLS_DIR), readPilotFile, 'Spark'),
      readPilotFile(tokenPath).then(
        content => content.toString('utf8').trim(),
        (error: unknown) => {
          throw new Error(
            `Cannot read the pilot's Spark Connect token ${tokenPath}: ${(error as Error).message}`,
            { cause: error }
          );
        }
      ),
      ensureSparkDistribution({ cacheDir: this.cacheDir })
    ]);
    return SparkContext.open({
      connectAddress: details.connectAddress,
      token,
      credentials,
      protoDir: await sparkConnectProtos(distribution),
      masterUi: tlsDashboardTarget(details.masterUiAddress, credentials, options.socketFactory),
      ...(options.socketFactory !== undefined ? { socketFactory: options.socketFactory } : {})
    });
  }

  /** The master's web UI (mutual TLS, as the master), reached as the context is. */
  async dashboard(details: FrameworkDetails, options: ContextOptions): Promise<DashboardTarget> {
    if (details.type !== 'spark') throw new Error(`Not a Spark pilot's details: ${details.type}`);
    const { workDir, readPilotFile } = options;
    if (workDir === undefined || readPilotFile === undefined) {
      throw new Error(
        `The Spark UI at ${details.masterUiAddress} takes clients with the pilot's certificate only, and the pilot's work directory is not known to read it from`
      );
    }
    const credentials = await readPilotClientCredentials(
      posix.join(workDir, SPARK_TLS_DIR),
      readPilotFile,
      'Spark'
    );
    return tlsDashboardTarget(details.masterUiAddress, credentials, options.socketFactory);
  }
}
