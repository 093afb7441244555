import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join, posix } from 'node:path';
import ssh2 from 'ssh2';
import type { AuthMethod, ClientChannel, ConnectConfig, SFTPWrapper } from 'ssh2';
import {
  fingerprint,
  keyTypeOf,
  knownHostsName,
  knownKeyTypes,
  parseKnownHosts,
  verifyHostKey
} from './known-hosts.js';
import type { Host } from './host.js';
import { shellCommandIn, shellQuote } from './shell-quote.js';
import { targetLabel, type SshTarget } from './target.js';
import { TunnelSocket } from './tunnel-socket.js';

const { Client, utils } = ssh2;
type Client = InstanceType<typeof Client>;

export interface RemoteConnectionOptions {
  /** known_hosts to verify the host key against: $PILOT_STREAMING_SSH_KNOWN_HOSTS, else ~/.ssh/known_hosts. */
  knownHostsPath?: string;
  /**
   * Private keys to offer, in order: $PILOT_STREAMING_SSH_IDENTITY (paths separated like PATH),
   * else those of ~/.ssh/id_ed25519, id_ecdsa, id_rsa that exist. Keys with a passphrase are
   * used through the agent.
   */
  identityFiles?: string[];
  /** ssh-agent socket, tried before the key files: $SSH_AUTH_SOCK unless false. */
  agent?: string | false;
  keepaliveIntervalMs?: number;
  /** Missed keep-alive answers after which the connection counts as dropped. */
  keepaliveCountMax?: number;
  readyTimeoutMs?: number;
  /** After a drop, how long to keep trying to connect again before an operation fails. */
  reconnectTimeoutMs?: number;
}

export interface ExecOptions {
  cwd?: string;
  env?: Readonly<Record<string, string>>;
  stdin?: string | Buffer;
  timeoutMs?: number;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit code; null when the command was ended by a signal. */
  code: number | null;
  signal?: string;
}

/** The host key was unknown, changed or revoked: never retried, never ignored. */
/** A program started on a host by RemoteConnection.spawn. */
export interface RemoteProcess {
  stdin: NodeJS.WritableStream;
  stdout: NodeJS.ReadableStream;
  stderr: NodeJS.ReadableStream;
  /** Resolves when it has ended (and its output is read), with its exit code or signal. */
  exited: Promise<{ code: number | null; signal: string | null }>;
  kill: () => void;
}

export class HostKeyError extends Error {
  override name = 'HostKeyError';
}

/** A command that ran but exited non-zero. */
export class CommandError extends Error {
  override name = 'CommandError';
  constructor(
    readonly command: string,
    readonly result: ExecResult,
    where: string
  ) {
    const how =
      result.code !== null ? `exit code ${result.code}` : `signal ${result.signal ?? '?'}`;
    const stderr = result.stderr.trim();
    super(`${command} on ${where} failed with ${how}${stderr !== '' ? `: ${stderr}` : ''}`);
  }
}

const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];
const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa'
] as const;
type HostKeyAlgorithm = (typeof HOST_KEY_ALGORITHMS)[number];

/** Host key algorithms, those whose keys known_hosts holds for the host first (as OpenSSH does). */
function hostKeyAlgorithms(knownTypes: string[]): HostKeyAlgorithm[] {
  const preferred = HOST_KEY_ALGORITHMS.filter(algorithm =>
    knownTypes.some(type =>
      type === 'ssh-rsa'
        ? algorithm.startsWith('rsa-') || algorithm === 'ssh-rsa'
        : type === algorithm
    )
  );
  return [...preferred, ...HOST_KEY_ALGORITHMS.filter(algorithm => !preferred.includes(algorithm))];
}

function errorCode(error: unknown): string | number | undefined {
  return (error as { code?: string | number }).code;
}

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

/**
 * One ssh2 connection to a resource, carrying commands, SFTP and TCP tunnels. It connects on
 * first use; after a drop (sshd restart, network) the next operation connects again, retrying for
 * `reconnectTimeoutMs`. Operations in flight when the connection drops fail.
 * Events: 'connect' (every successful connection), 'disconnect' (error?).
 */
export class RemoteConnection extends EventEmitter implements Host {
  readonly label: string;
  private readonly options: Required<Omit<RemoteConnectionOptions, 'identityFiles' | 'agent'>> & {
    identityFiles: string[] | undefined;
    agent: string | false;
  };
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  private sftpSession: Promise<SFTPWrapper> | undefined;
  private connectedOnce = false;
  private closed = false;

  constructor(
    readonly target: SshTarget,
    options: RemoteConnectionOptions = {}
  ) {
    super();
    this.label = targetLabel(target);
    const fromEnv = process.env.PILOT_STREAMING_SSH_IDENTITY;
    this.options = {
      knownHostsPath:
        options.knownHostsPath ??
        (process.env.PILOT_STREAMING_SSH_KNOWN_HOSTS || join(homedir(), '.ssh', 'known_hosts')),
      identityFiles:
        options.identityFiles ?? (fromEnv ? fromEnv.split(delimiter).filter(Boolean) : undefined),
      agent: options.agent ?? process.env.SSH_AUTH_SOCK ?? false,
      keepaliveIntervalMs: options.keepaliveIntervalMs ?? 10_000,
      keepaliveCountMax: options.keepaliveCountMax ?? 3,
      readyTimeoutMs: options.readyTimeoutMs ?? 20_000,
      reconnectTimeoutMs: options.reconnectTimeoutMs ?? 60_000
    };
  }

  /** Connects now (operations also connect on demand). */
  async connect(): Promise<void> {
    await this.ready();
  }

  get connected(): boolean {
    return this.client !== undefined;
  }

  /** Runs `argv` (each word quoted for the remote shell) and collects its output. */
  exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    return this.execShell(shellCommandIn(argv, options), options);
  }

  /** Like exec, but a non-zero exit is a CommandError; returns stdout. */
  async check(argv: readonly string[], options: ExecOptions = {}): Promise<string> {
    const command = shellCommandIn(argv, options);
    const result = await this.execShell(command, options);
    if (result.code !== 0) throw new CommandError(argv.join(' '), result, this.label);
    return result.stdout;
  }

  /**
   * Runs a command line with sh (for scripts of our own; quote any input with shellQuote),
   * whatever the user's login shell is.
   */
  async execShell(
    command: string,
    options: Pick<ExecOptions, 'stdin' | 'timeoutMs'> = {}
  ): Promise<ExecResult> {
    const client = await this.ready();
    return new Promise<ExecResult>((resolve, reject) => {
      // The login shell may be csh or fish: our command lines are for sh.
      client.exec(`sh -c ${shellQuote(command)}`, (error, stream) => {
        if (error !== undefined && error !== null) {
          reject(new Error(`Cannot run a command on ${this.label}: ${error.message}`));
          return;
        }
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        let exit: { code: number | null; signal?: string } | undefined;
        let timer: NodeJS.Timeout | undefined;
        if (options.timeoutMs !== undefined) {
          timer = setTimeout(() => {
            stream.close();
            reject(
              new Error(`${command} on ${this.label} did not finish within ${options.timeoutMs} ms`)
            );
          }, options.timeoutMs);
        }
        stream.on('data', (chunk: Buffer) => stdout.push(chunk));
        stream.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        stream.on('exit', (code: number | null, signal?: string) => {
          exit = { code: code ?? null, ...(signal !== undefined ? { signal } : {}) };
        });
        stream.on('close', () => {
          clearTimeout(timer);
          if (exit === undefined) {
            reject(new Error(`The connection to ${this.label} closed while running ${command}`));
            return;
          }
          resolve({
            stdout: Buffer.concat(stdout).toString('utf8'),
            stderr: Buffer.concat(stderr).toString('utf8'),
            ...exit
          });
        });
        stream.end(options.stdin);
      });
    });
  }

  async readFile(path: string): Promise<Buffer> {
    const sftp = await this.sftp();
    return new Promise((resolve, reject) => {
      sftp.readFile(path, (error: Error | undefined, data: Buffer) =>
        error ? reject(this.sftpError('read', path, error)) : resolve(data)
      );
    });
  }

  async writeFile(
    path: string,
    data: string | Buffer,
    options: { mode?: number } = {}
  ): Promise<void> {
    const sftp = await this.sftp();
    await new Promise<void>((resolve, reject) => {
      sftp.writeFile(path, data, { mode: options.mode ?? 0o600 }, (error?: Error | null) =>
        error ? reject(this.sftpError('write', path, error)) : resolve()
      );
    });
  }

  /**
   * Copies the local file `localPath` to `path` on the host (SFTP with parallel requests),
   * reporting the bytes sent so far.
   */
  async upload(
    localPath: string,
    path: string,
    options: { mode?: number; onBytes?: (sent: number, total: number) => void } = {}
  ): Promise<void> {
    const sftp = await this.sftp();
    await new Promise<void>((resolve, reject) => {
      sftp.fastPut(
        localPath,
        path,
        {
          mode: options.mode ?? 0o600,
          ...(options.onBytes !== undefined
            ? {
                step: (sent: number, _chunk: number, total: number) => options.onBytes!(sent, total)
              }
            : {})
        },
        error => (error ? reject(this.sftpError('upload', path, error)) : resolve())
      );
    });
  }

  /** The names in directory `path` on the host. */
  async readdir(path: string): Promise<string[]> {
    const sftp = await this.sftp();
    return new Promise((resolve, reject) => {
      sftp.readdir(path, (error, entries) =>
        error
          ? reject(this.sftpError('list', path, error))
          : resolve(entries.map(entry => entry.filename))
      );
    });
  }

  /** Whether `path` exists on the host. */
  async exists(path: string): Promise<boolean> {
    const sftp = await this.sftp();
    return new Promise((resolve, reject) => {
      sftp.stat(path, error => {
        if (!error) resolve(true);
        else if (errorCode(error) === 2) resolve(false);
        else reject(this.sftpError('stat', path, error));
      });
    });
  }

  /** mkdir -p over SFTP: creates `path` and missing parents with `mode`. */
  async mkdir(path: string, options: { mode?: number } = {}): Promise<void> {
    if (!posix.isAbsolute(path))
      throw new Error(`mkdir on ${this.label} needs an absolute path, not ${path}`);
    const sftp = await this.sftp();
    const parts = path.split('/').filter(Boolean);
    for (let index = 1; index <= parts.length; index++) {
      const prefix = `/${parts.slice(0, index).join('/')}`;
      if (await this.exists(prefix)) continue;
      await new Promise<void>((resolve, reject) => {
        sftp.mkdir(prefix, { mode: options.mode ?? 0o700 }, error => {
          if (!error) return resolve();
          // Someone else may have made it meanwhile: then all is well.
          this.exists(prefix).then(
            made => (made ? resolve() : reject(this.sftpError('mkdir', prefix, error))),
            reject
          );
        });
      });
    }
  }

  /**
   * A TCP connection to host:port made from the remote side, usable at once like a net.Socket
   * (emits 'connect' when open): for socket factories such as kafkajs's.
   */
  tunnel(host: string, port: number): TunnelSocket {
    return new TunnelSocket(
      async () => {
        const client = await this.ready();
        return new Promise<ClientChannel>((resolve, reject) => {
          client.forwardOut('127.0.0.1', 0, host, port, (error, channel) =>
            error
              ? reject(
                  new Error(
                    `${this.label} cannot open a tunnel to ${host}:${port}: ${error.message}`
                  )
                )
              : resolve(channel)
          );
        });
      },
      host,
      port
    );
  }

  /**
   * Starts `argv` on the host with its input and output as streams, for a long-running helper
   * (a Dask bridge). Closing its input ends a program that reads it to the end; `kill` closes
   * the channel, which sshd answers by closing the program's pipes.
   */
  async spawn(argv: readonly string[]): Promise<RemoteProcess> {
    const client = await this.ready();
    const command = shellCommandIn(argv, {});
    return new Promise<RemoteProcess>((resolve, reject) => {
      client.exec(`sh -c ${shellQuote(command)}`, (error, channel) => {
        if (error !== undefined && error !== null) {
          reject(new Error(`Cannot run ${argv[0] ?? ''} on ${this.label}: ${error.message}`));
          return;
        }
        let exit: { code: number | null; signal: string | null } = { code: null, signal: null };
        channel.on('exit', (code: number | null, signal?: string) => {
          exit = { code: code ?? null, signal: signal ?? null };
        });
        resolve({
          stdin: channel,
          stdout: channel,
          stderr: channel.stderr,
          exited: new Promise(done => channel.once('close', () => done(exit))),
          kill: () => channel.close()
        });
      });
    });
  }

  /** Like tunnel(), resolved once the tunnel is open. */
  forwardOut(host: string, port: number): Promise<TunnelSocket> {
    const socket = this.tunnel(host, port);
    return new Promise((resolve, reject) => {
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(socket);
      });
      socket.once('error', reject);
    });
  }

  /** Ends the connection; later operations fail. */
  async close(): Promise<void> {
    this.closed = true;
    // A connection still being made is ended by open() when it sees `closed`.
    const client = this.client;
    if (client === undefined) return;
    await new Promise<void>(resolve => {
      client.once('close', () => resolve());
      client.end();
    });
  }

  private sftpError(action: string, path: string, error: Error): Error {
    const wrapped = new Error(
      `Cannot ${action} ${path} on ${this.label} over SFTP: ${error.message}`,
      { cause: error }
    );
    // SFTP's NO_SUCH_FILE reads like fs's ENOENT, so callers treat both alike.
    if (errorCode(error) === 2) (wrapped as NodeJS.ErrnoException).code = 'ENOENT';
    return wrapped;
  }

  private async sftp(): Promise<SFTPWrapper> {
    const client = await this.ready();
    if (this.sftpSession === undefined) {
      const session = new Promise<SFTPWrapper>((resolve, reject) => {
        client.sftp((error, sftp) =>
          error
            ? reject(new Error(`${this.label} offers no SFTP: ${error.message}`))
            : resolve(sftp)
        );
      });
      this.sftpSession = session;
      session.then(
        sftp =>
          sftp.once('close', () => {
            if (this.sftpSession === session) this.sftpSession = undefined;
          }),
        () => {
          if (this.sftpSession === session) this.sftpSession = undefined;
        }
      );
    }
    return this.sftpSession;
  }

  /** The live client, connecting (or reconnecting, with retries) when there is none. */
  private ready(): Promise<Client> {
    if (this.closed) return Promise.reject(new Error(`The connection to ${this.label} is closed`));
    if (this.client !== undefined) return Promise.resolve(this.client);
    if (this.connecting === undefined) {
      this.connecting = (this.connectedOnce ? this.reconnect() : this.open()).finally(() => {
        this.connecting = undefined;
      });
    }
    return this.connecting;
  }

  private async reconnect(): Promise<Client> {
    const deadline = Date.now() + this.options.reconnectTimeoutMs;
    let delay = 250;
    for (;;) {
      try {
        return await this.open();
      } catch (error) {
        // A host key or authentication problem will not go away by waiting.
        const permanent =
          error instanceof HostKeyError || /authentication/i.test((error as Error).message);
        if (permanent || Date.now() + delay > deadline || this.closed) throw error;
        await sleep(delay);
        delay = Math.min(delay * 2, 5_000);
      }
    }
  }

  private async authMethods(): Promise<AuthMethod[]> {
    const { user } = this.target;
    const methods: AuthMethod[] = [];
    if (this.options.agent !== false)
      methods.push({ type: 'agent', username: user, agent: this.options.agent } as AuthMethod);
    const explicit = this.options.identityFiles !== undefined;
    const files =
      this.options.identityFiles ?? DEFAULT_IDENTITIES.map(name => join(homedir(), '.ssh', name));
    const problems: string[] = [];
    for (const file of files) {
      let data: Buffer;
      try {
        data = await readFile(file);
      } catch (error) {
        // The default key files are optional; a key the user named must be readable.
        if (!explicit && errorCode(error) === 'ENOENT') continue;
        throw new Error(`Cannot read the ssh identity ${file}: ${(error as Error).message}`, {
          cause: error
        });
      }
      const key = utils.parseKey(data);
      if (key instanceof Error) {
        problems.push(`${file}: ${key.message}`);
        continue;
      }
      methods.push({ type: 'publickey', username: user, key: data } as AuthMethod);
    }
    if (methods.length === 0) {
      throw new Error(
        `No ssh identity for ${this.label}: no agent (SSH_AUTH_SOCK) and no usable key among ${files.join(', ')}` +
          (problems.length > 0 ? ` (${problems.join('; ')})` : '')
      );
    }
    return methods;
  }

  private async knownHosts(): Promise<ReturnType<typeof parseKnownHosts>> {
    try {
      return parseKnownHosts(await readFile(this.options.knownHostsPath, 'utf8'));
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return [];
      throw new Error(
        `Cannot read known_hosts ${this.options.knownHostsPath}: ${(error as Error).message}`,
        { cause: error }
      );
    }
  }

  private async open(): Promise<Client> {
    const { host, port, user } = this.target;
    const knownHosts = await this.knownHosts();
    const authHandler = await this.authMethods();
    const client = new Client();
    let refusal: HostKeyError | undefined;
    const config: ConnectConfig = {
      host,
      port,
      username: user,
      authHandler,
      readyTimeout: this.options.readyTimeoutMs,
      keepaliveInterval: this.options.keepaliveIntervalMs,
      keepaliveCountMax: this.options.keepaliveCountMax,
      algorithms: { serverHostKey: hostKeyAlgorithms(knownKeyTypes(knownHosts, host, port)) },
      hostVerifier: (key: Buffer): boolean => {
        const verdict = verifyHostKey(knownHosts, host, port, key);
        if (verdict.kind === 'known') return true;
        refusal = this.hostKeyRefusal(verdict, key);
        return false;
      }
    };
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => {
        client.end();
        reject(
          refusal ??
            new Error(`Cannot connect to ${this.label}: ${error.message}`, { cause: error })
        );
      };
      client.once('error', onError);
      client.once('ready', () => {
        client.off('error', onError);
        resolve();
      });
      client.connect(config);
    });
    if (this.closed) {
      client.end();
      throw new Error(`The connection to ${this.label} was closed while it was being made`);
    }
    this.client = client;
    this.connectedOnce = true;
    let lastError: Error | undefined;
    client.on('error', (error: Error) => {
      lastError = error;
    });
    client.once('close', () => {
      if (this.client === client) {
        this.client = undefined;
        this.sftpSession = undefined;
      }
      this.emit('disconnect', lastError);
    });
    this.emit('connect');
    return client;
  }

  private hostKeyRefusal(
    verdict: Exclude<ReturnType<typeof verifyHostKey>, { kind: 'known' }>,
    key: Buffer
  ): HostKeyError {
    const name = knownHostsName(this.target.host, this.target.port);
    const offered = `${keyTypeOf(key) ?? 'unknown type'} key ${fingerprint(key)}`;
    const file = this.options.knownHostsPath;
    switch (verdict.kind) {
      case 'revoked':
        return new HostKeyError(
          `The host key of ${name} (${offered}) is revoked in ${file} line ${verdict.entry.line}`
        );
      case 'changed':
        return new HostKeyError(
          `The host key of ${name} has CHANGED: it offered ${offered}, but ${file} line ${verdict.entries.map(entry => entry.line).join(', ')} holds ${verdict.entries.map(entry => fingerprint(entry.key)).join(', ')}. Someone may be intercepting the connection; if the key was changed on purpose, update ${file}.`
        );
      case 'unknown':
        return new HostKeyError(
          `The host key of ${name} is unknown: it offered ${offered}, which is not in ${file}` +
            (verdict.otherTypes.length > 0
              ? ` (that file knows it only with ${verdict.otherTypes.join(', ')} keys)`
              : '') +
            `. Check the fingerprint with the host's administrator, then add the key to ${file} (e.g. ssh-keyscan -p ${this.target.port} ${this.target.host}).`
        );
    }
  }
}
