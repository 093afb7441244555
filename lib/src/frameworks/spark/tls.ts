import { join, posix } from 'node:path';
import { AUTHORITY_FILES, issuePilotCertificates, writeSecret } from '../certificates.js';
import { writeJavaStores, type JavaStores } from '../java-stores.js';

/**
 * Per-pilot TLS for Spark. Spark's web UIs (master, workers, the Connect server's driver) serve
 * HTTPS only to clients with a certificate of the pilot's authority (Java key and trust stores,
 * PKCS#12, with a random password); the supervisor's TLS front of the Connect server presents
 * the PEM node certificate and takes the same clients.
 */

export const SPARK_TLS_DIR = posix.join('spark', 'tls');

export const SPARK_TLS_FILES = {
  ...AUTHORITY_FILES,
  nodeCert: 'node.pem',
  nodeKey: 'node-key.pem',
  keyStore: 'keystore.p12',
  trustStore: 'truststore.p12'
} as const;

/** What Spark's SSL settings name: the stores and their password. */
export type SparkStores = JavaStores;

/**
 * Writes a Spark pilot's TLS files into `tlsDir` (0700, files 0600): the authority (or the
 * parent's), PEM node and client certificates, and the node certificate as Java stores.
 */
export async function issueSparkCredentials(options: {
  pilotId: string;
  tlsDir: string;
  hosts: readonly string[];
  parentTlsDir?: string;
  /** keytool of the Java that runs Spark (it makes the trust store). */
  keytool?: string;
}): Promise<SparkStores> {
  const { pilotId, tlsDir } = options;
  const { authority, server: node } = await issuePilotCertificates({
    ...options,
    serverSubject: `pilot-streaming Spark node of ${pilotId}`
  });
  await Promise.all([
    writeSecret(join(tlsDir, SPARK_TLS_FILES.nodeCert), `${node.certPem}${authority.certPem}`),
    writeSecret(join(tlsDir, SPARK_TLS_FILES.nodeKey), node.keyPem)
  ]);
  return writeJavaStores({
    keyStore: join(tlsDir, SPARK_TLS_FILES.keyStore),
    trustStore: join(tlsDir, SPARK_TLS_FILES.trustStore),
    node,
    authority,
    caCertPath: join(tlsDir, SPARK_TLS_FILES.caCert),
    framework: 'Spark',
    ...(options.keytool !== undefined ? { keytool: options.keytool } : {})
  });
}
