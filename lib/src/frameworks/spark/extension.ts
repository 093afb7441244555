import type { SparkDetails } from '../../protocol/index.js';

/** The parent's details with a running child's workers added (the parent lists every worker). */
export function withChildSparkWorkers(parent: SparkDetails, child: SparkDetails): SparkDetails {
  // Two pilots' workers may share an address (fork://): a worker is its pilot's node.
  const key = (worker: SparkDetails['workers'][number]): string =>
    `${worker.pilotId}/${worker.node}`;
  const known = new Set(parent.workers.map(key));
  return {
    ...parent,
    workers: [...parent.workers, ...child.workers.filter(worker => !known.has(key(worker)))]
  };
}

/** The parent's details without the workers of child pilot `childId`. */
export function withoutChildSparkWorkers(parent: SparkDetails, childId: string): SparkDetails {
  return { ...parent, workers: parent.workers.filter(worker => worker.pilotId !== childId) };
}
