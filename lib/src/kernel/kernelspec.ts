import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEFAULT_KERNEL_NAME = 'pilot-streaming';
export const KERNEL_DISPLAY_NAME = 'TypeScript (Pilot-Streaming)';

export interface KernelspecLocation {
  /** Installs under <prefix>/share/jupyter/kernels (e.g. a virtualenv). */
  prefix?: string;
  /** Installs into the user's Jupyter data directory (the default). */
  user?: boolean;
  name?: string;
}

/** The user's Jupyter data directory, as jupyter_core computes it. */
export function jupyterUserDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.JUPYTER_DATA_DIR) return env.JUPYTER_DATA_DIR;
  const home = os.homedir();
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Jupyter');
  if (process.platform === 'win32') {
    return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'jupyter');
  }
  return path.join(env.XDG_DATA_HOME || path.join(home, '.local', 'share'), 'jupyter');
}

export function kernelspecDir(location: KernelspecLocation): string {
  const name = location.name ?? DEFAULT_KERNEL_NAME;
  if (!/^[a-z0-9._-]+$/i.test(name)) {
    throw new Error(`--name ${JSON.stringify(name)}: expected letters, digits, ".", "_" or "-"`);
  }
  if (location.prefix !== undefined && location.user === true) {
    throw new Error('--prefix and --user exclude each other: give one of them');
  }
  const base =
    location.prefix !== undefined
      ? path.join(path.resolve(location.prefix), 'share', 'jupyter')
      : jupyterUserDataDir();
  return path.join(base, 'kernels', name);
}

/** `KEY=VALUE` strings to an environment object, naming the bad entry on error. */
export function parseEnvAssignments(assignments: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const assignment of assignments) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(assignment);
    if (match === null) {
      throw new Error(
        `--env ${JSON.stringify(assignment)}: expected KEY=VALUE with KEY made of letters, digits and "_"`
      );
    }
    env[match[1]!] = match[2]!;
  }
  return env;
}

/** The built kernel entry point next to this file (dist/kernel/main.js). */
export function kernelMainPath(): string {
  return fileURLToPath(new URL('./main.js', import.meta.url));
}

export function kernelJson(env: Record<string, string>): Record<string, unknown> {
  return {
    argv: [process.execPath, kernelMainPath(), '{connection_file}'],
    display_name: KERNEL_DISPLAY_NAME,
    language: 'typescript',
    // An interrupt_request reaches a cell's loops even after its first await (socket-thread.ts);
    // SIGINT reaches only the synchronous part before it.
    interrupt_mode: 'message',
    env,
    metadata: { debugger: false }
  };
}

const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">
  <rect width="64" height="64" rx="8" fill="#3178c6"/>
  <text x="32" y="42" font-family="sans-serif" font-size="26" font-weight="bold" text-anchor="middle" fill="#fff">PS</text>
</svg>
`;

/** Writes kernel.json (and a logo); returns the kernelspec directory. */
export async function installKernelspec(
  location: KernelspecLocation,
  env: Record<string, string> = {}
): Promise<string> {
  const main = kernelMainPath();
  try {
    await access(main);
  } catch {
    throw new Error(
      `kernel entry point ${main} does not exist: build the library first (npm run build -w lib)`
    );
  }
  const dir = kernelspecDir(location);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'kernel.json'), JSON.stringify(kernelJson(env), null, 2) + '\n');
  await writeFile(path.join(dir, 'logo-svg.svg'), LOGO_SVG);
  return dir;
}

export async function removeKernelspec(location: KernelspecLocation): Promise<string> {
  const dir = kernelspecDir(location);
  try {
    await access(path.join(dir, 'kernel.json'));
  } catch {
    throw new Error(`no kernelspec at ${dir}`);
  }
  await rm(dir, { recursive: true });
  return dir;
}
