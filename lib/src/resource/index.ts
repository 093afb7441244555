import type { RemoteConnectionPool } from '../remote/pool.js';
import type { ResourceAdaptor } from './adaptor.js';
import { ForkAdaptor } from './fork/adaptor.js';
import { slurmAdaptor } from './slurm/index.js';
import { sshAdaptor } from './ssh/index.js';

export type { JobStatus, LaunchSpec, ResourceAdaptor, ResourceRequest } from './adaptor.js';
export { ForkAdaptor } from './fork/adaptor.js';

/**
 * The adaptor for a (validated) resource URL; ssh-reached resources use `pool`'s connection
 * (the process-wide pool by default).
 */
export function adaptorFor(
  resource: string,
  options: { pool?: RemoteConnectionPool } = {}
): ResourceAdaptor {
  const scheme = new URL(resource).protocol.replace(/:$/, '');
  switch (scheme) {
    case 'fork':
      return new ForkAdaptor();
    case 'ssh':
      return sshAdaptor(resource, options);
    case 'slurm':
    case 'slurm+ssh':
      return slurmAdaptor(resource, options);
    default:
      throw new Error(
        `No resource adaptor for ${resource}: expected fork://localhost, ssh://[user@]host[:port], slurm://localhost or slurm+ssh://[user@]host[:port]`
      );
  }
}
