import { posix } from 'node:path';
import type {
  FlinkDetails,
  FrameworkDetails,
  PilotDescription,
  ValidationProblem
} from '../../protocol/index.js';
import { readPilotClientCredentials, type ClientCredentials } from '../certificates.js';
import { tlsDashboardTarget } from '../dashboard-target.js';
import type {
  CachedDistribution,
  ContextOptions,
  DashboardTarget,
  FrameworkManager,
  ProgressListener
} from '../plugin.js';
import { flinkConfigurationProblems } from './configuration.js';
import { FlinkContext } from './context.js';
import { cachedFlinkDistribution, ensureFlinkDistribution } from './distribution.js';
import { FLINK_TLS_DIR } from './tls.js';

function flinkDetails(details: FrameworkDetails): FlinkDetails {
  if (details.type !== 'flink') throw new Error(`Not a Flink pilot's details: ${details.type}`);
  return details;
}

/** Client side of Flink: the distribution from PyPI and Maven Central, a FlinkContext. */
export class FlinkManager implements FrameworkManager<FlinkContext> {
  readonly type = 'flink';
  private readonly cacheDir: string;

  constructor(options: { cacheDir: string }) {
    this.cacheDir = options.cacheDir;
  }

  validate(description: PilotDescription): ValidationProblem[] {
    return flinkConfigurationProblems(description.configuration);
  }

  async prepare(onProgress: ProgressListener): Promise<void> {
    await ensureFlinkDistribution({ cacheDir: this.cacheDir, onProgress });
  }

  distribution(onProgress: ProgressListener): Promise<CachedDistribution> {
    return cachedFlinkDistribution({ cacheDir: this.cacheDir, onProgress });
  }

  /** A SQL Gateway session and the JobManager's API with the pilot's certificate. */
  async getContext(details: FrameworkDetails, options: ContextOptions = {}): Promise<FlinkContext> {
    const flink = flinkDetails(details);
    const { credentials, workDir } = await this.credentials(flink.sqlGatewayAddress, options);
    return FlinkContext.open({
      details: flink,
      credentials,
      workDir,
      ...(options.socketFactory !== undefined ? { socketFactory: options.socketFactory } : {})
    });
  }

  /** The JobManager's web UI (mutual TLS, like its REST API), reached as the context is. */
  async dashboard(details: FrameworkDetails, options: ContextOptions): Promise<DashboardTarget> {
    const flink = flinkDetails(details);
    const { credentials } = await this.credentials(flink.restAddress, options);
    return tlsDashboardTarget(flink.restAddress, credentials, options.socketFactory);
  }

  private async credentials(
    address: string,
    options: ContextOptions
  ): Promise<{ credentials: ClientCredentials; workDir: string }> {
    const { workDir, readPilotFile } = options;
    if (workDir === undefined || readPilotFile === undefined) {
      throw new Error(
        `Flink at ${address} takes clients with the pilot's certificate only, and the pilot's work directory is not known to read it from`
      );
    }
    const credentials = await readPilotClientCredentials(
      posix.join(workDir, FLINK_TLS_DIR),
      readPilotFile,
      'Flink'
    );
    return { credentials, workDir };
  }
}
