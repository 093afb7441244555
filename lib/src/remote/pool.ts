import { RemoteConnection, type RemoteConnectionOptions } from './connection.js';
import { targetLabel, type SshTarget } from './target.js';

/** One RemoteConnection per user@host:port, shared by everything that talks to that resource. */
export class RemoteConnectionPool {
  private readonly connections = new Map<string, RemoteConnection>();

  /** The connection to `target`; options apply when it is first made. */
  get(target: SshTarget, options: RemoteConnectionOptions = {}): RemoteConnection {
    const key = targetLabel(target);
    let connection = this.connections.get(key);
    if (connection === undefined) {
      connection = new RemoteConnection(target, options);
      this.connections.set(key, connection);
    }
    return connection;
  }

  /** Closes every connection (a process ends cleanly only once they are closed). */
  async closeAll(): Promise<void> {
    const connections = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(connections.map(connection => connection.close()));
  }
}

/** The process-wide pool. */
export const remoteConnections = new RemoteConnectionPool();
