import { generateKeyPair, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import forge from 'node-forge';

/**
 * Per-pilot mutual TLS for Kafka. A pilot's supervisor makes a certificate authority of its own
 * (a child pilot uses its parent's), a broker certificate for the addresses of its nodes and a
 * client certificate; every listener (clients, inter-broker, KRaft controller) requires a
 * certificate from that authority. All files stay in the pilot's work directory, mode 0600.
 */

/** Where a pilot's TLS files live, relative to its work directory. */
export const TLS_DIR = posix.join('kafka', 'tls');

/** The files of a pilot's TLS directory. */
export const TLS_FILES = {
  /** The pilot's certificate authority (trust store of brokers and clients). */
  caCert: 'ca.pem',
  /** Only in the directory of the pilot that made the authority; signs its children's certs. */
  caKey: 'ca-key.pem',
  /** Key and certificate of the pilot's brokers, as Kafka's PEM key store reads them. */
  brokerKeyStore: 'broker.pem',
  clientCert: 'client.pem',
  clientKey: 'client-key.pem',
  /** Kafka's tools' --command-config (paths only, no secret in it). */
  toolConfig: 'client.properties'
} as const;

/** What a kafkajs client presents and trusts (kafkajs `ssl: {ca, cert, key}`). */
export interface KafkaClientCredentials {
  ca: string;
  cert: string;
  key: string;
}

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

interface Authority {
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
  // Positive 128-bit serial from the CSPRNG (a leading 0 bit keeps it positive in DER).
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  cert.serialNumber = serial.toString('hex');
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

async function newAuthority(pilotId: string): Promise<Authority> {
  const keys = await newKeyPair();
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

/** A certificate signed by `authority`, for a broker (serving and connecting) or a client. */
async function issue(
  authority: Authority,
  subject: string,
  hosts: readonly string[]
): Promise<{ certPem: string; keyPem: string }> {
  const keys = await newKeyPair();
  const cert = certificate({
    subject,
    publicKeyPem: keys.publicKeyPem,
    issuer: authority.cert.subject.attributes,
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      // Brokers are servers to clients and clients of each other and of the controllers.
      { name: 'extKeyUsage', serverAuth: hosts.length > 0, clientAuth: true },
      ...(hosts.length > 0 ? [{ name: 'subjectAltName', altNames: altNames(hosts) }] : [])
    ],
    signingKeyPem: authority.keyPem
  });
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privateKeyPem };
}

async function writeSecret(path: string, content: string): Promise<void> {
  await writeFile(path, content, { mode: 0o600 });
}

async function loadAuthority(dir: string): Promise<Authority> {
  const certPem = await readFile(join(dir, TLS_FILES.caCert), 'utf8');
  const keyPem = await readFile(join(dir, TLS_FILES.caKey), 'utf8');
  return { cert: forge.pki.certificateFromPem(certPem), certPem, keyPem };
}

/**
 * Writes a pilot's TLS files into `tlsDir` (made 0700, files 0600): with `parentTlsDir`, certs
 * from the parent's authority (a child's brokers join the parent's cluster); otherwise a new
 * authority. `hosts` are the addresses and names clients and brokers connect to.
 */
export async function issuePilotCredentials(options: {
  pilotId: string;
  tlsDir: string;
  hosts: readonly string[];
  parentTlsDir?: string;
}): Promise<void> {
  const { pilotId, tlsDir, hosts } = options;
  if (hosts.length === 0)
    throw new Error(`Pilot ${pilotId} has no host to issue a broker certificate for`);
  await mkdir(tlsDir, { recursive: true, mode: 0o700 });
  let authority: Authority;
  if (options.parentTlsDir !== undefined) {
    authority = await loadAuthority(options.parentTlsDir);
  } else {
    authority = await newAuthority(pilotId);
    await writeSecret(join(tlsDir, TLS_FILES.caKey), authority.keyPem);
  }
  await writeSecret(join(tlsDir, TLS_FILES.caCert), authority.certPem);
  const [broker, client] = await Promise.all([
    issue(authority, `pilot-streaming broker of ${pilotId}`, hosts),
    issue(authority, `pilot-streaming client of ${pilotId}`, [])
  ]);
  // Kafka's PEM key store: the private key, then the certificate chain.
  await writeSecret(
    join(tlsDir, TLS_FILES.brokerKeyStore),
    `${broker.keyPem}${broker.certPem}${authority.certPem}`
  );
  await writeSecret(join(tlsDir, TLS_FILES.clientCert), client.certPem);
  await writeSecret(join(tlsDir, TLS_FILES.clientKey), client.keyPem);
  const properties = Object.entries(clientProperties(tlsDir)).map(
    ([key, value]) => `${key}=${value.replace(/\\/g, '\\\\')}`
  );
  await writeSecret(join(tlsDir, TLS_FILES.toolConfig), `${properties.join('\n')}\n`);
}

/** Arguments that make one of Kafka's tools connect with the pilot's TLS files. */
export function toolSecurityArgs(tlsDir: string | undefined): string[] {
  return tlsDir === undefined ? [] : ['--command-config', join(tlsDir, TLS_FILES.toolConfig)];
}

/**
 * The client credentials in a pilot's TLS directory (`<work dir>/kafka/tls`), read with `read`
 * (local files, or SFTP for a pilot on a remote resource). The paths are POSIX: work
 * directories on resources are.
 */
export async function readClientCredentials(
  dir: string,
  read: (path: string) => Promise<Buffer>
): Promise<KafkaClientCredentials> {
  const [ca, cert, key] = await Promise.all(
    [TLS_FILES.caCert, TLS_FILES.clientCert, TLS_FILES.clientKey].map(async name => {
      const path = posix.join(dir, name);
      try {
        return (await read(path)).toString('utf8');
      } catch (error) {
        throw new Error(
          `Cannot read the pilot's Kafka client credentials ${path}: ${(error as Error).message}`,
          { cause: error }
        );
      }
    })
  );
  return { ca: ca!, cert: cert!, key: key! };
}

/** The settings of Kafka's own tools (and brokers as clients) for the pilot's TLS files. */
export function clientProperties(tlsDir: string): Record<string, string> {
  return {
    'security.protocol': 'SSL',
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': join(tlsDir, TLS_FILES.caCert),
    'ssl.keystore.type': 'PEM',
    'ssl.keystore.location': join(tlsDir, TLS_FILES.brokerKeyStore)
  };
}
