import { homedir } from 'node:os';
import { join } from 'node:path';

/** Root of the durable registry and the pilots' working directories. */
export function defaultPilotHome(): string {
  const fromEnv = process.env.PILOT_STREAMING_HOME;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(homedir(), '.pilot-streaming');
}

/** Download cache for framework distributions (shared by all pilots of this user). */
export function defaultPilotCache(): string {
  const fromEnv = process.env.PILOT_STREAMING_CACHE;
  return fromEnv !== undefined && fromEnv !== ''
    ? fromEnv
    : join(homedir(), '.cache', 'pilot-streaming');
}
