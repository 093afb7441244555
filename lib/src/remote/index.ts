export {
  CommandError,
  HostKeyError,
  RemoteConnection,
  type ExecOptions,
  type ExecResult,
  type RemoteConnectionOptions
} from './connection.js';
export { LocalHost, type Host } from './host.js';
export { fingerprint, parseKnownHosts, verifyHostKey } from './known-hosts.js';
export { RemoteConnectionPool, remoteConnections } from './pool.js';
export { shellCommand, shellQuote } from './shell-quote.js';
export { parseSshTarget, targetLabel, type SshTarget } from './target.js';
export { TunnelSocket } from './tunnel-socket.js';
export { tunnelSocketFactory } from './socket-factory.js';
