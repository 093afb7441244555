import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
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
