import type { DaskDetails } from '../../protocol/index.js';

/** The parent's details with a running child's workers added (the parent lists every worker). */
export function withChildWorkers(parent: DaskDetails, child: DaskDetails): DaskDetails {
  const known = new Set(parent.workers.map(worker => worker.name));
  return {
    ...parent,
    workers: [...parent.workers, ...child.workers.filter(worker => !known.has(worker.name))]
  };
}

/** The parent's details without the workers of child pilot `childId`. */
export function withoutChildWorkers(parent: DaskDetails, childId: string): DaskDetails {
  return { ...parent, workers: parent.workers.filter(worker => worker.pilotId !== childId) };
}
