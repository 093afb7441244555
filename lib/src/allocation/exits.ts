import { constants } from 'node:os';

/**
 * "<what> was killed by signal SIGKILL" or "<what> exited with code 137 (SIGKILL on its node)":
 * a launcher such as srun reports its task's death by signal N as exit code 128 + N.
 */
export function describeExit(
  what: string,
  exit: { code: number | null; signal: NodeJS.Signals | null }
): string {
  if (exit.signal !== null) return `${what} was killed by signal ${exit.signal}`;
  const signal =
    exit.code !== null && exit.code > 128
      ? Object.entries(constants.signals).find(([, number]) => number === exit.code! - 128)?.[0]
      : undefined;
  return `${what} exited with code ${String(exit.code)}${signal !== undefined ? ` (${signal} on its node)` : ''}`;
}
