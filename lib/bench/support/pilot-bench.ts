import type { TestbedInfo } from '../../test/testbed/testbed.js';
import { ValidationError, type PilotRecord, type PilotState } from '../../src/protocol/index.js';

/** The whole number ≥ 1 in environment variable `name` (else `fallback`): rounds to measure. */
export function benchRuns(name: string, fallback: number): number {
  const value = process.env[name] ?? String(fallback);
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1) {
    throw new ValidationError('benchmark settings', [
      { key: name, value, expected: 'a whole number ≥ 1' }
    ]);
  }
  return count;
}

/** When `record` reached `state` (ms since the epoch). */
export function transitionAt(record: PilotRecord, state: PilotState): number {
  const change = record.history.find(entry => entry.state === state);
  if (change === undefined) throw new Error(`Pilot ${record.id} has no ${state} transition`);
  return Date.parse(change.at);
}

/**
 * Points this process's ssh settings at the testbed's sshd (its known_hosts and key); the
 * returned function puts the previous settings back.
 */
export function useTestbedSsh(ssh: TestbedInfo['ssh']): () => void {
  const saved = {
    known: process.env.PILOT_STREAMING_SSH_KNOWN_HOSTS,
    identity: process.env.PILOT_STREAMING_SSH_IDENTITY
  };
  process.env.PILOT_STREAMING_SSH_KNOWN_HOSTS = ssh.knownHostsPath;
  process.env.PILOT_STREAMING_SSH_IDENTITY = ssh.identityPath;
  return () => {
    if (saved.known === undefined) delete process.env.PILOT_STREAMING_SSH_KNOWN_HOSTS;
    else process.env.PILOT_STREAMING_SSH_KNOWN_HOSTS = saved.known;
    if (saved.identity === undefined) delete process.env.PILOT_STREAMING_SSH_IDENTITY;
    else process.env.PILOT_STREAMING_SSH_IDENTITY = saved.identity;
  };
}
