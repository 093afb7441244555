import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { connect } from 'node:net';
import { pickFreePorts } from '../../src/frameworks/free-ports.js';
import { shellQuote } from '../../src/remote/shell-quote.js';
import { run } from './command.js';
import { descendantsOf, startDaemon, stopDaemon, waitUntil, type Daemon } from './daemons.js';

const HOST_KEY_FILE = 'ssh_host_ed25519_key';

/** What a client needs to reach the testbed's sshd. */
export interface SshdInfo {
  host: string;
  port: number;
  user: string;
  /** Private key whose public half is in the server's authorized_keys. */
  identityPath: string;
  /** known_hosts with the server's host key, as `[127.0.0.1]:port`. */
  knownHostsPath: string;
  /** The server's host key, `ssh-ed25519 AAAA...`. */
  hostPublicKey: string;
}

function portAnswers(host: string, port: number): Promise<boolean> {
  return new Promise(resolve => {
    const socket = connect({ host, port });
    socket.once('data', data => {
      socket.destroy();
      resolve(data.toString('latin1').startsWith('SSH-'));
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A real OpenSSH server on 127.0.0.1 and a free port, with a host key, client key, config and
 * pid file of its own under `dir`. Sessions get `env` (e.g. SLURM_CONF) through SetEnv, and
 * `hostsFile` as their /etc/hosts when given.
 */
export class TestSshd {
  /** The listener (replaced by restart()). */
  daemon: Daemon | undefined;

  private constructor(
    readonly info: SshdInfo,
    private readonly configPath: string,
    private readonly logPath: string,
    private readonly hostsFile: string | undefined
  ) {}

  static async start(
    dir: string,
    env: Record<string, string>,
    options: { hostsFile?: string } = {}
  ): Promise<TestSshd> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // sshd refuses to start without its privilege-separation directory.
    await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
    const hostKey = join(dir, HOST_KEY_FILE);
    const clientKey = join(dir, 'id_ed25519');
    await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'testbed-host', '-f', hostKey]);
    await run([
      'ssh-keygen',
      '-q',
      '-t',
      'ed25519',
      '-N',
      '',
      '-C',
      'testbed-client',
      '-f',
      clientKey
    ]);
    const authorizedKeys = join(dir, 'authorized_keys');
    await writeFile(authorizedKeys, await readFile(`${clientKey}.pub`), { mode: 0o600 });
    const [port] = await pickFreePorts(1);
    if (port === undefined) throw new Error('No free port for sshd');
    const hostPublicKey = (await readFile(`${hostKey}.pub`, 'utf8'))
      .split(' ')
      .slice(0, 2)
      .join(' ');
    const knownHostsPath = join(dir, 'known_hosts');
    await writeFile(knownHostsPath, `[127.0.0.1]:${port} ${hostPublicKey}\n`, { mode: 0o600 });
    const configPath = join(dir, 'sshd_config');
    const setEnv = Object.entries(env)
      .map(([key, value]) => `${key}=${value}`)
      .join(' ');
    await writeFile(
      configPath,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${authorizedKeys}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'UsePAM no',
        // The run directory lives under a world-writable temporary directory.
        'StrictModes no',
        'AllowTcpForwarding yes',
        'Subsystem sftp internal-sftp',
        ...(setEnv !== '' ? [`SetEnv ${setEnv}`] : []),
        ''
      ].join('\n'),
      { mode: 0o600 }
    );
    const sshd = new TestSshd(
      {
        host: '127.0.0.1',
        port,
        user: userInfo().username,
        identityPath: clientKey,
        knownHostsPath,
        hostPublicKey
      },
      configPath,
      join(dir, 'sshd.log'),
      options.hostsFile
    );
    await sshd.startDaemon();
    return sshd;
  }

  private async startDaemon(): Promise<void> {
    const sshdArgv = ['/usr/sbin/sshd', '-D', '-f', this.configPath, '-E', this.logPath];
    this.daemon = await startDaemon(
      'sshd',
      this.hostsFile === undefined
        ? sshdArgv
        : // A mount namespace of its own whose /etc/hosts names the cluster's nodes, as a login
          // node's would; unshare and sh exec, so the pid stays sshd's.
          [
            'unshare',
            '--mount',
            '--',
            'sh',
            '-c',
            `mount --bind ${shellQuote(this.hostsFile)} /etc/hosts && exec "$@"`,
            'sh',
            ...sshdArgv
          ],
      { logPath: this.logPath }
    );
    await waitUntil(
      `sshd on port ${this.info.port}`,
      () => portAnswers(this.info.host, this.info.port),
      10_000,
      this.logPath
    );
  }

  /**
   * Stops the listener and every session it serves (connections drop), then starts it again on
   * the same port: with the host key at `hostKeyPath` if given (as an impostor would, or an
   * administrator replacing the key), else with the original one.
   */
  async restart(options: { hostKeyPath?: string } = {}): Promise<void> {
    await this.stop();
    const config = await readFile(this.configPath, 'utf8');
    const hostKey = options.hostKeyPath ?? join(dirname(this.configPath), HOST_KEY_FILE);
    await writeFile(this.configPath, config.replace(/^HostKey .*$/m, `HostKey ${hostKey}`));
    await this.startDaemon();
  }

  /** The per-connection sshd processes (the listener's descendants): to freeze a connection. */
  async sessionPids(): Promise<number[]> {
    return this.daemon !== undefined ? descendantsOf(this.daemon.pid) : [];
  }

  async stop(): Promise<void> {
    if (this.daemon !== undefined) await stopDaemon(this.daemon);
    this.daemon = undefined;
  }
}

/** argv prefix of an OpenSSH client that verifies the host key against the sshd's known_hosts. */
export function sshCommand(info: SshdInfo): string[] {
  return [
    'ssh',
    '-p',
    String(info.port),
    '-i',
    info.identityPath,
    '-o',
    `UserKnownHostsFile=${info.knownHostsPath}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    `${info.user}@${info.host}`
  ];
}
