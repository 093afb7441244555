import { execFile } from 'node:child_process';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** PEM files of a certificate and its private key. */
export interface CertificateFiles {
  certFile: string;
  keyFile: string;
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || String(error)}`, {
      cause: error
    });
  }
}

/**
 * A certificate authority for one deployment (or one test run): an EC P-256 key and a
 * self-signed CA certificate, written to `dir`. Node cannot sign X.509 itself, so the openssl
 * command does the signing.
 */
export async function createCertificateAuthority(
  dir: string,
  commonName = 'SciStream CA'
): Promise<CertificateFiles> {
  const files = { certFile: join(dir, 'ca.crt'), keyFile: join(dir, 'ca.key') };
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    files.keyFile,
    '-out',
    files.certFile,
    '-days',
    '30',
    '-subj',
    `/CN=${commonName}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign'
  ]);
  return files;
}

/**
 * A server certificate for `names` (host names and IP addresses, all put in subjectAltName),
 * signed by `ca`, written to `dir` as `<basename>.crt` / `<basename>.key`.
 */
export async function issueServerCertificate(
  ca: CertificateFiles,
  dir: string,
  basename: string,
  names: string[]
): Promise<CertificateFiles> {
  if (names.length === 0) throw new Error('issueServerCertificate: names must not be empty');
  const files = { certFile: join(dir, `${basename}.crt`), keyFile: join(dir, `${basename}.key`) };
  const csr = join(dir, `${basename}.csr`);
  const extensions = join(dir, `${basename}.ext`);
  const altNames = names.map(name => (isIP(name) ? `IP:${name}` : `DNS:${name}`)).join(',');
  await writeFile(
    extensions,
    `subjectAltName=${altNames}\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n`
  );
  await openssl([
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    files.keyFile,
    '-out',
    csr,
    '-subj',
    `/CN=${names[0]}`
  ]);
  await openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.certFile,
    '-CAkey',
    ca.keyFile,
    '-CAcreateserial',
    '-out',
    files.certFile,
    '-days',
    '30',
    '-extfile',
    extensions
  ]);
  return files;
}

/** A certificate and its key as read and checked, ready for a TLS server. */
export interface TlsIdentity {
  cert: Buffer;
  key: Buffer;
}

async function readPem(file: string, key: string, expected: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new Error(`${key}: "${file}" cannot be read (${code}); expected ${expected}`, {
      cause: error
    });
  }
}

const PEM_CERTIFICATE = 'an X.509 certificate in PEM form ("-----BEGIN CERTIFICATE-----")';

/**
 * Reads a PEM certificate file (a CA, or a server's own); the error names `key` (the option
 * it came from), the file and what is expected instead of OpenSSL's error codes.
 */
export async function readCertificate(
  file: string,
  key: string
): Promise<{ pem: Buffer; certificate: X509Certificate }> {
  const pem = await readPem(file, key, PEM_CERTIFICATE);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch (error) {
    throw new Error(`${key}: "${file}" is not a PEM certificate; expected ${PEM_CERTIFICATE}`, {
      cause: error
    });
  }
  if (Date.parse(certificate.validTo) < Date.now()) {
    throw new Error(
      `${key}: "${file}" expired on ${certificate.validTo}; expected a certificate valid now`
    );
  }
  return { pem, certificate };
}

/**
 * A TLS server's certificate and private key, checked to belong together, so a wrong file
 * fails at start with its name rather than as an OpenSSL code at the first connection.
 */
export async function readServerIdentity(
  files: CertificateFiles,
  keys: { cert: string; key: string } = { cert: 'certificate', key: 'private key' }
): Promise<TlsIdentity> {
  const { pem, certificate } = await readCertificate(files.certFile, keys.cert);
  const expectedKey = 'an unencrypted private key in PEM form ("-----BEGIN PRIVATE KEY-----")';
  const keyPem = await readPem(files.keyFile, keys.key, expectedKey);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(keyPem);
  } catch (error) {
    throw new Error(
      `${keys.key}: "${files.keyFile}" is not a PEM private key; expected ${expectedKey}`,
      {
        cause: error
      }
    );
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new Error(
      `${keys.key}: "${files.keyFile}" is not the private key of ${keys.cert} "${files.certFile}"; ` +
        'expected the key the certificate was issued for'
    );
  }
  return { cert: pem, key: keyPem };
}
