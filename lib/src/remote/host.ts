import { execFile } from 'node:child_process';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import type { ExecOptions, ExecResult } from './connection.js';
import { CommandError } from './connection.js';

/**
 * Where a resource's commands run and its files live: this machine (slurm://localhost) or the
 * far end of a RemoteConnection (ssh://, slurm+ssh://), which implements this interface too.
 */
export interface Host {
  readonly label: string;
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Like exec, but a non-zero exit is a CommandError; returns stdout. */
  check(argv: readonly string[], options?: ExecOptions): Promise<string>;
  readFile(path: string): Promise<Buffer>;
  writeFile(path: string, data: string | Buffer, options?: { mode?: number }): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** Creates `path` and its missing parents. */
  mkdir(path: string, options?: { mode?: number }): Promise<void>;
}

/** This machine, through child_process and fs. */
export class LocalHost implements Host {
  readonly label = 'localhost';

  /** `env` is added to this process's environment for every command (e.g. SLURM_CONF). */
  constructor(private readonly env: Readonly<Record<string, string>> = {}) {}

  exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const [executable, ...args] = argv;
    if (executable === undefined)
      return Promise.reject(new Error('Empty command: expected at least the program to run'));
    return new Promise((resolve, reject) => {
      const child = execFile(
        executable,
        args,
        {
          encoding: 'utf8',
          ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
          env: { ...process.env, ...this.env, ...options.env },
          ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
          maxBuffer: 64 * 1024 * 1024
        },
        (error, stdout, stderr) => {
          if (error !== null && typeof error.code !== 'number') {
            // Not started (ENOENT...), or ended by a signal (including the timeout).
            if (error.signal !== undefined && error.signal !== null && !error.killed) {
              resolve({ stdout, stderr, code: null, signal: error.signal });
            } else {
              reject(new Error(`Cannot run ${argv.join(' ')}: ${error.message}`, { cause: error }));
            }
            return;
          }
          resolve({ stdout, stderr, code: error === null ? 0 : (error.code as number) });
        }
      );
      child.stdin?.end(options.stdin);
    });
  }

  async check(argv: readonly string[], options: ExecOptions = {}): Promise<string> {
    const result = await this.exec(argv, options);
    if (result.code !== 0) throw new CommandError(argv.join(' '), result, this.label);
    return result.stdout;
  }

  readFile(path: string): Promise<Buffer> {
    return readFile(path);
  }

  writeFile(path: string, data: string | Buffer, options: { mode?: number } = {}): Promise<void> {
    return writeFile(path, data, { mode: options.mode ?? 0o600 });
  }

  async exists(path: string): Promise<boolean> {
    return access(path).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return false;
        throw error;
      }
    );
  }

  async mkdir(path: string, options: { mode?: number } = {}): Promise<void> {
    await mkdir(path, { recursive: true, mode: options.mode ?? 0o700 });
  }
}
