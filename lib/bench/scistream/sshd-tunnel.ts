import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function waitListening(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>(resolve => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await new Promise(resolve => setTimeout(resolve, 50));
  }
}

/**
 * An `ssh -L` tunnel through a private sshd on loopback (own host key, own client key, host key
 * checked against a known_hosts file of our own): the comparison peer of the benchmark.
 */
export class SshTunnel {
  private sshd?: ChildProcess;
  private ssh?: ChildProcess;
  localPort = 0;

  constructor(private readonly dir: string) {}

  /** `cipher` undefined: ssh's default choice, as users run it. */
  async start(target: number, cipher?: string): Promise<number> {
    const dir = this.dir;
    await mkdir(dir, { mode: 0o700 });
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client_key')]);
    await writeFile(join(dir, 'authorized_keys'), await readFile(join(dir, 'client_key.pub')));
    const sshdPort = await freePort();
    await writeFile(
      join(dir, 'sshd_config'),
      [
        `Port ${sshdPort}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(dir, 'host_key')}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'StrictModes no',
        'UsePAM no',
        'AllowTcpForwarding yes'
      ].join('\n') + '\n'
    );
    // sshd's privilege separation needs this directory (Debian creates it at service start).
    await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
    this.sshd = spawn(
      '/usr/sbin/sshd',
      ['-D', '-f', join(dir, 'sshd_config'), '-E', join(dir, 'sshd.log')],
      {
        stdio: 'ignore'
      }
    );
    await waitListening(sshdPort);
    const hostKey = (await readFile(join(dir, 'host_key.pub'), 'utf8'))
      .split(' ')
      .slice(0, 2)
      .join(' ');
    await writeFile(join(dir, 'known_hosts'), `[127.0.0.1]:${sshdPort} ${hostKey}\n`);
    this.localPort = await freePort();
    const user = (await run('id', ['-un'])).stdout.trim();
    this.ssh = spawn(
      'ssh',
      [
        '-N',
        '-p',
        String(sshdPort),
        '-i',
        join(dir, 'client_key'),
        '-o',
        `UserKnownHostsFile=${join(dir, 'known_hosts')}`,
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'BatchMode=yes',
        ...(cipher === undefined ? [] : ['-c', cipher]),
        '-L',
        `127.0.0.1:${this.localPort}:127.0.0.1:${target}`,
        `${user}@127.0.0.1`
      ],
      { stdio: 'ignore' }
    );
    await waitListening(this.localPort);
    return this.localPort;
  }

  async stop(): Promise<void> {
    for (const child of [this.ssh, this.sshd]) {
      if (!child || child.exitCode !== null || child.signalCode !== null) continue;
      const gone = new Promise(resolve => child.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    }
  }
}
