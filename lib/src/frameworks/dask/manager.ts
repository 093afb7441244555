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
import { daskConfigurationProblems } from './configuration.js';
import { DaskContext } from './context.js';
import { BRIDGE_LAUNCH_FILE, type BridgeLaunch } from './bridge-launch.js';
import { cachedDaskDistribution, ensureDaskWheels } from './distribution.js';
import { DASK_TLS_DIR, daskClientFiles } from './tls.js';

/** Client side of Dask: the wheels from PyPI, and a DaskContext on a running pilot. */
export class DaskManager implements FrameworkManager<DaskContext> {
  readonly type = 'dask';
  private readonly cacheDir: string;

  constructor(options: { cacheDir: string }) {
    this.cacheDir = options.cacheDir;
  }

  validate(description: PilotDescription): ValidationProblem[] {
    return daskConfigurationProblems(description.configuration);
  }

  async prepare(onProgress: ProgressListener): Promise<void> {
    await ensureDaskWheels({ cacheDir: this.cacheDir, onProgress });
  }

  distribution(onProgress: ProgressListener): Promise<CachedDistribution> {
    return cachedDaskDistribution({ cacheDir: this.cacheDir, onProgress });
  }

  /**
   * A DaskContext whose bridge runs on the pilot's resource (started over its ssh connection, or
   * here for a pilot on this machine) with the pilot's client certificate.
   */
  async getContext(details: FrameworkDetails, options: ContextOptions = {}): Promise<DaskContext> {
    if (details.type !== 'dask') throw new Error(`Not a Dask pilot's details: ${details.type}`);
    const { workDir, readPilotFile } = pilotFiles(details.schedulerAddress, options);
    const bridge = await readBridgeLaunch(workDir, readPilotFile);
    const files = daskClientFiles(posix.join(workDir, DASK_TLS_DIR));
    return DaskContext.open({
      argv: [
        bridge.python,
        '-u',
        bridge.script,
        details.schedulerAddress,
        files.ca,
        files.cert,
        files.key
      ],
      schedulerAddress: details.schedulerAddress,
      ...(options.startProcess !== undefined ? { start: options.startProcess } : {})
    });
  }

  /** The scheduler's dashboard (mutual TLS, as the scheduler), reached as the context is. */
  async dashboard(
    details: FrameworkDetails,
    options: ContextOptions
  ): Promise<DashboardTarget | undefined> {
    if (details.type !== 'dask' || details.dashboardAddress === undefined) return undefined;
    const { workDir, readPilotFile } = pilotFiles(details.dashboardAddress, options);
    const credentials = await readPilotClientCredentials(
      posix.join(workDir, DASK_TLS_DIR),
      readPilotFile,
      'Dask'
    );
    return tlsDashboardTarget(details.dashboardAddress, credentials, options.socketFactory);
  }
}

/** Where a Dask pilot's client certificate is read from, which its endpoints require. */
function pilotFiles(
  endpoint: string,
  options: ContextOptions
): Required<Pick<ContextOptions, 'workDir' | 'readPilotFile'>> {
  const { workDir, readPilotFile } = options;
  if (workDir === undefined || readPilotFile === undefined) {
    throw new Error(
      `Dask at ${endpoint} takes clients with the pilot's certificate only, and the pilot's work directory is not known to read it from`
    );
  }
  return { workDir, readPilotFile };
}

/** How the pilot's supervisor says its bridge runs there (see DaskBootstrap). */
async function readBridgeLaunch(
  workDir: string,
  read: (path: string) => Promise<Buffer>
): Promise<BridgeLaunch> {
  const path = posix.join(workDir, BRIDGE_LAUNCH_FILE);
  try {
    return JSON.parse((await read(path)).toString('utf8')) as BridgeLaunch;
  } catch (error) {
    throw new Error(
      `Cannot read how to start the pilot's Dask bridge from ${path}: ${(error as Error).message}`,
      {
        cause: error
      }
    );
  }
}
