import { generateKeyPair, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import forge from 'node-forge';

/**
 * A pilot's own certificate authority and the certificates it signs, for frameworks whose
 * endpoints take mutual TLS (Kafka's listeners, Dask's scheduler and workers). Keys come from
 * Node's CSPRNG-backed generator; files are written 0600.
 */

const KEY_BITS = 2048;
/** Nodes' clocks may differ a little; a certificate valid from a bit earlier is not refused. */
const CLOCK_SKEW_MS = 60 * 60_000;
/** Longer than any walltime a pilot may ask for (a year). */
const VALIDITY_MS = 400 * 24 * 60 * 60_000;

interface KeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

const generateRsaKeyPair = promisify(generateKeyPair);

/**
 * An RSA key from Node's CSPRNG-backed generator; PKCS#8, the form Kafka's PEM key store reads.
 * Made on libuv's thread pool: the prime search can take seconds on a loaded node, during which
 * the supervisor must go on hearing its agents' heartbeats.
 */
async function newKeyPair(): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateRsaKeyPair('rsa', {
    modulusLength: KEY_BITS,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' }
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

export interface Authority {
  cert: forge.pki.Certificate;
  certPem: string;
  keyPem: string;
}

function certificate(options: {
  subject: string;
  publicKeyPem: string;
  issuer: forge.pki.CertificateField[] | undefined;
  extensions: object[];
  signingKeyPem: string;
}): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(options.publicKeyPem);
  cert.serialNumber = serialNumber(randomBytes(16));
  const now = Date.now();
  cert.validity.notBefore = new Date(now - CLOCK_SKEW_MS);
  cert.validity.notAfter = new Date(now + VALIDITY_MS);
  const subject = [{ name: 'commonName', value: options.subject }];
  cert.setSubject(subject);
  cert.setIssuer(options.issuer ?? subject);
  cert.setExtensions(options.extensions);
  cert.sign(forge.pki.privateKeyFromPem(options.signingKeyPem), forge.md.sha256.create());
  return cert;
}

async function newAuthority(
  pilotId: string,
  keyPair: Promise<KeyPair> = newKeyPair()
): Promise<Authority> {
  const keys = await keyPair;
  const cert = certificate({
    subject: `pilot-streaming CA of ${pilotId}`,
    publicKeyPem: keys.publicKeyPem,
    issuer: undefined,
    extensions: [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      { name: 'subjectKeyIdentifier' }
    ],
    signingKeyPem: keys.privateKeyPem
  });
  return { cert, certPem: forge.pki.certificateToPem(cert), keyPem: keys.privateKeyPem };
}

/** A subject alternative name for each address or host name (IP entries for IP addresses). */
function altNames(hosts: readonly string[]): object[] {
  return [...new Set(hosts)].map(host =>
    isIP(host) !== 0 ? { type: 7, ip: host } : { type: 2, value: host }
  );
}

/**
 * A certificate signed by `authority`: for a server that also connects to its peers (a broker, a
 * Dask scheduler or worker) when `hosts` are given, else for a client.
 */
async function issue(
  authority: Authority,
  subject: string,
  hosts: readonly string[],
  keyPair: Promise<KeyPair> = newKeyPair()
): Promise<{ certPem: string; keyPem: string }> {
  const keys = await keyPair;
  const cert = certificate({
    subject,
    publicKeyPem: keys.publicKeyPem,
    issuer: authority.cert.subject.attributes,
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      // Servers are clients of each other too (brokers of the controllers, workers of the scheduler).
      { name: 'extKeyUsage', serverAuth: hosts.length > 0, clientAuth: true },
      ...(hosts.length > 0 ? [{ name: 'subjectAltName', altNames: altNames(hosts) }] : [])
    ],
    signingKeyPem: authority.keyPem
  });
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privateKeyPem };
}

/**
 * A certificate serial (hex) from 16 random bytes: positive and minimally encoded in DER, as
 * OpenSSL 3 requires (a first byte of 0x00 followed by one below 0x80 is refused as "unsupported",
 * which failed about one certificate in 500). The first byte is forced into 0x40-0x7f.
 */
export function serialNumber(random: Buffer): string {
  const serial = Buffer.from(random);
  serial[0] = 0x40 | (serial[0]! & 0x3f);
  return serial.toString('hex');
}

/** Writes a file only its owner can read (0600). */
export async function writeSecret(path: string, content: string): Promise<void> {
  await writeFile(path, content, { mode: 0o600 });
}

/** The files every pilot's TLS directory holds, whatever the framework. */
export const AUTHORITY_FILES = {
  /** The pilot's certificate authority (what servers and clients trust). */
  caCert: 'ca.pem',
  /** Only in the directory of the pilot that made the authority; signs its children's certs. */
  caKey: 'ca-key.pem',
  clientCert: 'client.pem',
  clientKey: 'client-key.pem'
} as const;

/** The authority whose certificate and key are in `dir`. */
async function loadAuthority(dir: string): Promise<Authority> {
  const certPem = await readFile(join(dir, AUTHORITY_FILES.caCert), 'utf8');
  const keyPem = await readFile(join(dir, AUTHORITY_FILES.caKey), 'utf8');
  return { cert: forge.pki.certificateFromPem(certPem), certPem, keyPem };
}

/**
 * Makes `tlsDir` (0700) with the pilot's authority — a new one, its key kept there, or its
 * parent's from `parentTlsDir` — and a client certificate (AUTHORITY_FILES, 0600); returns the
 * authority and a server certificate for `hosts`, which the framework stores its own way. All
 * keys are made at once: each takes up to a few hundred milliseconds on a loaded node.
 */
export async function issuePilotCertificates(options: {
  pilotId: string;
  tlsDir: string;
  hosts: readonly string[];
  serverSubject: string;
  parentTlsDir?: string;
}): Promise<{ authority: Authority; server: { certPem: string; keyPem: string } }> {
  const { pilotId, tlsDir } = options;
  await mkdir(tlsDir, { recursive: true, mode: 0o700 });
  const [serverKeys, clientKeys] = [newKeyPair(), newKeyPair()];
  // Their failure is reported where they are awaited, not as unhandled while the CA is made.
  for (const keys of [serverKeys, clientKeys]) keys.catch(() => undefined);
  let authority: Authority;
  if (options.parentTlsDir !== undefined) {
    authority = await loadAuthority(options.parentTlsDir);
  } else {
    authority = await newAuthority(pilotId);
    await writeSecret(join(tlsDir, AUTHORITY_FILES.caKey), authority.keyPem);
  }
  const [server, client] = await Promise.all([
    issue(authority, options.serverSubject, options.hosts, serverKeys),
    issue(authority, `pilot-streaming client of ${pilotId}`, [], clientKeys)
  ]);
  await Promise.all([
    writeSecret(join(tlsDir, AUTHORITY_FILES.caCert), authority.certPem),
    writeSecret(join(tlsDir, AUTHORITY_FILES.clientCert), client.certPem),
    writeSecret(join(tlsDir, AUTHORITY_FILES.clientKey), client.keyPem)
  ]);
  return { authority, server };
}

/** What a client of a pilot's framework presents and trusts (PEM texts). */
export interface ClientCredentials {
  ca: string;
  cert: string;
  key: string;
}

/**
 * The client credentials in a pilot's TLS directory, read with `read` (local files, or SFTP for
 * a pilot on a remote resource; the paths are POSIX, as work directories on resources are).
 * An unreadable file is named, the first in a fixed order whichever read failed first.
 */
export async function readPilotClientCredentials(
  dir: string,
  read: (path: string) => Promise<Buffer>,
  framework: string
): Promise<ClientCredentials> {
  const names = [AUTHORITY_FILES.caCert, AUTHORITY_FILES.clientCert, AUTHORITY_FILES.clientKey];
  const reads = await Promise.allSettled(names.map(name => read(posix.join(dir, name))));
  const failed = reads.findIndex(outcome => outcome.status === 'rejected');
  if (failed !== -1) {
    const { reason } = reads[failed] as PromiseRejectedResult;
    throw new Error(
      `Cannot read the pilot's ${framework} client credentials ${posix.join(dir, names[failed]!)}: ${(reason as Error).message}`,
      { cause: reason }
    );
  }
  const [ca, cert, key] = reads.map(outcome =>
    (outcome as PromiseFulfilledResult<Buffer>).value.toString('utf8')
  );
  return { ca: ca!, cert: cert!, key: key! };
}
