/**
 * Facts about processes on this host, shared by layers that must not import each other (the
 * kernel core, the SciStream gateway).
 */

/** Whether a process of this pid exists (signal 0 checks without signalling). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, as another user's process.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
