import type { ResourceAdaptor } from './adaptor.js';
import { ForkAdaptor } from './fork/adaptor.js';
import { slurmAdaptor } from './slurm/index.js';
import { sshAdaptor } from './ssh/index.js';

export type { JobStatus, LaunchSpec, ResourceAdaptor, ResourceRequest } from './adaptor.js';
export { ForkAdaptor } from './fork/adaptor.js';

/** The adaptor for a (validated) resource URL. */
export function adaptorFor(resource: string): ResourceAdaptor {
  const scheme = new URL(resource).protocol.replace(/:$/, '');
  switch (scheme) {
    case 'fork':
      return new ForkAdaptor();
    case 'ssh':
      return sshAdaptor(resource);
    case 'slurm':
    case 'slurm+ssh':
      return slurmAdaptor(resource);
    default:
      throw new Error(
        `No resource adaptor for ${resource}: expected fork://localhost, ssh://[user@]host[:port], slurm://localhost or slurm+ssh://[user@]host[:port]`
      );
  }
}
