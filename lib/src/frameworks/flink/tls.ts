import { join, posix } from 'node:path';
import { AUTHORITY_FILES, issuePilotCertificates } from '../certificates.js';
import { writeJavaStores, type JavaStores } from '../java-stores.js';

/**
 * Per-pilot TLS for Flink. Every process of the pilot holds the node certificate of the pilot's
 * authority in a PKCS#12 key store and trusts only that authority (a PKCS#12 trust store), both
 * under one random password: RPC, blob and data connections between the JobManager and the
 * TaskManagers take only the pilot's own processes, and the REST endpoints (JobManager, SQL
 * Gateway) take only clients with a certificate of the authority.
 */

export const FLINK_TLS_DIR = posix.join('flink', 'tls');

export const FLINK_TLS_FILES = {
  ...AUTHORITY_FILES,
  keyStore: 'keystore.p12',
  trustStore: 'truststore.p12'
} as const;

/** What Flink's SSL settings name: the stores and their password. */
export type FlinkStores = JavaStores;

/**
 * Writes a Flink pilot's TLS files into `tlsDir` (0700, files 0600): the authority (or the
 * parent's, from `parentTlsDir`), the client certificate, and the node certificate (valid for
 * `hosts`) as Java stores.
 */
export async function issueFlinkCredentials(options: {
  pilotId: string;
  tlsDir: string;
  hosts: readonly string[];
  parentTlsDir?: string;
  /** keytool of the Java that runs Flink (it makes the trust store). */
  keytool?: string;
}): Promise<FlinkStores> {
  const { pilotId, tlsDir } = options;
  const { authority, server: node } = await issuePilotCertificates({
    pilotId,
    tlsDir,
    hosts: options.hosts,
    serverSubject: `pilot-streaming Flink node of ${pilotId}`,
    ...(options.parentTlsDir !== undefined ? { parentTlsDir: options.parentTlsDir } : {})
  });
  return writeJavaStores({
    keyStore: join(tlsDir, FLINK_TLS_FILES.keyStore),
    trustStore: join(tlsDir, FLINK_TLS_FILES.trustStore),
    node,
    authority,
    caCertPath: join(tlsDir, FLINK_TLS_FILES.caCert),
    framework: 'Flink',
    ...(options.keytool !== undefined ? { keytool: options.keytool } : {})
  });
}
