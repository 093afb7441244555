import { posix } from 'node:path';
import type {
  FrameworkDetails,
  PilotDescription,
  ValidationProblem
} from '../../protocol/index.js';
import type {
  CachedDistribution,
  ContextOptions,
  FrameworkManager,
  ProgressListener
} from '../plugin.js';
import { DaskContext } from './context.js';
import { cachedDaskDistribution, ensureDaskEnvironment, ensureDaskWheels } from './distribution.js';
import { DASK_TLS_DIR, daskClientFiles } from './tls.js';

/** Client side of Dask: the wheels from PyPI, and a DaskContext on a running pilot. */
export class DaskManager implements FrameworkManager<DaskContext> {
  readonly type = 'dask';
  private readonly cacheDir: string;

  constructor(options: { cacheDir: string }) {
    this.cacheDir = options.cacheDir;
  }

  validate(description: PilotDescription): ValidationProblem[] {
    const problems: ValidationProblem[] = [];
    for (const [key, value] of Object.entries(description.configuration)) {
      problems.push({
        key: `configuration.${key}`,
        value,
        expected: 'no configuration for a Dask pilot (its settings are not taken yet)'
      });
    }
    if (description.parent !== undefined) {
      problems.push({
        key: 'parent',
        value: description.parent,
        expected: 'no parent: a Dask pilot cannot extend another pilot yet'
      });
    }
    return problems;
  }

  async prepare(onProgress: ProgressListener): Promise<void> {
    await ensureDaskWheels({ cacheDir: this.cacheDir, onProgress });
  }

  distribution(onProgress: ProgressListener): Promise<CachedDistribution> {
    return cachedDaskDistribution({ cacheDir: this.cacheDir, onProgress });
  }

  /**
   * A DaskContext whose bridge runs here with the pilot's client certificate, for a pilot on
   * this machine (its work directory is readable here).
   */
  async getContext(details: FrameworkDetails, options: ContextOptions = {}): Promise<DaskContext> {
    if (details.type !== 'dask') throw new Error(`Not a Dask pilot's details: ${details.type}`);
    if (options.socketFactory !== undefined) {
      throw new Error(
        `The Dask context of a pilot on a resource reached over ssh is not available yet (scheduler ${details.schedulerAddress})`
      );
    }
    if (options.workDir === undefined) {
      throw new Error(
        `Dask at ${details.schedulerAddress} takes clients with the pilot's certificate only, and the pilot's work directory is not known to read it from`
      );
    }
    const { python } = await ensureDaskEnvironment({
      cacheDir: this.cacheDir,
      onProgress: () => undefined
    });
    return DaskContext.open({
      python,
      schedulerAddress: details.schedulerAddress,
      files: daskClientFiles(posix.join(options.workDir, DASK_TLS_DIR))
    });
  }
}
