import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The library's programs that run as processes or worker threads of their own, by role, with
 * their compiled module under dist/. On a resource that got the library as one bundled file
 * (see ../staging) every role runs from that file: `node pilot-streaming.mjs <role> ...`.
 */
export const ENTRY_MODULES = {
  supervisor: 'pilot/supervisor/main.js',
  agent: 'agent/main.js',
  'free-ports': 'allocation/free-ports-main.js',
  'function-worker': 'agent/function-worker.js',
  'miniapps-unit': 'miniapps/unit-main.js',
  'slice-worker': 'recon/workers/slice-worker.js'
} as const;

export type EntryRole = keyof typeof ENTRY_MODULES;

export function isEntryRole(name: string): name is EntryRole {
  return Object.hasOwn(ENTRY_MODULES, name);
}

/** Set by the bundle's dispatcher (bundle-main.ts) in every process and thread it starts. */
const BUNDLE_PATH = Symbol.for('pilot-streaming.bundle-path');

/** Roles started from here on run from the bundle at `path` (undefined: from dist/ again). */
export function markBundle(path: string | undefined): void {
  (globalThis as Record<symbol, unknown>)[BUNDLE_PATH] = path;
}

function bundlePath(): string | undefined {
  const path = (globalThis as Record<symbol, unknown>)[BUNDLE_PATH];
  return typeof path === 'string' ? path : undefined;
}

/**
 * What follows `node` to run `role` here: the bundle and the role when this process runs from
 * the bundle, else the role's compiled module (also when this module runs from source under a
 * test runner).
 */
export function entryArguments(role: EntryRole): string[] {
  const bundle = bundlePath();
  return bundle !== undefined ? [bundle, role] : [compiledModule(ENTRY_MODULES[role])];
}

/**
 * A Python program the library ships (lib/python/<name>): beside the bundle when this process
 * runs from it (it is staged with it), else in the package's python/ directory.
 */
export function pythonProgram(name: string): string {
  const bundle = bundlePath();
  if (bundle !== undefined) return join(dirname(bundle), name);
  return fileURLToPath(new URL(`../../python/${name}`, import.meta.url));
}

/** A worker thread's script and the argv it needs (its role, when running from the bundle). */
export function workerEntry(role: EntryRole): { script: string; argv: string[] } {
  const [script, ...argv] = entryArguments(role);
  return { script: script!, argv };
}

/** The path of a module of dist/ given relative to it, e.g. "agent/main.js". */
export function compiledModule(relative: string): string {
  const root = fileURLToPath(new URL('../', import.meta.url));
  const beside = `${root}${relative}`;
  if (existsSync(beside)) return beside;
  const compiled = `${root.replace(/([/\\])src([/\\])$/, '$1dist$2')}${relative}`;
  if (existsSync(compiled)) return compiled;
  throw new Error(`${compiled} is not built; run "npm run build -w lib"`);
}
