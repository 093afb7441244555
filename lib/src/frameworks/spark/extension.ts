import type { SparkDetails } from '../../protocol/index.js';

/** The parent's details with a running child's workers added (the parent lists every worker). */
export function withChildSparkWorkers(parent: SparkDetails, child: SparkDetails): SparkDetails {
  const known = new Set(parent.workers.map(worker => worker.address));
  return {
    ...parent,
    workers: [...parent.workers, ...child.workers.filter(worker => !known.has(worker.address))]
  };
}

/** The parent's details without the workers of child pilot `childId`. */
export function withoutChildSparkWorkers(parent: SparkDetails, childId: string): SparkDetails {
  return { ...parent, workers: parent.workers.filter(worker => worker.pilotId !== childId) };
}
