import { X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  issuePilotCredentials,
  readClientCredentials,
  toolSecurityArgs
} from '../../../src/frameworks/kafka/tls.js';

/** The certificates of a PEM file, in order. */
function certificates(pem: string): X509Certificate[] {
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)].map(
    match => new X509Certificate(match[0])
  );
}

describe('per-pilot Kafka TLS credentials', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kafka-tls-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('makes an authority, a broker certificate for every node address and name, and a client certificate, all 0600', async () => {
    const tlsDir = join(dir, 'p1');
    await issuePilotCredentials({
      pilotId: 'p1',
      tlsDir,
      hosts: ['10.0.0.1', 'node-a', '10.0.0.2', 'node-b', '10.0.0.1']
    });
    expect((await stat(tlsDir)).mode & 0o777).toBe(0o700);
    for (const file of await readdir(tlsDir)) {
      expect([file, (await stat(join(tlsDir, file))).mode & 0o777]).toEqual([file, 0o600]);
    }
    const [ca] = certificates(await readFile(join(tlsDir, 'ca.pem'), 'utf8'));
    expect(ca!.ca).toBe(true);
    const keyStore = await readFile(join(tlsDir, 'broker.pem'), 'utf8');
    // Kafka's PEM key store: an unencrypted PKCS#8 key, then the chain up to the authority.
    expect(keyStore.startsWith('-----BEGIN PRIVATE KEY-----')).toBe(true);
    const [broker, chainCa] = certificates(keyStore);
    expect(chainCa!.fingerprint256).toBe(ca!.fingerprint256);
    expect(broker!.verify(ca!.publicKey)).toBe(true);
    expect(broker!.ca).toBe(false);
    for (const ip of ['10.0.0.1', '10.0.0.2']) expect(broker!.checkIP(ip)).toBe(ip);
    for (const host of ['node-a', 'node-b']) expect(broker!.checkHost(host)).toBe(host);
    expect(broker!.checkIP('10.0.0.3')).toBeUndefined();
    expect(broker!.checkHost('node-c')).toBeUndefined();

    const client = await readClientCredentials(tlsDir, path => readFile(path));
    expect(new X509Certificate(client.ca).fingerprint256).toBe(ca!.fingerprint256);
    const clientCert = new X509Certificate(client.cert);
    expect(clientCert.verify(ca!.publicKey)).toBe(true);
    expect(clientCert.subjectAltName).toBeUndefined();
    expect(clientCert.serialNumber).not.toBe(broker!.serialNumber);

    expect(toolSecurityArgs(tlsDir)).toEqual([
      '--command-config',
      join(tlsDir, 'client.properties')
    ]);
    expect(toolSecurityArgs(undefined)).toEqual([]);
    const tools = await readFile(join(tlsDir, 'client.properties'), 'utf8');
    expect(tools).toContain('security.protocol=SSL\n');
    expect(tools).toContain(`ssl.keystore.location=${join(tlsDir, 'broker.pem')}\n`);
  });

  it("issues a child's certificates from its parent's authority, whose key stays with the parent", async () => {
    const parent = join(dir, 'parent');
    const child = join(dir, 'child');
    await issuePilotCredentials({ pilotId: 'parent', tlsDir: parent, hosts: ['10.0.0.1'] });
    await issuePilotCredentials({
      pilotId: 'child',
      tlsDir: child,
      hosts: ['10.0.0.9'],
      parentTlsDir: parent
    });
    expect(await readdir(child)).not.toContain('ca-key.pem');
    const [ca] = certificates(await readFile(join(parent, 'ca.pem'), 'utf8'));
    const [broker] = certificates(await readFile(join(child, 'broker.pem'), 'utf8'));
    expect(broker!.verify(ca!.publicKey)).toBe(true);
    expect(broker!.checkIP('10.0.0.9')).toBe('10.0.0.9');
    // Another pilot's authority is another one: its certificates do not chain to this one.
    const other = join(dir, 'other');
    await issuePilotCredentials({ pilotId: 'other', tlsDir: other, hosts: ['10.0.0.1'] });
    const [otherBroker] = certificates(await readFile(join(other, 'broker.pem'), 'utf8'));
    expect(otherBroker!.verify(ca!.publicKey)).toBe(false);
  });

  it('names the file it cannot read', async () => {
    await expect(readClientCredentials(join(dir, 'none'), path => readFile(path))).rejects.toThrow(
      /Cannot read the pilot's Kafka client credentials .*none\/ca\.pem: ENOENT/
    );
  });
});
