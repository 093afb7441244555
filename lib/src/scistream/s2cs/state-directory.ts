import { chmod, mkdir, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { processExists } from '../../host/process-exists.js';

/** The lock directory and the file naming its holder, inside the state directory. */
const LOCK = 'gateway.lock';
const HOLDER = 'gateway.pid';

/**
 * A killed holder's lock is taken over once it has not been refreshed for this long (the
 * holder refreshes it every second), so a restart after `kill -9` waits at most a few seconds.
 */
const STALE_MS = 5000;
const LOCK_OPTIONS = {
  stale: STALE_MS,
  update: 1000,
  realpath: false,
  retries: { retries: 14, minTimeout: 500, maxTimeout: 500 }
} as const;

/**
 * The default state directory of a gateway: one per control address it bound, so two
 * gateways on one home never share one, and a gateway restarted on its address finds its own.
 */
export function stateDirFor(root: string, bindHost: string, port: number): string {
  return join(root, `s2cs-${bindHost.replace(/[^A-Za-z0-9.-]/g, '_')}-${port}`);
}

/** Another process holds the state directory. */
export class StateDirectoryInUseError extends Error {
  constructor(dir: string, holder: string, options?: ErrorOptions) {
    super(
      `state directory ${dir} is in use by another s2cs (${holder}); ` +
        'expected a directory of its own for each gateway (--state-dir)',
      options
    );
    this.name = 'StateDirectoryInUseError';
  }
}

/**
 * A gateway's private state directory (0700), locked for as long as the gateway runs so that no
 * second process reads or deletes its session records.
 */
export class StateDirectory {
  private constructor(
    readonly path: string,
    private readonly unlock: () => Promise<void>
  ) {}

  /**
   * Creates or opens `path`, tightens it to 0700 if others could enter it, and locks it.
   * `onLost` is called if the lock is taken over while held (this process stalled for longer
   * than the stale time and another gateway claimed the directory).
   */
  static async claim(
    path: string,
    log: (line: string) => void,
    onLost: (error: Error) => void
  ): Promise<StateDirectory> {
    await mkdir(path, { recursive: true, mode: 0o700 });
    await tighten(path, log);
    const options = { ...LOCK_OPTIONS, lockfilePath: join(path, LOCK), onCompromised: onLost };
    let unlock: () => Promise<void>;
    try {
      unlock = await lockfile.lock(path, { ...options, retries: 0 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
      // A live holder is refused at once; a killed one's lock is waited out until it is stale.
      const holder = await holderOf(path);
      if (holder !== undefined && processExists(holder)) {
        throw new StateDirectoryInUseError(path, `pid ${holder}`, { cause: error });
      }
      log(`state directory ${path}: waiting for the lock of a stopped gateway to go stale`);
      try {
        unlock = await lockfile.lock(path, options);
      } catch (retried) {
        if ((retried as NodeJS.ErrnoException).code !== 'ELOCKED') throw retried;
        throw new StateDirectoryInUseError(path, `lock ${options.lockfilePath}`, {
          cause: retried
        });
      }
    }
    await writeFile(join(path, HOLDER), `${process.pid}\n`, { mode: 0o600 });
    return new StateDirectory(path, unlock);
  }

  /** Gives the directory up; `remove` deletes it too, when the gateway left nothing in it. */
  async release({ remove }: { remove: boolean }): Promise<void> {
    await rm(join(this.path, HOLDER), { force: true });
    try {
      await this.unlock();
    } catch (error) {
      // Already reported through onLost when another process took the lock over.
      if ((error as NodeJS.ErrnoException).code !== 'ERELEASED') throw error;
      return;
    }
    if (!remove) return;
    // Only the empty directories the gateway made: rmdir refuses anything that holds a file.
    for (const sub of ['sessions', 'run']) await rmdirIfEmpty(join(this.path, sub));
    await rmdirIfEmpty(this.path);
  }
}

/** An existing directory that others may enter is tightened, or refused if not ours to change. */
async function tighten(path: string, log: (line: string) => void): Promise<void> {
  const { mode, uid } = await stat(path);
  const open = mode & 0o077;
  if (open === 0) return;
  const was = (mode & 0o777).toString(8).padStart(4, '0');
  if (process.getuid !== undefined && uid !== process.getuid()) {
    throw new Error(
      `state directory ${path}: mode ${was} and owned by uid ${uid}; ` +
        'expected a directory of this user that only this user can enter (0700)'
    );
  }
  await chmod(path, 0o700);
  log(`state directory ${path} was open to others (${was}); tightened to 0700`);
}

/** The pid the holder wrote, if any. */
async function holderOf(path: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(join(path, HOLDER), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return /^\d+$/.test(text.trim()) ? Number(text.trim()) : undefined;
}

async function rmdirIfEmpty(path: string): Promise<void> {
  try {
    await rmdir(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOENT') throw error;
  }
}
