import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import forge from 'node-forge';
import { AUTHORITY_FILES, issuePilotCertificates, writeSecret } from '../certificates.js';
import { javaTempOptions } from '../java-temp.js';

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
export interface SparkStores {
  keyStore: string;
  trustStore: string;
  password: string;
}

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
  const stores: SparkStores = {
    keyStore: join(tlsDir, SPARK_TLS_FILES.keyStore),
    trustStore: join(tlsDir, SPARK_TLS_FILES.trustStore),
    password: randomBytes(24).toString('base64url')
  };
  const keyStore = forge.pkcs12.toPkcs12Asn1(
    forge.pki.privateKeyFromPem(node.keyPem),
    [forge.pki.certificateFromPem(node.certPem), authority.cert],
    stores.password,
    { algorithm: '3des', friendlyName: 'node' }
  );
  await Promise.all([
    writeSecret(join(tlsDir, SPARK_TLS_FILES.nodeCert), `${node.certPem}${authority.certPem}`),
    writeSecret(join(tlsDir, SPARK_TLS_FILES.nodeKey), node.keyPem),
    writeFile(stores.keyStore, Buffer.from(forge.asn1.toDer(keyStore).getBytes(), 'binary'), {
      mode: 0o600
    })
  ]);
  // A trusted-certificate entry needs Java's own attribute, which keytool writes.
  await new Promise<void>((resolve, reject) => {
    execFile(
      options.keytool ?? 'keytool',
      [
        '-importcert',
        '-noprompt',
        '-alias',
        'pilot-authority',
        '-file',
        join(tlsDir, SPARK_TLS_FILES.caCert),
        '-keystore',
        stores.trustStore,
        '-storetype',
        'PKCS12',
        // The password from the environment: a command line is visible to every user.
        '-storepass:env',
        'PILOT_STORE_PASSWORD',
        ...javaTempOptions().map(option => `-J${option}`)
      ],
      { env: { ...process.env, PILOT_STORE_PASSWORD: stores.password } },
      (error, _stdout, stderr) =>
        error
          ? reject(
              new Error(`keytool could not make the Spark trust store: ${stderr || error.message}`)
            )
          : resolve()
    );
  });
  await chmod(stores.trustStore, 0o600);
  return stores;
}
