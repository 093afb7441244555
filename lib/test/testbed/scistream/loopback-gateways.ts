import { randomInt } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  JwksTokenVerifier,
  type TokenVerifier
} from '../../../src/scistream/auth/token-verifier.js';
import {
  ControlServer,
  type ControlServerOptions
} from '../../../src/scistream/s2cs/control-server.js';
import { Gateway } from '../../../src/scistream/s2uc/gateway.js';
import {
  createCertificateAuthority,
  issueServerCertificate,
  type CertificateFiles
} from '../../../src/scistream/tls/certificates.js';
import { AUDIENCE, OidcIssuer, SCISTREAM_SCOPE } from './oidc-issuer.js';

/**
 * A port range of `width` ports somewhere in 10000-32767, different each run: below Linux's
 * ephemeral range, so outgoing connections never occupy gateway ports.
 */
export function randomPortRange(width: number): { low: number; high: number } {
  const low = randomInt(10_000, 32_768 - width);
  return { low, high: low + width - 1 };
}

/**
 * Two S2CS gateways on loopback (producer and consumer side) with a per-run CA, a real OIDC
 * issuer, and a private state directory each, all removed by `stop()`.
 */
export class LoopbackGateways {
  dir = '';
  ca!: CertificateFiles;
  server!: CertificateFiles;
  issuer = new OidcIssuer();
  verifier!: TokenVerifier;
  producer!: ControlServer;
  consumer!: ControlServer;
  readonly logs: string[] = [];

  async start(overrides: Partial<ControlServerOptions> = {}): Promise<void> {
    // Short: session sockets live below it, and a Unix socket path holds at most 107 bytes.
    this.dir = await mkdtemp(join(tmpdir(), 'sst-'));
    this.ca = await createCertificateAuthority(this.dir);
    this.server = await issueServerCertificate(this.ca, this.dir, 'gateway', [
      'localhost',
      '127.0.0.1'
    ]);
    await this.issuer.start();
    this.verifier = new JwksTokenVerifier({
      issuer: this.issuer.issuer,
      audience: AUDIENCE,
      requiredScope: SCISTREAM_SCOPE
    });
    this.producer = this.makeServer('producer', overrides);
    this.consumer = this.makeServer('consumer', overrides);
    await this.producer.start();
    await this.consumer.start();
  }

  makeServer(name: string, overrides: Partial<ControlServerOptions> = {}): ControlServer {
    return new ControlServer({
      bindHost: '127.0.0.1',
      port: 0,
      listenerHost: '127.0.0.1',
      portRange: randomPortRange(400),
      stateDir: join(this.dir, name),
      tls: this.server,
      auth: this.verifier,
      peerCaFile: this.ca.certFile,
      helloTimeoutMs: 20_000,
      log: line => this.logs.push(`${name}: ${line}`),
      ...overrides
    });
  }

  async gateway(server: ControlServer, token?: string): Promise<Gateway> {
    return new Gateway({
      address: `127.0.0.1:${server.port}`,
      caCert: await readFile(this.ca.certFile),
      token
    });
  }

  async stop(): Promise<void> {
    await this.producer?.close();
    await this.consumer?.close();
    await this.issuer.stop();
    if (this.dir !== '') await rm(this.dir, { recursive: true, force: true });
  }
}
