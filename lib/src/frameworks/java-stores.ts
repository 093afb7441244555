import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, writeFile } from 'node:fs/promises';
import forge from 'node-forge';
import type { Authority } from './certificates.js';
import { javaTempOptions } from './java-temp.js';

/** The PKCS#12 stores a JVM framework's TLS settings name, and their one password. */
export interface JavaStores {
  keyStore: string;
  trustStore: string;
  password: string;
}

/**
 * Writes a node's certificate and key as a PKCS#12 key store and the pilot's authority as a
 * PKCS#12 trust store (both 0600) under a random password. The trust store is made by keytool:
 * Java trusts a PKCS#12 certificate only with its own trusted-certificate attribute.
 */
export async function writeJavaStores(options: {
  keyStore: string;
  trustStore: string;
  node: { certPem: string; keyPem: string };
  authority: Authority;
  /** The authority's certificate as a PEM file, which keytool imports. */
  caCertPath: string;
  /** Names the framework in errors. */
  framework: string;
  keytool?: string;
}): Promise<JavaStores> {
  const stores: JavaStores = {
    keyStore: options.keyStore,
    trustStore: options.trustStore,
    password: randomBytes(24).toString('base64url')
  };
  const keyStore = forge.pkcs12.toPkcs12Asn1(
    forge.pki.privateKeyFromPem(options.node.keyPem),
    [forge.pki.certificateFromPem(options.node.certPem), options.authority.cert],
    stores.password,
    { algorithm: '3des', friendlyName: 'node' }
  );
  await writeFile(stores.keyStore, Buffer.from(forge.asn1.toDer(keyStore).getBytes(), 'binary'), {
    mode: 0o600
  });
  await new Promise<void>((resolve, reject) => {
    execFile(
      options.keytool ?? 'keytool',
      [
        '-importcert',
        '-noprompt',
        '-alias',
        'pilot-authority',
        '-file',
        options.caCertPath,
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
              new Error(
                `keytool could not make the ${options.framework} trust store ${stores.trustStore}: ${stderr.trim() || error.message}`,
                { cause: error }
              )
            )
          : resolve()
    );
  });
  await chmod(stores.trustStore, 0o600);
  return stores;
}
