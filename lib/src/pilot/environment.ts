import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Root of the durable registry and the pilots' working directories. Always absolute: the
 * supervisors run in the pilots' own directories, where a relative path means something else.
 */
export function defaultPilotHome(): string {
  const fromEnv = process.env.PILOT_STREAMING_HOME;
  return fromEnv !== undefined && fromEnv !== ''
    ? resolve(fromEnv)
    : join(homedir(), '.pilot-streaming');
}

/** Download cache for framework distributions (shared by all pilots of this user); absolute. */
export function defaultPilotCache(): string {
  const fromEnv = process.env.PILOT_STREAMING_CACHE;
  return fromEnv !== undefined && fromEnv !== ''
    ? resolve(fromEnv)
    : join(homedir(), '.cache', 'pilot-streaming');
}
