import type { ResourceAdaptor } from './adaptor.js';
import { ForkAdaptor } from './fork/adaptor.js';

export type { LaunchSpec, ResourceAdaptor } from './adaptor.js';
export { ForkAdaptor } from './fork/adaptor.js';

/** The adaptor for a (validated) resource URL. */
export function adaptorFor(resource: string): ResourceAdaptor {
  const scheme = new URL(resource).protocol.replace(/:$/, '');
  switch (scheme) {
    case 'fork':
      return new ForkAdaptor();
    default:
      throw new Error(`No resource adaptor for ${resource}: expected a fork:// URL`);
  }
}
