import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import lockfile from 'proper-lockfile';
import { javaTempOptions } from './java-temp.js';
import type { CachedDistribution, ProgressListener } from './plugin.js';

/**
 * A framework distributed as jars on Maven Central (Kafka, Spark), fetched once into
 * `<cache>/<directory>/<version>/libs` by Maven itself, with checksum verification. A lock makes
 * concurrent callers wait for one download; the marker written last makes an interrupted one
 * start over.
 */

export interface MavenDistributionSpec {
  /** Its name in messages, e.g. "Kafka". */
  name: string;
  version: string;
  /** Its folder in a cache, e.g. "kafka". */
  directory: string;
  /** The `<dependency>` elements of the POM Maven resolves. */
  dependencies: string;
  /** False for a cache fetched before the spec changed (it is fetched again). */
  accepts?: (jars: string[]) => boolean;
}

/**
 * A `<dependency>` element; `alone` excludes everything it depends on (for a jar whose
 * dependencies the distribution already has, or that shades its own).
 */
export function mavenDependency(
  groupId: string,
  artifactId: string,
  version: string,
  options: { alone?: boolean } = {}
): string {
  const exclusions =
    options.alone === true
      ? `
      <exclusions>
        <exclusion>
          <groupId>*</groupId>
          <artifactId>*</artifactId>
        </exclusion>
      </exclusions>`
      : '';
  return `    <dependency>
      <groupId>${groupId}</groupId>
      <artifactId>${artifactId}</artifactId>
      <version>${version}</version>${exclusions}
    </dependency>`;
}

export interface MavenDistribution {
  version: string;
  /** Directory holding every jar of the runtime class path. */
  libDir: string;
  /** Class path for `java -cp`. */
  classPath: string;
}

/** Written last, so a directory without it is an unfinished download. */
interface CompleteMarker {
  version: string;
  jars: { name: string; size: number }[];
  fetchedAt: string;
}

const MARKER = 'complete.json';

function pomFor(spec: MavenDistributionSpec): string {
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>pilot-streaming.cache</groupId>
  <artifactId>${spec.directory}-distribution</artifactId>
  <version>${spec.version}</version>
  <packaging>pom</packaging>
  <dependencies>
${spec.dependencies}
  </dependencies>
</project>
`;
}

function distributionOf(versionDir: string, version: string): MavenDistribution {
  const libDir = join(versionDir, 'libs');
  return { version, libDir, classPath: join(libDir, '*') };
}

/** The cached distribution if complete and intact, else undefined. */
async function readComplete(
  versionDir: string,
  spec: MavenDistributionSpec
): Promise<MavenDistribution | undefined> {
  let marker: CompleteMarker;
  try {
    marker = JSON.parse(await readFile(join(versionDir, MARKER), 'utf8')) as CompleteMarker;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const distribution = distributionOf(versionDir, spec.version);
  for (const jar of marker.jars) {
    const info = await stat(join(distribution.libDir, jar.name)).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    });
    if (info?.size !== jar.size) return undefined;
  }
  const accepted = spec.accepts?.(marker.jars.map(jar => jar.name)) ?? true;
  return marker.version === spec.version && accepted ? distribution : undefined;
}

/** Runs Maven, reporting each downloaded file; rejects with Maven's last lines on failure. */
async function runMaven(
  args: string[],
  cwd: string,
  spec: MavenDistributionSpec,
  onProgress: ProgressListener
): Promise<void> {
  const what = `${spec.name} ${spec.version}`;
  // Maven's JVM reads its options from MAVEN_OPTS; the user's own come last and win.
  const mavenOptions = [...javaTempOptions(), process.env.MAVEN_OPTS ?? ''].join(' ').trim();
  const child = spawn('mvn', args, {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MAVEN_OPTS: mavenOptions }
  });
  const tail: string[] = [];
  let downloads = 0;
  const remember = (line: string): void => {
    tail.push(line);
    if (tail.length > 30) tail.shift();
    const downloaded = /^\[INFO\] Downloaded from [^:]+: \S*\/([^/\s]+) /.exec(line);
    if (downloaded !== null) {
      downloads += 1;
      onProgress({
        stage: `Fetching ${what} from Maven Central: ${downloads} files, last ${downloaded[1]}`
      });
    }
  };
  createInterface({ input: child.stdout }).on('line', remember);
  createInterface({ input: child.stderr }).on('line', remember);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', error =>
      reject(
        new Error(
          `Cannot run Maven ("mvn") to fetch ${what}: ${error.message}. Install Maven (apt-get install maven).`
        )
      )
    );
    child.once('close', resolve);
  });
  if (code !== 0) {
    const errors = tail.filter(line => line.startsWith('[ERROR]')).slice(0, 5);
    throw new Error(
      `Maven could not fetch ${what} (exit code ${String(code)}):\n${(errors.length > 0 ? errors : tail.slice(-10)).join('\n')}`
    );
  }
}

/** The distribution's jars in the cache, fetched first if they are not all there. */
export async function ensureMavenDistribution(
  spec: MavenDistributionSpec,
  options: { cacheDir: string; onProgress?: ProgressListener }
): Promise<MavenDistribution> {
  const { version } = spec;
  const what = `${spec.name} ${version}`;
  const onProgress = options.onProgress ?? ((): void => undefined);
  const frameworkDir = join(options.cacheDir, spec.directory);
  const versionDir = join(frameworkDir, version);
  const cached = await readComplete(versionDir, spec);
  if (cached !== undefined) return cached;

  await mkdir(frameworkDir, { recursive: true });
  const lockOptions = {
    lockfilePath: join(frameworkDir, 'fetch.lock'),
    realpath: false,
    stale: 20_000
  };
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(frameworkDir, lockOptions);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    onProgress({ stage: `Waiting for another download of ${what}` });
    // A download takes one to a few minutes on a good line; wait up to 15.
    release = await lockfile.lock(frameworkDir, {
      ...lockOptions,
      retries: { retries: 900, minTimeout: 1000, maxTimeout: 1000 }
    });
  }
  try {
    const fetchedMeanwhile = await readComplete(versionDir, spec);
    if (fetchedMeanwhile !== undefined) return fetchedMeanwhile;

    onProgress({ stage: `Fetching ${what} from Maven Central` });
    const staging = join(frameworkDir, `.staging-${version}-${randomBytes(4).toString('hex')}`);
    await mkdir(staging, { recursive: true });
    try {
      await writeFile(join(staging, 'pom.xml'), pomFor(spec));
      await runMaven(
        [
          '--batch-mode',
          '--strict-checksums',
          `-Dmaven.repo.local=${join(options.cacheDir, 'maven-repository')}`,
          'dependency:copy-dependencies',
          '-DincludeScope=runtime',
          `-DoutputDirectory=${join(staging, 'libs')}`
        ],
        staging,
        spec,
        onProgress
      );
      onProgress({ stage: `Installing ${what} into the cache`, fraction: 1 });
      const names = (await readdir(join(staging, 'libs'))).filter(name => name.endsWith('.jar'));
      const jars = await Promise.all(
        names.map(async name => ({ name, size: (await stat(join(staging, 'libs', name))).size }))
      );
      await rm(versionDir, { recursive: true, force: true });
      await mkdir(versionDir, { recursive: true });
      await rename(join(staging, 'libs'), join(versionDir, 'libs'));
      const marker: CompleteMarker = { version, jars, fetchedAt: new Date().toISOString() };
      await writeFile(join(versionDir, `${MARKER}.tmp`), JSON.stringify(marker, null, 2));
      await rename(join(versionDir, `${MARKER}.tmp`), join(versionDir, MARKER));
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
    const fetched = await readComplete(versionDir, spec);
    if (fetched === undefined) throw new Error(`${what} is incomplete in ${versionDir}`);
    return fetched;
  } finally {
    await release();
  }
}

/** Whether two markers list the same version and jars (wherever they were fetched). */
function sameJars(ours: string, theirs: string): boolean {
  const key = (text: string): string => {
    const marker = JSON.parse(text) as Partial<CompleteMarker>;
    const jars = [...(marker.jars ?? [])].sort((a, b) => a.name.localeCompare(b.name));
    return JSON.stringify({ version: marker.version, jars });
  };
  try {
    return key(ours) === key(theirs);
  } catch {
    // A marker that is not JSON is not ours: it does not match.
    return false;
  }
}

/** The cached distribution as a resource's cache gets it (fetched first if need be). */
export async function cachedMavenDistribution(
  spec: MavenDistributionSpec,
  options: { cacheDir: string; onProgress?: ProgressListener }
): Promise<CachedDistribution> {
  const distribution = await ensureMavenDistribution(spec, options);
  const versionDir = dirname(distribution.libDir);
  const names = (await readdir(distribution.libDir)).filter(name => name.endsWith('.jar'));
  const marker = await readFile(join(versionDir, MARKER), 'utf8');
  return {
    what: `${spec.name} ${distribution.version}`,
    localDir: versionDir,
    directory: `${spec.directory}/${distribution.version}`,
    files: names.sort().map(name => `libs/${name}`),
    marker: {
      name: MARKER,
      content: marker,
      matches: existing => sameJars(marker, existing)
    }
  };
}
