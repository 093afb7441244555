import type { RemoteConnectionOptions } from '../../remote/connection.js';
import { LocalHost } from '../../remote/host.js';
import { remoteConnections, type RemoteConnectionPool } from '../../remote/pool.js';
import { parseSshTarget } from '../../remote/target.js';
import { SlurmAdaptor } from './adaptor.js';

export { SlurmAdaptor } from './adaptor.js';
export { renderBatchScript } from './batch-script.js';
export { expandHostlist } from './hostlist.js';
export { mapSlurmState, SLURM_JOB_STATES, type SlurmJobState } from './states.js';

/**
 * The adaptor for `slurm://localhost` (SLURM commands on this machine) or
 * `slurm+ssh://[user@]host[:port]` (on a login node, through the pool's connection to it).
 */
export function slurmAdaptor(
  resource: string,
  options: {
    pool?: RemoteConnectionPool;
    connection?: RemoteConnectionOptions;
    /** Extra environment for local SLURM commands (e.g. SLURM_CONF). */
    localEnv?: Record<string, string>;
  } = {}
): SlurmAdaptor {
  const url = new URL(resource);
  if (url.protocol === 'slurm:') {
    if (url.hostname !== 'localhost') {
      throw new Error(
        `resource ${resource}: slurm:// runs SLURM's commands on this machine, so it is "slurm://localhost"; for a login node use slurm+ssh://[user@]host[:port]`
      );
    }
    return new SlurmAdaptor('slurm', new LocalHost(options.localEnv));
  }
  if (url.protocol === 'slurm+ssh:') {
    const pool = options.pool ?? remoteConnections;
    return new SlurmAdaptor('slurm+ssh', pool.get(parseSshTarget(resource), options.connection));
  }
  throw new Error(
    `resource ${resource}: expected slurm://localhost or slurm+ssh://[user@]host[:port]`
  );
}
