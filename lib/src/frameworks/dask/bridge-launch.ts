import { posix } from 'node:path';

/**
 * How a Dask pilot's bridge runs on its resource, written by its supervisor (which knows the
 * resource's Python environment and where the library is there) and read by the client that
 * starts a context: `<work dir>/dask/bridge.json`. Paths only, no secret.
 */
export interface BridgeLaunch {
  /** The interpreter of Dask's environment. */
  python: string;
  /** dask_bridge.py. */
  script: string;
}

export const BRIDGE_LAUNCH_FILE = posix.join('dask', 'bridge.json');
