import { join, posix } from 'node:path';
import type { FrameworkDetails } from '../../protocol/index.js';
import {
  AUTHORITY_FILES,
  issuePilotCertificates,
  readPilotClientCredentials,
  writeSecret,
  type ClientCredentials
} from '../certificates.js';

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
  ...AUTHORITY_FILES,
  /** Key and certificate of the pilot's brokers, as Kafka's PEM key store reads them. */
  brokerKeyStore: 'broker.pem',
  /** Kafka's tools' --command-config (paths only, no secret in it). */
  toolConfig: 'client.properties'
} as const;

/** What a kafkajs client presents and trusts (kafkajs `ssl: {ca, cert, key}`). */
export type KafkaClientCredentials = ClientCredentials;

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
  const { authority, server: broker } = await issuePilotCertificates({
    ...options,
    serverSubject: `pilot-streaming broker of ${pilotId}`
  });
  // Kafka's PEM key store: the private key, then the certificate chain.
  await writeSecret(
    join(tlsDir, TLS_FILES.brokerKeyStore),
    `${broker.keyPem}${broker.certPem}${authority.certPem}`
  );
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
 * (local files, or SFTP for a pilot on a remote resource).
 */
export function readClientCredentials(
  dir: string,
  read: (path: string) => Promise<Buffer>
): Promise<KafkaClientCredentials> {
  return readPilotClientCredentials(dir, read, 'Kafka');
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

/** A Kafka cluster as a client on the pilot's resource reaches it (a Dask bridge's consumer). */
export interface KafkaSource {
  bootstrapServers: string[];
  /** Paths of the pilot's client credentials there; absent for a PLAINTEXT pilot. */
  tls?: { ca: string; cert: string; key: string };
}

/** The KafkaSource of a Running Kafka pilot's record (paths only, no secret). */
export function kafkaSource(record: {
  id: string;
  details?: FrameworkDetails;
  workDir?: string;
}): KafkaSource {
  const { details, workDir } = record;
  if (details?.type !== 'kafka') {
    throw new Error(`pilot ${record.id} is not a Running Kafka pilot: no Kafka to read from`);
  }
  if (details.security !== 'tls') return { bootstrapServers: details.bootstrapServers };
  if (workDir === undefined) {
    throw new Error(`pilot ${record.id} listens TLS but its record names no work directory`);
  }
  const dir = posix.join(workDir, TLS_DIR);
  return {
    bootstrapServers: details.bootstrapServers,
    tls: {
      ca: posix.join(dir, TLS_FILES.caCert),
      cert: posix.join(dir, TLS_FILES.clientCert),
      key: posix.join(dir, TLS_FILES.clientKey)
    }
  };
}
