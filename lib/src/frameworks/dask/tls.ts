import { join, posix } from 'node:path';
import { AUTHORITY_FILES, issuePilotCertificates, writeSecret } from '../certificates.js';

/**
 * Per-pilot mutual TLS for Dask: the scheduler, the workers and their nannies listen TLS only and
 * take peers with a certificate of the pilot's own authority (distributed verifies both sides
 * when a CA file is given); clients present the pilot's client certificate. All files stay in
 * the pilot's work directory, mode 0600.
 */

/** Where a Dask pilot's TLS files live, relative to its work directory. */
export const DASK_TLS_DIR = posix.join('dask', 'tls');

export const DASK_TLS_FILES = {
  ...AUTHORITY_FILES,
  /** What the scheduler, workers and nannies present (as servers and to each other). */
  nodeCert: 'node.pem',
  nodeKey: 'node-key.pem'
} as const;

/** Paths of what a client presents and trusts, in a pilot's TLS directory (POSIX paths). */
export interface DaskClientFiles {
  ca: string;
  cert: string;
  key: string;
}

export function daskClientFiles(tlsDir: string): DaskClientFiles {
  return {
    ca: posix.join(tlsDir, DASK_TLS_FILES.caCert),
    cert: posix.join(tlsDir, DASK_TLS_FILES.clientCert),
    key: posix.join(tlsDir, DASK_TLS_FILES.clientKey)
  };
}

/** `dask scheduler` / `dask worker` options that make it listen and connect with TLS only. */
export function daskServerTlsArgs(tlsDir: string): string[] {
  return [
    '--protocol',
    'tls',
    '--tls-ca-file',
    join(tlsDir, DASK_TLS_FILES.caCert),
    '--tls-cert',
    join(tlsDir, DASK_TLS_FILES.nodeCert),
    '--tls-key',
    join(tlsDir, DASK_TLS_FILES.nodeKey)
  ];
}

/**
 * Writes a Dask pilot's TLS files into `tlsDir` (0700, files 0600): a new authority, or the
 * parent's with `parentTlsDir` (a child's workers join the parent's scheduler).
 */
export async function issueDaskCredentials(options: {
  pilotId: string;
  tlsDir: string;
  hosts: readonly string[];
  parentTlsDir?: string;
}): Promise<void> {
  const { pilotId, tlsDir } = options;
  const { authority, server: node } = await issuePilotCertificates({
    ...options,
    serverSubject: `pilot-streaming Dask node of ${pilotId}`
  });
  await Promise.all([
    writeSecret(join(tlsDir, DASK_TLS_FILES.nodeCert), `${node.certPem}${authority.certPem}`),
    writeSecret(join(tlsDir, DASK_TLS_FILES.nodeKey), node.keyPem)
  ]);
}
