import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import lockfile from 'proper-lockfile';
import type { CachedDistribution, ProgressListener } from '../plugin.js';

/**
 * The Kafka release pilots run: the newest 4.x whose artifacts are all on Maven Central
 * (4.4.0's kafka-tools-api is missing there, so it does not resolve).
 */
export const KAFKA_VERSION = '4.3.1';
const SCALA_VERSION = '2.13';
/** Kafka logs through SLF4J 1.7; this binding sends it to log4j2 like Kafka's own tarball does. */
const LOG4J_VERSION = '2.25.4';

export interface KafkaDistribution {
  version: string;
  /** Directory holding every jar of the broker's runtime class path. */
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

function pomFor(version: string): string {
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>pilot-streaming.cache</groupId>
  <artifactId>kafka-distribution</artifactId>
  <version>${version}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_${SCALA_VERSION}</artifactId>
      <version>${version}</version>
    </dependency>
    <!-- Kafka's admin tools (partition reassignment, leader election, cluster membership). Their
         other dependencies are the broker's, plus Kafka Connect's, which those tools do not use. -->
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka-tools</artifactId>
      <version>${version}</version>
      <exclusions>
        <exclusion>
          <groupId>*</groupId>
          <artifactId>*</artifactId>
        </exclusion>
      </exclusions>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>${LOG4J_VERSION}</version>
    </dependency>
  </dependencies>
</project>
`;
}

function distributionOf(versionDir: string, version: string): KafkaDistribution {
  const libDir = join(versionDir, 'libs');
  return { version, libDir, classPath: join(libDir, '*') };
}

/** The cached distribution if complete and intact, else undefined. */
async function readComplete(
  versionDir: string,
  version: string
): Promise<KafkaDistribution | undefined> {
  let marker: CompleteMarker;
  try {
    marker = JSON.parse(
      await readFile(join(versionDir, 'complete.json'), 'utf8')
    ) as CompleteMarker;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const distribution = distributionOf(versionDir, version);
  for (const jar of marker.jars) {
    const info = await stat(join(distribution.libDir, jar.name)).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    });
    if (info?.size !== jar.size) return undefined;
  }
  // A cache fetched before the admin tools were part of the distribution is fetched again.
  const hasTools = marker.jars.some(jar => jar.name === `kafka-tools-${version}.jar`);
  return marker.version === version && hasTools ? distribution : undefined;
}

/** Runs Maven, reporting each downloaded file; rejects with Maven's last lines on failure. */
async function runMaven(
  args: string[],
  cwd: string,
  version: string,
  onProgress: ProgressListener
): Promise<void> {
  const child = spawn('mvn', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  let downloads = 0;
  const remember = (line: string): void => {
    tail.push(line);
    if (tail.length > 30) tail.shift();
    const downloaded = /^\[INFO\] Downloaded from [^:]+: \S*\/([^/\s]+) /.exec(line);
    if (downloaded !== null) {
      downloads += 1;
      onProgress({
        stage: `Fetching Kafka ${version} from Maven Central: ${downloads} files, last ${downloaded[1]}`
      });
    }
  };
  createInterface({ input: child.stdout }).on('line', remember);
  createInterface({ input: child.stderr }).on('line', remember);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', error =>
      reject(
        new Error(
          `Cannot run Maven ("mvn") to fetch Kafka ${version}: ${error.message}. Install Maven (apt-get install maven).`
        )
      )
    );
    child.once('close', resolve);
  });
  if (code !== 0) {
    const errors = tail.filter(line => line.startsWith('[ERROR]')).slice(0, 5);
    throw new Error(
      `Maven could not fetch Kafka ${version} (exit code ${String(code)}):\n${(errors.length > 0 ? errors : tail.slice(-10)).join('\n')}`
    );
  }
}

/**
 * Kafka's jars in `<cacheDir>/kafka/<version>/libs`, fetched once from Maven Central with checksum
 * verification. A lock makes concurrent callers wait for one download; the marker written last
 * makes an interrupted download start over.
 */
export async function ensureKafkaDistribution(options: {
  cacheDir: string;
  version?: string;
  onProgress?: ProgressListener;
}): Promise<KafkaDistribution> {
  const version = options.version ?? KAFKA_VERSION;
  const onProgress = options.onProgress ?? ((): void => undefined);
  const kafkaDir = join(options.cacheDir, 'kafka');
  const versionDir = join(kafkaDir, version);
  const cached = await readComplete(versionDir, version);
  if (cached !== undefined) return cached;

  await mkdir(kafkaDir, { recursive: true });
  const lockOptions = {
    lockfilePath: join(kafkaDir, 'fetch.lock'),
    realpath: false,
    stale: 20_000
  };
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(kafkaDir, lockOptions);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    onProgress({ stage: `Waiting for another download of Kafka ${version}` });
    // That download takes about a minute on a good line; wait up to 15.
    release = await lockfile.lock(kafkaDir, {
      ...lockOptions,
      retries: { retries: 900, minTimeout: 1000, maxTimeout: 1000 }
    });
  }
  try {
    const fetchedMeanwhile = await readComplete(versionDir, version);
    if (fetchedMeanwhile !== undefined) return fetchedMeanwhile;

    onProgress({ stage: `Fetching Kafka ${version} from Maven Central` });
    const staging = join(kafkaDir, `.staging-${version}-${randomBytes(4).toString('hex')}`);
    await mkdir(staging, { recursive: true });
    try {
      await writeFile(join(staging, 'pom.xml'), pomFor(version));
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
        version,
        onProgress
      );
      onProgress({ stage: `Installing Kafka ${version} into the cache`, fraction: 1 });
      const names = (await readdir(join(staging, 'libs'))).filter(name => name.endsWith('.jar'));
      const jars = await Promise.all(
        names.map(async name => ({ name, size: (await stat(join(staging, 'libs', name))).size }))
      );
      await rm(versionDir, { recursive: true, force: true });
      await mkdir(versionDir, { recursive: true });
      await rename(join(staging, 'libs'), join(versionDir, 'libs'));
      const marker: CompleteMarker = { version, jars, fetchedAt: new Date().toISOString() };
      await writeFile(join(versionDir, 'complete.json.tmp'), JSON.stringify(marker, null, 2));
      await rename(join(versionDir, 'complete.json.tmp'), join(versionDir, 'complete.json'));
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
    const fetched = await readComplete(versionDir, version);
    if (fetched === undefined) throw new Error(`Kafka ${version} is incomplete in ${versionDir}`);
    return fetched;
  } finally {
    await release();
  }
}

/** Whether two complete.json texts list the same version and jars (wherever they were fetched). */
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

/** The cached distribution as a resource's cache gets it (after ensureKafkaDistribution). */
export async function cachedKafkaDistribution(options: {
  cacheDir: string;
  onProgress?: ProgressListener;
}): Promise<CachedDistribution> {
  const distribution = await ensureKafkaDistribution(options);
  const versionDir = dirname(distribution.libDir);
  const names = (await readdir(distribution.libDir)).filter(name => name.endsWith('.jar'));
  const marker = await readFile(join(versionDir, 'complete.json'), 'utf8');
  return {
    what: `Kafka ${distribution.version}`,
    localDir: versionDir,
    directory: `kafka/${distribution.version}`,
    files: names.sort().map(name => `libs/${name}`),
    marker: {
      name: 'complete.json',
      content: marker,
      matches: existing => sameJars(marker, existing)
    }
  };
}
