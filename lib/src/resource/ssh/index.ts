import type { RemoteConnectionOptions } from '../../remote/connection.js';
import { remoteConnections, type RemoteConnectionPool } from '../../remote/pool.js';
import { parseSshTarget } from '../../remote/target.js';
import { SshAdaptor } from './adaptor.js';

export { SshAdaptor } from './adaptor.js';

/** The adaptor for `ssh://[user@]host[:port]`, on the pool's connection to that host. */
export function sshAdaptor(
  resource: string,
  options: { pool?: RemoteConnectionPool; connection?: RemoteConnectionOptions } = {}
): SshAdaptor {
  const pool = options.pool ?? remoteConnections;
  return new SshAdaptor(pool.get(parseSshTarget(resource), options.connection));
}
