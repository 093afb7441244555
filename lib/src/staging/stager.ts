import { posix } from 'node:path';
import type { CachedDistribution, ProgressListener } from '../frameworks/index.js';
import type { RemoteConnection } from '../remote/index.js';
import type { Installation } from './installation.js';
import { BUNDLE_FILE, libraryBundle } from './library-bundle.js';
import { ensureNodeTarball, nodePackageFor, usableRemoteNode } from './node-runtime.js';
import { sha256Of, stageDirectory } from './staged-directory.js';

/** What the user configured (PILOT_STREAMING_REMOTE_*); the rest is found or staged. */
export interface InstallationSettings {
  node?: string;
  /** An installed library's package directory on the resource. */
  lib?: string;
  /** The resource's cache (absolute); else `<pilot home there>/cache`. */
  cacheDir?: string;
}

export interface StagingReport {
  installation: Installation;
  /** What was copied to the resource (empty when everything was there already). */
  staged: { what: string; bytes: number }[];
}

/**
 * Makes sure the resource has what a pilot runs with: a Node.js (its own when new enough, else
 * the npm registry's build for its machine), the library's bundle and the framework's
 * distribution, in its cache, once per version; everything it writes is inside that cache.
 */
export async function prepareInstallation(
  connection: RemoteConnection,
  options: {
    settings: InstallationSettings;
    resourceHome: string;
    /** This client's cache (the Node.js tarball is kept there). */
    localCacheDir: string;
    distribution: CachedDistribution;
    onProgress: ProgressListener;
  }
): Promise<StagingReport> {
  const { settings, onProgress } = options;
  const cacheDir = settings.cacheDir ?? posix.join(options.resourceHome, 'cache');
  if (!posix.isAbsolute(cacheDir)) {
    throw new Error(
      `The cache on ${connection.label} is ${JSON.stringify(cacheDir)}: expected an absolute path (PILOT_STREAMING_REMOTE_CACHE)`
    );
  }
  const staged: StagingReport['staged'] = [];
  const stage = async (directory: Parameters<typeof stageDirectory>[1]): Promise<void> => {
    const { bytesSent } = await stageDirectory(connection, directory, onProgress);
    if (bytesSent > 0) staged.push({ what: directory.what, bytes: bytesSent });
  };

  onProgress({ stage: `Checking what ${connection.label} has` });
  const node =
    settings.node ??
    (await stageNode(connection, cacheDir, options.localCacheDir, stage, onProgress));

  let library: Installation['library'];
  if (settings.lib !== undefined) {
    library = { directory: settings.lib };
  } else {
    const { files, sums } = await libraryBundle();
    const marker = files.map((file, index) => `${sums[index]!}  ${file.name}\n`).join('');
    // Named by its content: each build of the library gets a directory of its own.
    const remoteDir = posix.join(cacheDir, 'library', sums[0]!.slice(0, 16));
    await stage({
      what: 'the Pilot-Streaming library',
      remoteDir,
      files,
      marker: { name: 'staged.sha256', content: marker }
    });
    library = { bundle: posix.join(remoteDir, BUNDLE_FILE) };
  }

  const distribution = options.distribution;
  await stage({
    what: distribution.what,
    remoteDir: posix.join(cacheDir, distribution.directory),
    files: distribution.files.map(name => ({
      local: posix.join(distribution.localDir, name),
      name
    })),
    marker: distribution.marker
  });
  return { installation: { node, library, cacheDir }, staged };
}

async function stageNode(
  connection: RemoteConnection,
  cacheDir: string,
  localCacheDir: string,
  stage: (directory: Parameters<typeof stageDirectory>[1]) => Promise<void>,
  onProgress: ProgressListener
): Promise<string> {
  const own = await usableRemoteNode(connection);
  if ('path' in own) return own.path;
  const packageName = await nodePackageFor(connection);
  // The version this client runs: the library is built and tested with it.
  const version = process.versions.node;
  onProgress({ stage: `${connection.label} has ${own.reason}: staging Node.js ${version}` });
  const tarball = await ensureNodeTarball({
    cacheDir: localCacheDir,
    packageName,
    version,
    onProgress
  });
  const remoteDir = posix.join(cacheDir, 'node', `${packageName}-${version}`);
  const sum = await sha256Of(tarball.path);
  await stage({
    what: `Node.js ${version}`,
    remoteDir,
    files: [{ local: tarball.path, name: 'node.tgz' }],
    // Unpacked and tried before it counts as staged.
    unpack: `tar -xzf node.tgz && rm node.tgz && test "$(package/bin/node --version)" = v${version}`,
    marker: { name: 'staged.sha256', content: `${sum}  node.tgz\n` }
  });
  return posix.join(remoteDir, 'package', 'bin', 'node');
}
