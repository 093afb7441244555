import type { ValidationProblem } from '../../protocol/index.js';

/**
 * A Dask pilot's `configuration`: Dask configuration keys in the dotted form `dask.config.set`
 * takes (`distributed.scheduler.allowed-failures: 5`, `distributed.worker.memory.target: 0.5`),
 * given to the scheduler and every worker as `DASK_*` environment variables, so Dask reads the
 * values as it reads such variables (numbers, booleans and lists as Python literals, other text
 * as text).
 */

type Configuration = Record<string, string | number | boolean>;

/**
 * Keys a pilot sets itself or that would undo its security: transport and TLS, the HTTP routes
 * (one retires workers), the dashboard's TLS, and preloads (code run in every node, and the
 * one that makes the HTTP servers mutual TLS).
 */
const RESERVED_PREFIXES = [
  'distributed.comm.',
  'distributed.scheduler.http.',
  'distributed.worker.http.',
  'distributed.scheduler.dashboard.',
  'distributed.scheduler.preload',
  'distributed.worker.preload',
  'distributed.nanny.preload'
];

/** Dotted words of letters and digits joined by single "-" or "_" ("__" nests in DASK_*). */
const KEY_PATTERN = /^[a-z0-9]+([_-][a-z0-9]+)*(\.[a-z0-9]+([_-][a-z0-9]+)*)+$/;

export function daskConfigurationProblems(configuration: Configuration): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  for (const [key, value] of Object.entries(configuration)) {
    const where = `configuration.${key}`;
    const reserved = RESERVED_PREFIXES.find(prefix => key.replace(/_/g, '-').startsWith(prefix));
    if (!KEY_PATTERN.test(key)) {
      problems.push({
        key: where,
        value,
        expected:
          'a Dask configuration key in dotted form, lower case, e.g. "distributed.scheduler.allowed-failures"'
      });
    } else if (reserved !== undefined) {
      problems.push({
        key: where,
        value,
        expected: `no value: the pilot sets ${reserved}* itself (TLS with its own authority, its HTTP routes and preloads)`
      });
    } else if (typeof value === 'string' && /[\r\n\0]/.test(value)) {
      problems.push({ key: where, value, expected: 'a single-line value' });
    }
  }
  return problems;
}

/** The environment variables that give Dask this configuration (validated before). */
export function daskConfigurationEnv(configuration: Configuration): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(configuration)) {
    // Dask reads DASK_A__B_C as a.b_c, and "_" and "-" name the same key.
    const name = `DASK_${key.split('.').join('__').replace(/-/g, '_').toUpperCase()}`;
    env[name] = typeof value === 'boolean' ? (value ? 'True' : 'False') : String(value);
  }
  return env;
}
