import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

/** Bundles the s2cs/s2uc CLI into one CommonJS file under `dir` (run with plain node). */
export async function bundleCli(dir: string): Promise<string> {
  return bundle(join(here, 'cli-entry.ts'), join(dir, 'scistream-cli.cjs'));
}

/** Bundles the `s2cs` or `s2uc` executable (the package's bin entry of that name) under `dir`. */
export async function bundleBin(dir: string, name: 's2cs' | 's2uc'): Promise<string> {
  return bundle(join(here, '..', '..', '..', 'src', 'cli', `${name}.ts`), join(dir, `${name}.cjs`));
}

/** The node flags of a bin's `#!/usr/bin/env -S node …` line, so tests run it as installed. */
export async function binNodeArgs(name: 's2cs' | 's2uc'): Promise<string[]> {
  const source = await readFile(join(here, '..', '..', '..', 'src', 'cli', `${name}.ts`), 'utf8');
  const shebang = /^#!\/usr\/bin\/env (?:-S )?node(.*)$/m.exec(source);
  if (!shebang) throw new Error(`src/cli/${name}.ts: expected a "#!/usr/bin/env node" first line`);
  return shebang[1].trim().split(/\s+/).filter(Boolean);
}

async function bundle(entry: string, outfile: string): Promise<string> {
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile,
    logLevel: 'error'
  });
  return outfile;
}

/** What every test gateway is given; `s2csArgs` spells it as the s2cs command line. */
export interface S2csSettings {
  /** The address it listens on and gives to clients (`--listener-ip` and `--bind`). */
  ip?: string;
  certificate: { certFile: string; keyFile: string };
  /** Its control port; left out, the s2cs default applies (0 picks a free one). */
  port?: number;
  portRange?: { low: number; high: number };
  stateDir?: string;
}

/** The s2cs arguments of `settings`, with `extra` (auth, peer CA, …) appended. */
export function s2csArgs(settings: S2csSettings, extra: string[] = []): string[] {
  const ip = settings.ip ?? '127.0.0.1';
  return [
    '--listener-ip',
    ip,
    '--bind',
    ip,
    ...(settings.port !== undefined ? ['--port', String(settings.port)] : []),
    ...(settings.portRange
      ? ['--port-range', `${settings.portRange.low}-${settings.portRange.high}`]
      : []),
    '--server-crt',
    settings.certificate.certFile,
    '--server-key',
    settings.certificate.keyFile,
    ...(settings.stateDir !== undefined ? ['--state-dir', settings.stateDir] : []),
    ...extra
  ];
}

/** An S2CS as its own process (optionally inside a network namespace); stderr kept for errors. */
export class S2csProcess {
  private child?: ChildProcess;
  stderr = '';
  port = 0;

  constructor(
    private readonly cli: string,
    private readonly args: string[],
    private readonly netns?: string,
    private readonly env: NodeJS.ProcessEnv = {},
    /** Arguments before `args`: the subcommand, or none for the `s2cs` executable. */
    private readonly command: string[] = ['s2cs'],
    /** Flags for node itself (those of the bin's shebang line). */
    private readonly nodeArgs: string[] = []
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<number> {
    const command = this.netns ? 'ip' : process.execPath;
    const args = this.netns
      ? ['netns', 'exec', this.netns, process.execPath, ...this.nodeArgs, this.cli]
      : [...this.nodeArgs, this.cli];
    args.push(...this.command, ...this.args);
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...this.env }
    });
    this.child = child;
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(
        () => reject(new Error(`s2cs did not start: ${this.stderr}`)),
        30_000
      );
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /\{"event":"listening","port":(\d+)\}/.exec(out);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
      child.once('exit', code => {
        clearTimeout(timer);
        reject(new Error(`s2cs exited (${code}) while starting: ${this.stderr}`));
      });
    });
    return this.port;
  }

  /** Sends `signal` and resolves with the exit code (or signal name) once the process is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<number | string> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      return child?.exitCode ?? child?.signalCode ?? 'not started';
    }
    const exited = new Promise<number | string>(resolve =>
      child.once('exit', (code, sig) => resolve(code ?? sig ?? 'unknown'))
    );
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const result = await exited;
    clearTimeout(timer);
    return result;
  }
}
