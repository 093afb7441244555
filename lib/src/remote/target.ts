import { userInfo } from 'node:os';

/** Where to connect: one ssh2 connection exists per target. */
export interface SshTarget {
  user: string;
  host: string;
  port: number;
}

/** "user@host:port", the key of the connection pool and the name used in messages. */
export function targetLabel(target: SshTarget): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `${target.user}@${host}:${target.port}`;
}

/**
 * The ssh target of a resource URL such as `ssh://alice@login.example.org:2222` or
 * `slurm+ssh://login`: the user defaults to the local user name and the port to 22.
 */
export function parseSshTarget(resource: string): SshTarget {
  let url: URL;
  try {
    url = new URL(resource);
  } catch (error) {
    throw new Error(
      `resource ${JSON.stringify(resource)} is not a URL: expected ssh://[user@]host[:port]`,
      { cause: error }
    );
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') {
    throw new Error(
      `resource ${JSON.stringify(resource)} names no host: expected ${url.protocol}//[user@]host[:port]`
    );
  }
  if (url.password !== '') {
    throw new Error(
      `resource ${JSON.stringify(resource)} holds a password: use a key or an ssh-agent instead`
    );
  }
  // WHATWG URLs keep port 0, which ssh2 would read as "no port" and dial 22.
  if (url.port === '0') {
    throw new Error(
      `resource ${JSON.stringify(resource)} names port 0: expected a port from 1 to 65535 (or none for 22)`
    );
  }
  // The pilot home on the resource (PILOT_STREAMING_REMOTE_HOME) holds the pilot's files; a
  // path here would be ignored without a word.
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
    throw new Error(
      `resource ${JSON.stringify(resource)} has a path ${JSON.stringify(url.pathname + url.search + url.hash)}: expected ${url.protocol}//[user@]host[:port] (set PILOT_STREAMING_REMOTE_HOME for where pilot files go)`
    );
  }
  return {
    user: url.username !== '' ? decodeURIComponent(url.username) : userInfo().username,
    host,
    port: url.port !== '' ? Number(url.port) : 22
  };
}
