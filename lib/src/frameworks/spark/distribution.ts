import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import {
  cachedMavenDistribution,
  ensureMavenDistribution,
  mavenDependency,
  type MavenDistribution,
  type MavenDistributionSpec
} from '../maven-distribution.js';
import type { CachedDistribution, ProgressListener } from '../plugin.js';

/**
 * The Spark release pilots run: the newest 4.x on Maven Central (PyPI's pyspark 4.3.0 is a
 * 456 MB source archive to build; Maven Central's jars are what it would install).
 */
export const SPARK_VERSION = '4.2.0';
const SCALA_VERSION = '2.13';

export type SparkDistribution = MavenDistribution;

function sparkSpec(version: string): MavenDistributionSpec {
  const spark = (artifact: string): string =>
    mavenDependency('org.apache.spark', `${artifact}_${SCALA_VERSION}`, version);
  return {
    name: 'Spark',
    version,
    directory: 'spark',
    // SQL (with core, the standalone master and worker), the Connect server, the Kafka source,
    // and MLlib, which the Connect server calls on (a session's release clears its ML cache).
    dependencies: [
      spark('spark-sql'),
      spark('spark-connect'),
      spark('spark-sql-kafka-0-10'),
      spark('spark-mllib')
    ].join('\n'),
    // A cache fetched before MLlib was part of the distribution is fetched again.
    accepts: jars => jars.includes(`spark-mllib_${SCALA_VERSION}-${version}.jar`)
  };
}

/** Spark's jars in `<cacheDir>/spark/<version>/libs`, fetched once from Maven Central. */
export function ensureSparkDistribution(options: {
  cacheDir: string;
  version?: string;
  onProgress?: ProgressListener;
}): Promise<SparkDistribution> {
  return ensureMavenDistribution(sparkSpec(options.version ?? SPARK_VERSION), options);
}

/** The cached distribution as a resource's cache gets it (after ensureSparkDistribution). */
export function cachedSparkDistribution(options: {
  cacheDir: string;
  onProgress?: ProgressListener;
}): Promise<CachedDistribution> {
  return cachedMavenDistribution(sparkSpec(SPARK_VERSION), options);
}

/** The Connect server's jar, which carries the protocol's .proto files. */
export function connectJar(distribution: SparkDistribution): string {
  return join(distribution.libDir, `spark-connect_${SCALA_VERSION}-${distribution.version}.jar`);
}

/**
 * The Spark Connect .proto files of the distribution's own Connect server (and the
 * google/protobuf ones they import), extracted once next to its jars: a client speaks exactly
 * the protocol of the server it talks to. Returns the include directory.
 */
export async function sparkConnectProtos(distribution: SparkDistribution): Promise<string> {
  const protoDir = join(dirname(distribution.libDir), 'protos');
  const done = await stat(join(protoDir, 'spark', 'connect', 'base.proto')).catch(
    (error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  );
  if (done !== undefined) return protoDir;
  const staging = `${protoDir}.staging-${randomBytes(4).toString('hex')}`;
  try {
    await extractProtos(connectJar(distribution), staging);
    // Another process may have extracted them meanwhile: theirs are the same files.
    await rename(staging, protoDir).catch((error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  const found = await readdir(join(protoDir, 'spark', 'connect'));
  if (!found.includes('base.proto')) {
    throw new Error(`${connectJar(distribution)} holds no spark/connect/base.proto`);
  }
  return protoDir;
}

const PROTO_ENTRY = /^(spark\/connect|google\/protobuf)\/[\w/]+\.proto$/;

/** Writes the jar's spark/connect and google/protobuf .proto entries under `dir`. */
function extractProtos(jar: string, dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    yauzl.open(jar, { lazyEntries: true }, (error, zip) => {
      if (error) {
        reject(new Error(`Cannot open ${jar}: ${error.message}`, { cause: error }));
        return;
      }
      const fail = (problem: Error): void => {
        zip.close();
        reject(problem);
      };
      zip.on('error', fail);
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        if (!PROTO_ENTRY.test(entry.fileName)) {
          zip.readEntry();
          return;
        }
        const target = join(dir, ...entry.fileName.split('/'));
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError) {
            fail(streamError);
            return;
          }
          mkdir(dirname(target), { recursive: true })
            .then(() => pipeline(stream, createWriteStream(target)))
            .then(() => zip.readEntry(), fail);
        });
      });
      zip.readEntry();
    });
  });
}
