import { chmod, copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { ensureCachedDirectory } from '../cached-directory.js';
import {
  ensureMavenDistribution,
  mavenDependency,
  type MavenDistributionSpec
} from '../maven-distribution.js';
import type { CachedDistribution, ProgressListener } from '../plugin.js';
import { downloadVerified, releaseWheels, type IndexedFile } from './pypi-wheels.js';
import { unpackWheel } from './wheel-unpack.js';

/**
 * The Flink release pilots run. Maven Central has no flink-dist; PyPI's wheels hold a complete
 * FLINK_HOME: `apache-flink-libraries` its jars (lib/, opt/, plugins/), `apache-flink` its
 * scripts (bin/) and default configuration (conf/). The SQL Gateway's jar, missing from both,
 * comes from Maven Central, as does the Kafka SQL connector.
 */
export const FLINK_VERSION = '2.3.0';
/** The newest Kafka SQL connector; it is built for Flink 2.2 (there is none for 2.3 yet). */
const KAFKA_CONNECTOR_VERSION = '5.0.0-2.2';
const KAFKA_CONNECTOR_JAR = `flink-sql-connector-kafka-${KAFKA_CONNECTOR_VERSION}.jar`;

/** A Flink installation in the cache. */
export interface FlinkDistribution {
  version: string;
  /** FLINK_HOME: bin/, conf/, lib/, opt/ (with the SQL Gateway), plugins/. */
  home: string;
  /** Connector jars a session adds (`ADD JAR`), kept out of lib/ and the cluster's class path. */
  connectorsDir: string;
  /** The Kafka SQL connector in connectorsDir. */
  kafkaConnectorJar: string;
}

const MARKER = 'complete.json';
const HOME = 'home';
const CONNECTORS = 'connectors';
/** Fetching and unpacking 330 MB can take a while on a slow line. */
const FETCH_WAIT_MS = 30 * 60_000;

interface Marker {
  version: string;
  kafkaConnector: string;
  wheels: { filename: string; sha256: string }[];
  files: { name: string; size: number }[];
}

function versionDir(cacheDir: string): string {
  return join(cacheDir, 'flink', FLINK_VERSION);
}

function distributionIn(dir: string): FlinkDistribution {
  const connectorsDir = join(dir, CONNECTORS);
  return {
    version: FLINK_VERSION,
    home: join(dir, HOME),
    connectorsDir,
    kafkaConnectorJar: join(connectorsDir, KAFKA_CONNECTOR_JAR)
  };
}

/** The Maven Central jars: the gateway (its own classes only) and the shaded Kafka connector. */
function mavenJarsSpec(): MavenDistributionSpec {
  const jar = (artifact: string, version: string): string =>
    mavenDependency('org.apache.flink', artifact, version, { alone: true });
  return {
    name: 'Flink SQL Gateway and Kafka connector',
    version: FLINK_VERSION,
    directory: 'flink-jars',
    dependencies: [
      jar('flink-sql-gateway', FLINK_VERSION),
      jar('flink-sql-connector-kafka', KAFKA_CONNECTOR_VERSION)
    ].join('\n'),
    accepts: jars => jars.includes(KAFKA_CONNECTOR_JAR)
  };
}

async function readMarker(dir: string): Promise<Marker | undefined> {
  try {
    const marker = JSON.parse(await readFile(join(dir, MARKER), 'utf8')) as Marker;
    return marker.version === FLINK_VERSION && marker.kafkaConnector === KAFKA_CONNECTOR_VERSION
      ? marker
      : undefined;
  } catch (error) {
    // Missing (never made, or a copy whose marker was not written yet) or damaged: made again.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || error instanceof SyntaxError) {
      return undefined;
    }
    throw error;
  }
}

/** Every file under `dir` (relative, POSIX), without the marker. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter(entry => entry.isFile())
    .map(entry => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .filter(name => name !== MARKER)
    .sort();
}

/** Which wheel entries make FLINK_HOME, and where they go. */
function libraryEntry(name: string): string | undefined {
  return name.startsWith('pyflink/') ? name.slice('pyflink/'.length) : undefined;
}
function scriptEntry(name: string): string | undefined {
  return /^pyflink\/(bin|conf)\/[^/]+$/.test(name) ? name.slice('pyflink/'.length) : undefined;
}

/**
 * The release's two wheels: the libraries (one for every platform) and the scripts, which are
 * the same in each platform's wheel: the first in name order is taken, for a reproducible cache.
 */
async function flinkWheels(): Promise<{ libraries: IndexedFile; scripts: IndexedFile }> {
  const [libraries, scripts] = await Promise.all([
    releaseWheels('apache-flink-libraries', FLINK_VERSION),
    releaseWheels('apache-flink', FLINK_VERSION)
  ]);
  const library = libraries.find(file => file.filename.endsWith('-none-any.whl'));
  const script = scripts
    .filter(file => /-manylinux[^/]*\.whl$/.test(file.filename))
    .sort((a, b) => a.filename.localeCompare(b.filename))[0];
  if (library === undefined || script === undefined) {
    throw new Error(
      `PyPI lists no ${library === undefined ? 'apache-flink-libraries' : 'apache-flink'} ${FLINK_VERSION} wheel: expected a pure-Python libraries wheel and a manylinux wheel`
    );
  }
  return { libraries: library, scripts: script };
}

/** Fills `staging` with FLINK_HOME, the connectors and the marker. */
async function makeDistribution(
  staging: string,
  cacheDir: string,
  onProgress: ProgressListener
): Promise<void> {
  const what = `Flink ${FLINK_VERSION}`;
  onProgress({ stage: `Looking up ${what} on PyPI` });
  const wheels = await flinkWheels();
  const total = (wheels.libraries.size ?? 0) + (wheels.scripts.size ?? 0);
  const downloads = join(staging, '.wheels');
  await mkdir(downloads, { recursive: true });
  let before = 0;
  let shownPercent = -1;
  for (const [wheel, target] of [
    [wheels.libraries, libraryEntry],
    [wheels.scripts, scriptEntry]
  ] as const) {
    const path = join(downloads, wheel.filename);
    await downloadVerified(wheel, path, received => {
      const percent = total > 0 ? Math.floor(((before + received) / total) * 100) : 0;
      if (percent === shownPercent) return;
      shownPercent = percent;
      onProgress({
        stage: `Fetching ${what} from PyPI (${Math.round((before + received) / 1e6)} of ${Math.round(total / 1e6)} MB)`,
        ...(total > 0 ? { fraction: Math.min(1, (before + received) / total) * 0.9 } : {})
      });
    });
    before += wheel.size ?? 0;
    onProgress({ stage: `Unpacking ${wheel.filename}`, fraction: 0.9 });
    await unpackWheel(path, join(staging, HOME), target);
    await rm(path);
  }
  await rm(downloads, { recursive: true });

  const jars = await ensureMavenDistribution(mavenJarsSpec(), { cacheDir, onProgress });
  const gatewayJar = `flink-sql-gateway-${FLINK_VERSION}.jar`;
  await mkdir(join(staging, CONNECTORS));
  await copyFile(join(jars.libDir, gatewayJar), join(staging, HOME, 'opt', gatewayJar));
  await copyFile(
    join(jars.libDir, KAFKA_CONNECTOR_JAR),
    join(staging, CONNECTORS, KAFKA_CONNECTOR_JAR)
  );

  const files = await filesUnder(staging);
  for (const required of ['bin/jobmanager.sh', 'bin/sql-gateway.sh', 'conf/config.yaml']) {
    if (!files.includes(`${HOME}/${required}`)) {
      throw new Error(`The ${what} wheels hold no pyflink/${required}: expected a FLINK_HOME`);
    }
  }
  const marker: Marker = {
    version: FLINK_VERSION,
    kafkaConnector: KAFKA_CONNECTOR_VERSION,
    wheels: [wheels.libraries, wheels.scripts].map(({ filename, sha256 }) => ({
      filename,
      sha256
    })),
    files: await Promise.all(
      files.map(async name => ({ name, size: (await stat(join(staging, name))).size }))
    )
  };
  await writeFile(join(staging, MARKER), JSON.stringify(marker, null, 2));
}

/** Removes what builds that were killed left beside `dir` (called while holding its lock). */
async function removeAbandonedStaging(dir: string, current: string): Promise<void> {
  const prefix = `.staging-${basename(dir)}-`;
  for (const name of await readdir(dirname(dir))) {
    if (name.startsWith(prefix) && join(dirname(dir), name) !== current) {
      await rm(join(dirname(dir), name), { recursive: true, force: true });
    }
  }
}

/**
 * A copy staged to a resource keeps no execute bits (it is written 0600); the scripts are run
 * by path and `exec` each other, so they get them back.
 */
async function makeScriptsExecutable(home: string): Promise<void> {
  const bin = join(home, 'bin');
  for (const name of await readdir(bin)) {
    if (!name.endsWith('.sh') && name !== 'flink') continue;
    const path = join(bin, name);
    const { mode } = await stat(path);
    if ((mode & 0o100) === 0) await chmod(path, (mode & 0o777) | 0o500);
  }
}

/**
 * Flink in `<cacheDir>/flink/<version>/`, made once: concurrent callers wait for one build
 * (a lock), an interrupted build starts over (the marker is written last), and a warm cache
 * fetches nothing.
 */
export async function ensureFlinkDistribution(options: {
  cacheDir: string;
  onProgress?: ProgressListener;
}): Promise<FlinkDistribution> {
  const onProgress = options.onProgress ?? ((): void => undefined);
  const dir = versionDir(options.cacheDir);
  await ensureCachedDirectory({
    dir,
    what: `Flink ${FLINK_VERSION}`,
    isComplete: async existing => (await readMarker(existing)) !== undefined,
    onProgress,
    waitMs: FETCH_WAIT_MS,
    fill: async staging => {
      await removeAbandonedStaging(dir, staging);
      await makeDistribution(staging, options.cacheDir, onProgress);
    }
  });
  const distribution = distributionIn(dir);
  await makeScriptsExecutable(distribution.home);
  return distribution;
}

/** Whether two markers list the same release and files (wherever they were made). */
function sameFiles(ours: string, theirs: string): boolean {
  const key = (text: string): string => {
    const marker = JSON.parse(text) as Partial<Marker>;
    const files = [...(marker.files ?? [])].sort((a, b) => a.name.localeCompare(b.name));
    return JSON.stringify({ version: marker.version, kafka: marker.kafkaConnector, files });
  };
  try {
    return key(ours) === key(theirs);
  } catch {
    // A marker that is not JSON is not ours: it does not match.
    return false;
  }
}

/** The cached distribution as a resource's cache gets it (fetched first if need be). */
export async function cachedFlinkDistribution(options: {
  cacheDir: string;
  onProgress?: ProgressListener;
}): Promise<CachedDistribution> {
  await ensureFlinkDistribution(options);
  const dir = versionDir(options.cacheDir);
  const marker = await readFile(join(dir, MARKER), 'utf8');
  const { files } = JSON.parse(marker) as Marker;
  return {
    what: `Flink ${FLINK_VERSION}`,
    localDir: dir,
    directory: `flink/${FLINK_VERSION}`,
    files: files.map(file => file.name).sort(),
    marker: { name: MARKER, content: marker, matches: existing => sameFiles(marker, existing) }
  };
}
