import { execFile } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureCachedDirectory } from '../cached-directory.js';
import type { CachedDistribution, ProgressListener } from '../plugin.js';

/** The Dask release pilots run (distributed pins the matching dask). */
export const DASK_VERSION = '2026.8.0';
/** What Dask's environment holds: distributed, and a Kafka client for the bridge's consumer. */
/** bokeh draws the scheduler's dashboard. */
const REQUIREMENTS = [`distributed==${DASK_VERSION}`, 'bokeh==3.9.2', 'kafka-python==3.0.12'];
const MARKER = 'complete.json';
/** A download or an install that takes longer than this has hung. */
const PIP_TIMEOUT_MS = 15 * 60_000;

const run = promisify(execFile);

/**
 * The Python that makes Dask's environment and runs its bridge: `PILOT_STREAMING_PYTHON`, else
 * `python3` from PATH (on a resource: its login PATH).
 */
export function pythonCommand(env: NodeJS.ProcessEnv = process.env): string {
  return env.PILOT_STREAMING_PYTHON ?? 'python3';
}

interface Marker {
  version: string;
  requirements: string[];
  files: { name: string; size: number }[];
}

/** The marker of a complete directory, or undefined. */
async function readMarker(dir: string): Promise<Marker | undefined> {
  try {
    const marker = JSON.parse(await readFile(join(dir, MARKER), 'utf8')) as Marker;
    const current =
      marker.version === DASK_VERSION &&
      JSON.stringify(marker.requirements) === JSON.stringify(REQUIREMENTS);
    return current ? marker : undefined;
  } catch {
    // Missing or unreadable: not complete, made again.
    return undefined;
  }
}

async function writeMarker(dir: string, files: string[]): Promise<void> {
  const sized = await Promise.all(
    files.map(async name => ({ name, size: (await stat(join(dir, name))).size }))
  );
  const marker: Marker = { version: DASK_VERSION, requirements: REQUIREMENTS, files: sized };
  await writeFile(join(dir, MARKER), JSON.stringify(marker, null, 2));
}

/** pip's complaint without its progress lines, for an error message. */
function pipFailure(error: unknown): string {
  const { stderr, message } = error as { stderr?: string; message: string };
  const lines = (stderr ?? '').split('\n').filter(line => line.trim() !== '');
  return lines.length > 0 ? lines.slice(-6).join('\n') : message;
}

function wheelsDir(cacheDir: string): string {
  return join(cacheDir, 'dask', DASK_VERSION, 'wheels');
}

/**
 * Dask's wheels (distributed and every dependency, binary only) in
 * `<cacheDir>/dask/<version>/wheels`, fetched once from PyPI by pip.
 */
export async function ensureDaskWheels(options: {
  cacheDir: string;
  onProgress: ProgressListener;
}): Promise<string> {
  const dir = wheelsDir(options.cacheDir);
  const python = pythonCommand();
  await ensureCachedDirectory({
    dir,
    what: `Dask ${DASK_VERSION}'s wheels`,
    isComplete: async existing => (await readMarker(existing)) !== undefined,
    onProgress: options.onProgress,
    waitMs: PIP_TIMEOUT_MS,
    fill: async staging => {
      options.onProgress({ stage: `Fetching Dask ${DASK_VERSION} from PyPI` });
      try {
        await run(
          python,
          [
            '-m',
            'pip',
            'download',
            '--only-binary=:all:',
            '--disable-pip-version-check',
            '--no-input',
            '--dest',
            staging,
            ...REQUIREMENTS
          ],
          { timeout: PIP_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }
        );
      } catch (error) {
        throw new Error(
          `Cannot fetch Dask ${DASK_VERSION} from PyPI with ${python} -m pip: ${pipFailure(error)}`,
          { cause: error }
        );
      }
      const wheels = (await readdir(staging)).filter(name => name.endsWith('.whl'));
      await writeMarker(staging, wheels);
    }
  });
  return dir;
}

/** Whether two markers list the same version and files (wherever they were made). */
function sameFiles(ours: string, theirs: string): boolean {
  const key = (text: string): string => {
    const marker = JSON.parse(text) as Partial<Marker>;
    const files = [...(marker.files ?? [])].sort((a, b) => a.name.localeCompare(b.name));
    return JSON.stringify({ version: marker.version, requirements: marker.requirements, files });
  };
  try {
    return key(ours) === key(theirs);
  } catch {
    // A marker that is not JSON is not ours: it does not match.
    return false;
  }
}

/** The wheels as a resource's cache gets them (see staging); its pilots make the environment. */
export async function cachedDaskDistribution(options: {
  cacheDir: string;
  onProgress: ProgressListener;
}): Promise<CachedDistribution> {
  const dir = await ensureDaskWheels(options);
  const marker = await readFile(join(dir, MARKER), 'utf8');
  const { files } = JSON.parse(marker) as Marker;
  return {
    what: `Dask ${DASK_VERSION}`,
    localDir: dir,
    directory: `dask/${DASK_VERSION}/wheels`,
    files: files.map(file => file.name).sort(),
    marker: { name: MARKER, content: marker, matches: existing => sameFiles(marker, existing) }
  };
}

/** Dask's Python environment on this machine: its interpreter. */
export interface DaskEnvironment {
  python: string;
}

/** "3.11" for the Python that `python` runs. */
async function pythonVersion(python: string): Promise<string> {
  try {
    const { stdout } = await run(python, [
      '-c',
      'import sys; print("%d.%d" % sys.version_info[:2])'
    ]);
    return stdout.trim();
  } catch (error) {
    throw new Error(
      `Cannot run ${python} to make Dask's environment (set PILOT_STREAMING_PYTHON to a Python 3.10 or newer): ${(error as Error).message}`,
      { cause: error }
    );
  }
}

/**
 * A virtual environment with Dask for this machine's Python, in
 * `<cacheDir>/dask/<version>/python<X.Y>`, made once from the cached wheels without any index:
 * a resource needs no access to PyPI. Its programs run as `python -m dask ...` (the environment
 * is made elsewhere and renamed, which breaks its scripts' `#!` lines, not its interpreter).
 */
export async function ensureDaskEnvironment(options: {
  cacheDir: string;
  onProgress: ProgressListener;
}): Promise<DaskEnvironment> {
  const wheels = wheelsDir(options.cacheDir);
  if ((await readMarker(wheels)) === undefined) {
    throw new Error(
      `Dask ${DASK_VERSION}'s wheels are not in ${wheels}: the client fetches them and stages them to a resource before a Dask pilot starts`
    );
  }
  const base = pythonCommand();
  const version = await pythonVersion(base);
  const dir = join(options.cacheDir, 'dask', DASK_VERSION, `python${version}`);
  await ensureCachedDirectory({
    dir,
    what: `Dask ${DASK_VERSION}'s environment for Python ${version}`,
    isComplete: async existing => (await readMarker(existing)) !== undefined,
    onProgress: options.onProgress,
    waitMs: PIP_TIMEOUT_MS,
    fill: async staging => {
      options.onProgress({ stage: `Installing Dask ${DASK_VERSION} for Python ${version}` });
      try {
        await run(base, ['-m', 'venv', staging], { timeout: PIP_TIMEOUT_MS });
        await run(
          join(staging, 'bin', 'python'),
          [
            '-m',
            'pip',
            'install',
            '--no-index',
            '--find-links',
            wheels,
            '--disable-pip-version-check',
            '--no-input',
            '--quiet',
            ...REQUIREMENTS
          ],
          { timeout: PIP_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }
        );
      } catch (error) {
        throw new Error(
          `Cannot install Dask ${DASK_VERSION} for Python ${version} (${base}) from the wheels in ${wheels}: ${pipFailure(error)}`,
          { cause: error }
        );
      }
      await writeMarker(staging, []);
    }
  });
  return { python: join(dir, 'bin', 'python') };
}
