import type { JobManagerClient } from './rest-client.js';

/**
 * Waits until the TaskManagers `ids` have no slot in use (a TaskManager the JobManager no longer
 * lists has none), or `timeoutMs` has passed. Flink cannot keep new tasks off a TaskManager,
 * so a busy cluster may place tasks on them meanwhile; those finish before the slots count as
 * free. Resolves with the time taken and the TaskManagers still busy at the end.
 */
export async function drainTaskManagers(options: {
  jobManager: JobManagerClient;
  ids: readonly string[];
  timeoutMs: number;
  pollMs: number;
}): Promise<{ ms: number; busy: string[] }> {
  const started = Date.now();
  for (;;) {
    const listed = await options.jobManager.taskManagers();
    const busy = options.ids.filter(id => {
      const taskManager = listed.find(each => each.id === id);
      return taskManager !== undefined && taskManager.freeSlots < taskManager.slotsNumber;
    });
    const ms = Date.now() - started;
    if (busy.length === 0 || ms >= options.timeoutMs) return { ms, busy };
    await new Promise(resolve => setTimeout(resolve, options.pollMs));
  }
}
