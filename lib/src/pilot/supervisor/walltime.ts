/** When a pilot's supervisor stops its pilot for walltime, and why then. */
export interface WalltimeEnd {
  /** Time of the stop, in ms since the epoch. */
  at: number;
  /** How long before the scheduler's own limit the stop comes, in ms (0 without a scheduler). */
  marginMs: number;
}

/**
 * The walltime end of a pilot whose job started running at `startedAt` (ms since the epoch):
 * the walltime counts from there, as the scheduler's time limit does, never from when the pilot
 * was recorded, so time spent waiting in the queue does not shorten it. In a batch job the
 * scheduler ends the job at the same limit: the stop comes a little before it (a tenth of the
 * walltime, at most 30 s), so that it is ours (graceful, recorded), not the scheduler's SIGKILL.
 */
export function walltimeEnd(options: {
  startedAt: number;
  walltimeMinutes: number;
  inBatchJob: boolean;
}): WalltimeEnd {
  const { startedAt, walltimeMinutes, inBatchJob } = options;
  const marginMs = inBatchJob ? Math.min(30_000, walltimeMinutes * 6_000) : 0;
  return { at: startedAt + walltimeMinutes * 60_000 - marginMs, marginMs };
}
