import * as grpc from '@grpc/grpc-js';
import { execFile, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AuthError, JwksTokenVerifier } from '../../../src/scistream/auth/token-verifier.js';
import { Gateway } from '../../../src/scistream/s2uc/gateway.js';
import { ScistreamClient } from '../../../src/scistream/s2uc/scistream-client.js';
import {
  createCertificateAuthority,
  issueServerCertificate,
  type CertificateFiles
} from '../../../src/scistream/tls/certificates.js';
import { randomPortRange } from '../../testbed/scistream/loopback-gateways.js';
import { AUDIENCE, OidcIssuer, OTHER_SERVICE } from '../../testbed/scistream/oidc-issuer.js';
import { bundleCli, s2csArgs, S2csProcess } from '../../testbed/scistream/s2cs-process.js';
import { consume, Producer } from '../../testbed/scistream/stream-peers.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;

/** A TCP server that accepts connections and never answers: an issuer that hangs. */
class SilentServer {
  private readonly server = net.createServer(() => {});
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  async start(): Promise<string> {
    this.server.on('connection', socket => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>(resolve => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>(resolve => this.server.close(() => resolve()));
  }
}

/** A port on 127.0.0.1 that nothing listens on (bound once, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>(resolve => server.close(() => resolve()));
  return port;
}

interface Outcome {
  /** Exit code, or 'started' when the gateway came up (it is stopped again at once). */
  result: number | 'started';
  stderr: string;
  ms: number;
}

describe('SciStream hardening: gateway state, silent issuers, clear errors', () => {
  const issuer = new OidcIssuer();
  let dir = '';
  let cli = '';
  let ca: CertificateFiles;
  let server: CertificateFiles;
  let token = '';
  let shared: S2csProcess;
  const started: S2csProcess[] = [];

  /** Arguments of a gateway on loopback with the test issuer; `extra` is appended. */
  function gatewayArgs(extra: string[], certificate = server): string[] {
    return s2csArgs({ certificate, portRange: randomPortRange(20) }, [
      '--issuer',
      issuer.issuer,
      '--audience',
      AUDIENCE,
      '--peer-ca',
      ca.certFile,
      ...extra
    ]);
  }

  function gateway(args: string[], home?: string): S2csProcess {
    const s2cs = new S2csProcess(cli, args, undefined, home ? { PILOT_STREAMING_HOME: home } : {});
    started.push(s2cs);
    return s2cs;
  }

  /** Runs s2cs until it exits, or until it is listening (then stops it): for start-up failures. */
  async function s2csOutcome(args: string[], home: string): Promise<Outcome> {
    const begun = Date.now();
    const child = spawn(process.execPath, [cli, 's2cs', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PILOT_STREAMING_HOME: home }
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const result = await new Promise<number | 'started'>(resolve => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('"event":"listening"')) child.kill('SIGTERM');
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        resolve(signal === 'SIGTERM' || code === 0 ? 'started' : (code ?? -1));
      });
    });
    return { result, stderr, ms: Date.now() - begun };
  }

  /** Runs s2uc; resolves with its exit code, stdout and stderr. */
  async function s2uc(
    args: string[],
    env: NodeJS.ProcessEnv = {},
    caFile = ca.certFile
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    return run(process.execPath, [cli, 's2uc', ...args, '--server-cert', caFile], {
      env: { ...process.env, ...env },
      timeout: 60_000
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({
        code: error.code,
        stdout: error.stdout,
        stderr: error.stderr
      })
    );
  }

  beforeAll(async () => {
    // Short: session sockets live below it, and a Unix socket path holds at most 107 bytes.
    dir = await mkdtemp(join(tmpdir(), 'ssh-'));
    ca = await createCertificateAuthority(dir);
    server = await issueServerCertificate(ca, dir, 'gateway', ['localhost', '127.0.0.1']);
    await issuer.start();
    cli = await bundleCli(dir);
    token = await issuer.token(issuer.clients.alice);
    shared = gateway(gatewayArgs(['--port', '0', '--state-dir', join(dir, 'shared')]));
    await shared.start();
  });

  afterAll(async () => {
    for (const s2cs of started) await s2cs.stop('SIGTERM');
    await issuer.stop();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  // Item 8 ------------------------------------------------------------------------------------

  test('two gateways on --port 0 in one home keep their own state; a killed one restarts with its own', async () => {
    const home = join(dir, 'home-two');
    const producerGateway = gateway(gatewayArgs(['--port', '0']), home);
    const consumerGateway = gateway(gatewayArgs(['--port', '0']), home);
    const [prodPort, consPort] = [await producerGateway.start(), await consumerGateway.start()];
    const caCert = await readFile(ca.certFile);
    const producerClient = new Gateway({ address: `127.0.0.1:${prodPort}`, caCert, token });
    const consumerClient = new Gateway({ address: `127.0.0.1:${consPort}`, caCert, token });
    const producer = new Producer(MiB);
    try {
      const [producerPort] = await producer.listen('127.0.0.1', 1);
      const stream = await new ScistreamClient({
        producer: producerClient,
        consumer: consumerClient
      }).createStream({ producerListeners: [`127.0.0.1:${producerPort}`], numConn: 1 });

      // Each gateway has a directory of its own, holding its own record only.
      const root = join(home, 'scistream');
      const dirs = (await readdir(root)).sort();
      expect(dirs).toHaveLength(2);
      const roles = new Map<string, string>();
      for (const name of dirs) {
        const records = await readdir(join(root, name, 'sessions'));
        expect(records).toEqual([`${stream.uid}.json`]);
        const record = JSON.parse(
          await readFile(join(root, name, 'sessions', records[0]), 'utf8')
        ) as { role: string };
        roles.set(name, record.role);
      }
      expect([...roles.values()].sort()).toEqual(['CONS', 'PROD']);
      const producerDir = [...roles].find(([, role]) => role === 'PROD')![0];
      const consumerDir = [...roles].find(([, role]) => role === 'CONS')![0];
      expect(producerDir).toContain(String(prodPort));
      const consumerRecord = await readFile(
        join(root, consumerDir, 'sessions', `${stream.uid}.json`),
        'utf8'
      );

      // kill -9 and restart on its address: it finds its own session, and only that one.
      expect(await producerGateway.stop('SIGKILL')).toBe('SIGKILL');
      const restarted = gateway(gatewayArgs(['--port', String(prodPort)]), home);
      await restarted.start();
      expect(restarted.stderr).toContain(`session ${stream.uid}: restored (streaming)`);
      expect(restarted.stderr).not.toMatch(/EADDRINUSE|cannot restore/);
      expect((await producerClient.status(stream.uid)).role).toBe('PROD');
      const received = await consume(
        '127.0.0.1',
        Number(stream.consumerListeners[0].split(':')[1])
      );
      expect(received.bytes).toBe(MiB);
      // The consumer gateway's record is untouched.
      expect(
        await readFile(join(root, consumerDir, 'sessions', `${stream.uid}.json`), 'utf8')
      ).toBe(consumerRecord);

      // SIGTERM releases everything; a gateway's own default directory goes with it.
      producerClient.close();
      consumerClient.close();
      expect(await restarted.stop('SIGTERM')).toBe(0);
      expect(await consumerGateway.stop('SIGTERM')).toBe(0);
      expect(await readdir(root)).toEqual([]);
    } finally {
      producerClient.close();
      consumerClient.close();
      await producer.close();
    }
  });

  test('a second gateway on the same --state-dir is refused, naming the directory and its holder', async () => {
    const stateDir = join(dir, 'shared');
    const second = await s2csOutcome(
      gatewayArgs(['--port', '0', '--state-dir', stateDir]),
      join(dir, 'home-second')
    );
    expect(second.result).toBe(1);
    expect(second.stderr).toContain(`state directory ${stateDir} is in use by another s2cs`);
    expect(second.stderr).toContain(`pid ${shared.pid}`);
    // The running gateway still serves.
    const listed = await s2uc(['status', '--s2cs', `127.0.0.1:${shared.port}`], {
      SCISTREAM_TOKEN: token
    });
    expect(listed).toMatchObject({ code: 0 });
  });

  // Item 9 ------------------------------------------------------------------------------------

  test('a gateway whose issuer never answers fails to start within seconds, naming the issuer', async () => {
    const silent = new SilentServer();
    const silentIssuer = await silent.start();
    try {
      const home = join(dir, 'home-silent');
      const args = gatewayArgs(['--port', '0']);
      args[args.indexOf('--issuer') + 1] = silentIssuer;
      const outcome = await s2csOutcome(args, home);
      expect(outcome.result).toBe(1);
      expect(outcome.stderr).toContain(
        `issuer ${silentIssuer}: OIDC discovery ${silentIssuer}/.well-known/openid-configuration did not answer within 5 s`
      );
      expect(outcome.ms).toBeLessThan(20_000);
      // Nothing left behind by a gateway that never started.
      expect(await readdir(home).catch(() => [])).toEqual([]);
    } finally {
      await silent.stop();
    }
  }, 60_000);

  test("the token verifier refuses a token for another of the issuer's services, naming both audiences", async () => {
    const other = await issuer.token(issuer.clients.alice, { otherService: true });
    const own = await issuer.token(issuer.clients.alice);
    const verifier = new JwksTokenVerifier({
      issuer: issuer.issuer,
      audience: AUDIENCE,
      requiredScope: 'scistream'
    });
    await expect(verifier.verify(other)).rejects.toThrow(
      `token is for audience "${OTHER_SERVICE}", not "${AUDIENCE}"`
    );
    await expect(verifier.verify(own)).resolves.toMatchObject({ subject: 'alice' });
    // Chosen explicitly (s2cs --any-audience), any audience of the issuer is accepted.
    const anyAudience = new JwksTokenVerifier({
      issuer: issuer.issuer,
      audience: null,
      requiredScope: 'scistream'
    });
    await expect(anyAudience.verify(other)).resolves.toMatchObject({ subject: 'alice' });
  });

  test('the token verifier times out a silent issuer (discovery and JWKS) and names it', async () => {
    const silent = new SilentServer();
    const silentIssuer = await silent.start();
    try {
      for (const options of [{}, { jwksUri: `${silentIssuer}/jwks` }]) {
        const verifier = new JwksTokenVerifier({
          issuer: silentIssuer,
          audience: AUDIENCE,
          requiredScope: 'scistream',
          timeoutMs: 1000,
          ...options
        });
        const begun = Date.now();
        const error = await verifier.verify(token).then(
          () => undefined,
          (failure: unknown) => failure
        );
        expect(Date.now() - begun).toBeLessThan(5000);
        expect(error).toBeInstanceOf(AuthError);
        expect((error as AuthError).code).toBe(grpc.status.UNAVAILABLE);
        expect((error as AuthError).message).toContain(`issuer ${silentIssuer}`);
        expect((error as AuthError).message).toContain('did not answer within 1 s');
        await expect(verifier.check()).rejects.toThrow(`issuer ${silentIssuer}`);
      }
    } finally {
      await silent.stop();
    }
  }, 30_000);

  test('every auth error s2uc shows names the issuer', async () => {
    const address = `127.0.0.1:${shared.port}`;
    const [header, payload] = token.split('.');
    const cases: Array<[NodeJS.ProcessEnv, RegExp]> = [
      [{}, /missing "authorization"/],
      [{ SCISTREAM_TOKEN: `${header}.${payload}.AAAA` }, /token rejected/],
      [{ SCISTREAM_TOKEN: await issuer.token(issuer.clients.mallory) }, /lacks the required scope/]
    ];
    for (const [env, reason] of cases) {
      const { code, stderr } = await s2uc(['status', '--s2cs', address], env);
      expect(code).toBe(1);
      expect(stderr).toMatch(reason);
      expect(stderr).toContain(issuer.issuer);
    }
  });

  // Item 10 -----------------------------------------------------------------------------------

  test('a junk --server-crt or --server-key is refused by name, leaving nothing behind', async () => {
    const home = join(dir, 'home-junk');
    const junk = join(dir, 'junk.pem');
    await writeFile(junk, 'this is not a certificate\n');
    const certArgs = gatewayArgs(['--port', '0']);
    certArgs[certArgs.indexOf('--server-crt') + 1] = junk;
    const badCert = await s2csOutcome(certArgs, home);
    expect(badCert.result).toBe(1);
    expect(badCert.stderr).toContain(`--server-crt: "${junk}" is not a PEM certificate`);
    expect(badCert.stderr).not.toMatch(/error:[0-9A-F]{8}|routines/);
    const keyArgs = gatewayArgs(['--port', '0']);
    keyArgs[keyArgs.indexOf('--server-key') + 1] = ca.keyFile;
    const wrongKey = await s2csOutcome(keyArgs, home);
    expect(wrongKey.result).toBe(1);
    expect(wrongKey.stderr).toContain(
      `--server-key: "${ca.keyFile}" is not the private key of --server-crt "${server.certFile}"`
    );
    expect(await readdir(home).catch(() => [])).toEqual([]);
  });

  test('--port out of range, negative or in use is refused by name, leaving nothing behind', async () => {
    const home = join(dir, 'home-ports');
    for (const port of ['99999', '-1', '5x']) {
      const outcome = await s2csOutcome(gatewayArgs(['--port', port]), home);
      expect(outcome.result).toBe(1);
      expect(outcome.stderr).toContain(
        `--port: "${port}" is not a port; expected 0-65535 (0: any free port)`
      );
    }
    const occupied = net.createServer();
    await new Promise<void>(resolve => occupied.listen(0, '127.0.0.1', resolve));
    const { port } = occupied.address() as net.AddressInfo;
    try {
      const outcome = await s2csOutcome(gatewayArgs(['--port', String(port)]), home);
      expect(outcome.result).toBe(1);
      expect(outcome.stderr).toContain(
        `--port: 127.0.0.1:${port} is in use by another program (EADDRINUSE)`
      );
      expect(outcome.stderr).not.toContain('No address added');
    } finally {
      await new Promise<void>(resolve => occupied.close(() => resolve()));
    }
    expect(await readdir(home).catch(() => [])).toEqual([]);
  });

  test('s2uc stream against stopped gateways says why it failed', async () => {
    const [producerPort, consumerPort] = [await closedPort(), await closedPort()];
    const { code, stderr } = await s2uc(
      [
        'stream',
        '--producer-s2cs',
        `127.0.0.1:${producerPort}`,
        '--consumer-s2cs',
        `127.0.0.1:${consumerPort}`,
        '--producer-listeners',
        '127.0.0.1:9'
      ],
      { SCISTREAM_TOKEN: token }
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(
      new RegExp(
        `stream set-up failed: 127\\.0\\.0\\.1:(${producerPort}|${consumerPort}) (req|hello)`
      )
    );
    expect(stderr).toContain('ECONNREFUSED');
  });

  test('s2uc to an IP address prints no TLS warning and still checks the IP in the certificate', async () => {
    const listed = await s2uc(['status', '--s2cs', `127.0.0.1:${shared.port}`], {
      SCISTREAM_TOKEN: token
    });
    expect(listed.code).toBe(0);
    expect(listed.stderr).not.toMatch(/DeprecationWarning|ServerName/);
    // A gateway whose certificate names only "localhost" is refused at 127.0.0.1.
    const localhostOnly = await issueServerCertificate(ca, dir, 'localhost-only', ['localhost']);
    const named = gateway(
      gatewayArgs(['--port', '0', '--state-dir', join(dir, 'named')], localhostOnly)
    );
    const port = await named.start();
    const refused = await s2uc(['status', '--s2cs', `127.0.0.1:${port}`], {
      SCISTREAM_TOKEN: token
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/IP: 127\.0\.0\.1 is not in the cert's list/);
    const byName = await s2uc(['status', '--s2cs', `localhost:${port}`], {
      SCISTREAM_TOKEN: token
    });
    expect(byName).toMatchObject({ code: 0 });
    expect(await named.stop('SIGTERM')).toBe(0);
  });

  test('an existing --state-dir open to others is tightened to 0700', async () => {
    const stateDir = join(dir, 'open-state');
    await mkdir(stateDir);
    await chmod(stateDir, 0o777);
    const open = gateway(gatewayArgs(['--port', '0', '--state-dir', stateDir]));
    await open.start();
    expect((await stat(stateDir)).mode & 0o777).toBe(0o700);
    expect(open.stderr).toContain(`state directory ${stateDir} was open to others (0777)`);
    expect(await open.stop('SIGTERM')).toBe(0);
  });
});
