import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostKeyError, RemoteConnection, RemoteConnectionPool } from '../../../src/remote/index.js';
import { run } from '../../testbed/command.js';
import { TestSshd } from '../../testbed/sshd.js';

/** The fingerprint as OpenSSH's own ssh-keygen prints it, to check ours against. */
async function opensshFingerprint(publicKey: string, dir: string): Promise<string> {
  const file = join(dir, 'offered.pub');
  await writeFile(file, `${publicKey}\n`);
  const output = await run(['ssh-keygen', '-l', '-E', 'sha256', '-f', file]);
  const match = /(SHA256:\S+)/.exec(output);
  if (match?.[1] === undefined) throw new Error(`No fingerprint in ${output}`);
  return match[1];
}

describe('RemoteConnection against a real sshd', () => {
  let dir: string;
  let sshd: TestSshd;
  let connection: RemoteConnection;
  const connections: RemoteConnection[] = [];
  const connect = (
    options: ConstructorParameters<typeof RemoteConnection>[1] = {}
  ): RemoteConnection => {
    const made = new RemoteConnection(
      { user: sshd.info.user, host: sshd.info.host, port: sshd.info.port },
      {
        knownHostsPath: sshd.info.knownHostsPath,
        identityFiles: [sshd.info.identityPath],
        agent: false,
        ...options
      }
    );
    connections.push(made);
    return made;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'remote-connection-'));
    sshd = await TestSshd.start(join(dir, 'sshd'), {});
    connection = connect();
  });

  afterAll(async () => {
    await Promise.all(connections.map(made => made.close()));
    await sshd?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs commands with stdout, stderr, exit code, stdin and exact arguments', async () => {
    const result = await connection.exec(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(result).toEqual({ stdout: 'out\n', stderr: 'err\n', code: 3 });
    const words = [`it's`, '$(echo injected)', 'two words', '*'];
    expect(await connection.check(['printf', '%s|', ...words])).toBe(`${words.join('|')}|`);
    expect(await connection.check(['cat'], { stdin: 'from stdin' })).toBe('from stdin');
    expect(
      await connection.check(['sh', '-c', 'echo "$PWD $X"'], { cwd: '/', env: { X: 'y z' } })
    ).toBe('/ y z\n');
    await expect(connection.check(['sh', '-c', 'echo nope >&2; exit 4'])).rejects.toThrow(
      /exit code 4: nope/
    );
  });

  it('reads, writes and makes directories over SFTP', async () => {
    const nested = join(dir, 'sftp', 'a', 'b');
    await connection.mkdir(nested, { mode: 0o700 });
    expect(await connection.exists(nested)).toBe(true);
    const file = join(nested, 'data.bin');
    const data = Buffer.from(Array.from({ length: 70_000 }, (_, index) => index % 251));
    await connection.writeFile(file, data, { mode: 0o640 });
    expect((await connection.readFile(file)).equals(data)).toBe(true);
    expect((await run(['stat', '-c', '%a', file])).trim()).toBe('640');
    expect(await connection.exists(join(nested, 'missing'))).toBe(false);
    await expect(connection.readFile(join(nested, 'missing'))).rejects.toThrow(
      /Cannot read .*missing/
    );
  });

  it('tunnels TCP to a server reachable from the far side', async () => {
    const server: Server = createServer(socket => socket.pipe(socket));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    try {
      const socket = await connection.forwardOut('127.0.0.1', port);
      const payload = Buffer.alloc(256 * 1024, 7);
      const received: Buffer[] = [];
      let length = 0;
      const done = new Promise<void>(resolve =>
        socket.on('data', (chunk: Buffer) => {
          received.push(chunk);
          length += chunk.length;
          if (length >= payload.length) resolve();
        })
      );
      socket.write(payload);
      await done;
      expect(Buffer.concat(received).equals(payload)).toBe(true);
      socket.end();
      await once(socket, 'close');
      // Usable as a socket factory: exists at once, emits 'connect' later.
      const early = connection.tunnel('127.0.0.1', port).setKeepAlive().setNoDelay();
      early.write('early bytes');
      const [echo] = (await once(early, 'data')) as [Buffer];
      expect(echo.toString()).toBe('early bytes');
      early.destroy();
    } finally {
      server.close();
    }
  });

  it('refuses an unknown host key, naming the host and the fingerprint', async () => {
    const emptyKnownHosts = join(dir, 'empty_known_hosts');
    await writeFile(emptyKnownHosts, '');
    const stranger = connect({ knownHostsPath: emptyKnownHosts });
    const expected = await opensshFingerprint(sshd.info.hostPublicKey, dir);
    const error = await stranger.exec(['true']).then(
      () => undefined,
      (caught: unknown) => caught
    );
    expect(error).toBeInstanceOf(HostKeyError);
    expect((error as Error).message).toContain(`[127.0.0.1]:${sshd.info.port}`);
    expect((error as Error).message).toContain(expected);
    expect((error as Error).message).toMatch(/unknown/);
  });

  it('refuses a changed host key', async () => {
    const otherKey = join(dir, 'other_host_key');
    await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
    const otherPublic = (await run(['cat', `${otherKey}.pub`])).split(' ').slice(0, 2).join(' ');
    const wrongKnownHosts = join(dir, 'wrong_known_hosts');
    await writeFile(wrongKnownHosts, `[127.0.0.1]:${sshd.info.port} ${otherPublic}\n`);
    const fooled = connect({ knownHostsPath: wrongKnownHosts });
    await expect(fooled.exec(['true'])).rejects.toThrow(/CHANGED.*SHA256:/);
  });

  it('refuses a key the server does not accept, clearly', async () => {
    const strangerKey = join(dir, 'stranger_key');
    await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', strangerKey]);
    const refused = connect({ identityFiles: [strangerKey] });
    await expect(refused.exec(['true'])).rejects.toThrow(/Cannot connect to .*authentication/i);
  });

  it('reconnects after sshd restarts', async () => {
    const survivor = connect({ reconnectTimeoutMs: 30_000 });
    expect(await survivor.check(['echo', 'before'])).toBe('before\n');
    const dropped = once(survivor, 'disconnect');
    await sshd.restart();
    await dropped;
    expect(survivor.connected).toBe(false);
    const reconnected = once(survivor, 'connect');
    expect(await survivor.check(['echo', 'after'])).toBe('after\n');
    await reconnected;
    expect(await survivor.readFile(sshd.info.knownHostsPath)).toBeInstanceOf(Buffer);
  });

  it('does not reconnect to a server that comes back with another host key', async () => {
    const watched = connect({ reconnectTimeoutMs: 30_000 });
    expect(await watched.check(['echo', 'trusted'])).toBe('trusted\n');
    const impostorKey = join(dir, 'impostor_host_key');
    await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', impostorKey]);
    const impostorPublic = (await run(['cat', `${impostorKey}.pub`]))
      .split(' ')
      .slice(0, 2)
      .join(' ');
    const expected = await opensshFingerprint(impostorPublic, dir);
    try {
      await sshd.restart({ hostKeyPath: impostorKey });
      const started = Date.now();
      const error = await watched.exec(['true']).then(
        () => undefined,
        (caught: unknown) => caught
      );
      expect(error).toBeInstanceOf(HostKeyError);
      expect((error as Error).message).toMatch(/CHANGED/);
      expect((error as Error).message).toContain(expected);
      // Refused at once, not retried until the reconnect timeout.
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await sshd.restart();
    }
    expect(await watched.check(['echo', 'trusted again'])).toBe('trusted again\n');
  });

  it('notices a silent server through keep-alives and reconnects once it answers', async () => {
    const watched = connect({ keepaliveIntervalMs: 300, keepaliveCountMax: 2 });
    expect(await watched.check(['echo', 'up'])).toBe('up\n');
    const dropped = once(watched, 'disconnect');
    // Freeze the sessions: the TCP connection stays open, but nothing answers.
    const frozen = await sshd.sessionPids();
    expect(frozen.length).toBeGreaterThan(0);
    for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    const started = Date.now();
    try {
      const [error] = (await dropped) as [Error | undefined];
      expect(error?.message).toMatch(/Keepalive timeout/);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      for (const pid of frozen) process.kill(pid, 'SIGCONT');
    }
    expect(await watched.check(['echo', 'back'])).toBe('back\n');
  });

  it('keeps one connection per user@host:port in a pool', async () => {
    const pool = new RemoteConnectionPool();
    const target = { user: sshd.info.user, host: sshd.info.host, port: sshd.info.port };
    const options = {
      knownHostsPath: sshd.info.knownHostsPath,
      identityFiles: [sshd.info.identityPath],
      agent: false as const
    };
    const first = pool.get(target, options);
    expect(pool.get({ ...target }, options)).toBe(first);
    expect(pool.get({ ...target, port: target.port + 1 }, options)).not.toBe(first);
    expect(await first.check(['echo', 'pooled'])).toBe('pooled\n');
    await pool.closeAll();
    await expect(first.exec(['true'])).rejects.toThrow(/closed/);
  });
});
