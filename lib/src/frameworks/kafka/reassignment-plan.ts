/** Where one partition's replicas are; the first is its preferred leader. */
export interface PartitionPlacement {
  topic: string;
  partition: number;
  replicas: number[];
}

/** A partition whose replica list changes (members or order) in a reassignment. */
export interface PartitionMove {
  topic: string;
  partition: number;
  from: number[];
  to: number[];
}

/** Kafka's own topics (__consumer_offsets, __transaction_state, ...). */
export function isInternalTopic(topic: string): boolean {
  return topic.startsWith('__');
}

/** Per-broker counts, summed over the topics planned so far. */
type Load = Map<number, number>;

function add(load: Load, broker: number, by = 1): void {
  load.set(broker, (load.get(broker) ?? 0) + by);
}

function get(load: Load, broker: number): number {
  return load.get(broker) ?? 0;
}

/** `total` split over `ordered` brokers: each gets the floor, the first `total % n` one more. */
function quotas(total: number, ordered: readonly number[]): Load {
  const base = Math.floor(total / ordered.length);
  const extra = total % ordered.length;
  return new Map(ordered.map((broker, i) => [broker, base + (i < extra ? 1 : 0)]));
}

function checkBrokers(key: string, brokers: readonly number[]): void {
  if (brokers.length === 0) throw new Error(`${key}: empty; expected at least one broker id`);
  for (const id of brokers) {
    if (!Number.isInteger(id) || id < 0) {
      throw new Error(`${key}: ${String(id)} is not a broker id; expected an integer >= 0`);
    }
  }
  if (new Set(brokers).size !== brokers.length) {
    throw new Error(`${key}: [${brokers.join(',')}] names a broker twice; expected distinct ids`);
  }
}

/**
 * New replica lists for one topic's partitions over `brokers`: every broker leads
 * floor(P/n) or ceil(P/n) partitions and holds floor(R/n) or ceil(R/n) replicas (R = all
 * replicas of the topic). Current leaders and replicas stay where quotas allow, so little data
 * moves; brokers with less load over earlier topics get the rounding extras, so the cluster as a
 * whole stays even too.
 */
function spreadTopic(
  partitions: readonly PartitionPlacement[],
  brokers: readonly number[],
  leaderTotals: Load,
  replicaTotals: Load
): number[][] {
  const n = brokers.length;
  const currentLeaders: Load = new Map();
  const currentReplicas: Load = new Map();
  for (const { replicas } of partitions) {
    add(currentLeaders, replicas[0]!);
    for (const broker of replicas) add(currentReplicas, broker);
  }
  const byLoad = (totals: Load, current: Load) => (a: number, b: number) =>
    get(totals, a) - get(totals, b) || get(current, b) - get(current, a) || a - b;

  const leaderQuota = quotas(
    partitions.length,
    [...brokers].sort(byLoad(leaderTotals, currentLeaders))
  );
  const replicaCount = partitions.reduce((sum, p) => sum + p.replicas.length, 0);
  const replicaFloor = Math.floor(replicaCount / n);
  // A broker leading more partitions than the replica floor must get a replica extra.
  const mustHaveExtra = (broker: number): number =>
    get(leaderQuota, broker) > replicaFloor ? 0 : 1;
  const replicaQuota = quotas(
    replicaCount,
    [...brokers].sort(
      (a, b) => mustHaveExtra(a) - mustHaveExtra(b) || byLoad(replicaTotals, currentReplicas)(a, b)
    )
  );

  // Leaders: keep the current one while its quota lasts; then prefer a broker that already
  // holds a replica (only leadership moves), else the one with most quota left.
  const leadersLeft = new Map(leaderQuota);
  const leaders: (number | undefined)[] = partitions.map(({ replicas }) => {
    const leader = replicas[0]!;
    if (get(leadersLeft, leader) === 0) return undefined;
    add(leadersLeft, leader, -1);
    return leader;
  });
  partitions.forEach(({ replicas }, i) => {
    if (leaders[i] !== undefined) return;
    const open = brokers.filter(broker => get(leadersLeft, broker) > 0);
    const holding = open.find(broker => replicas.includes(broker));
    const chosen =
      holding ??
      open.reduce((best, broker) =>
        get(leadersLeft, broker) > get(leadersLeft, best) ? broker : best
      );
    add(leadersLeft, chosen, -1);
    leaders[i] = chosen;
  });

  // Followers: keep current replicas while quota lasts, then fill from the most quota left.
  const replicasLeft = new Map(replicaQuota);
  for (const leader of leaders) add(replicasLeft, leader!, -1);
  const followers: number[][] = partitions.map(({ replicas }, i) => {
    const kept: number[] = [];
    for (const broker of replicas) {
      if (kept.length === replicas.length - 1) break;
      if (broker === leaders[i] || get(replicasLeft, broker) <= 0) continue;
      kept.push(broker);
      add(replicasLeft, broker, -1);
    }
    return kept;
  });
  const members = (i: number): number[] => [leaders[i]!, ...followers[i]!];
  partitions.forEach(({ replicas }, i) => {
    while (followers[i]!.length < replicas.length - 1) {
      const candidates = brokers.filter(
        broker => get(replicasLeft, broker) > 0 && !members(i).includes(broker)
      );
      if (candidates.length > 0) {
        const chosen = candidates.reduce((best, broker) =>
          get(replicasLeft, broker) > get(replicasLeft, best) ? broker : best
        );
        followers[i]!.push(chosen);
        add(replicasLeft, chosen, -1);
        continue;
      }
      // Only brokers already in this partition have quota left. Swap: another partition hands
      // one of its followers to this one and takes a broker with quota left instead. A follower
      // new to that partition goes first: it was to be copied anyway, so no extra data moves.
      const spare = brokers.find(broker => get(replicasLeft, broker) > 0);
      const swaps =
        spare === undefined
          ? []
          : followers.flatMap((list, j) =>
              j === i || members(j).includes(spare)
                ? []
                : list.flatMap((follower, k) =>
                    members(i).includes(follower)
                      ? []
                      : [{ j, k, isNew: !partitions[j]!.replicas.includes(follower) }]
                  )
            );
      const swap = swaps.find(candidate => candidate.isNew) ?? swaps[0];
      if (spare === undefined || swap === undefined) {
        throw new Error(
          `No broker of [${brokers.join(',')}] can take another replica of ${partitions[i]!.topic}-${partitions[i]!.partition}`
        );
      }
      const handed = followers[swap.j]![swap.k]!;
      followers[swap.j]![swap.k] = spare;
      add(replicasLeft, spare, -1);
      followers[i]!.push(handed);
    }
  });

  return partitions.map((_, i) => {
    const replicas = members(i);
    add(leaderTotals, replicas[0]!);
    for (const broker of replicas) add(replicaTotals, broker);
    return replicas;
  });
}

/** Groups placements by topic (sorted by name), each topic's partitions sorted by id. */
function byTopic(placements: readonly PartitionPlacement[]): PartitionPlacement[][] {
  const topics = new Map<string, PartitionPlacement[]>();
  for (const placement of placements) {
    const list = topics.get(placement.topic) ?? [];
    list.push(placement);
    topics.set(placement.topic, list);
  }
  return [...topics.keys()]
    .sort()
    .map(topic => topics.get(topic)!.sort((a, b) => a.partition - b.partition));
}

/**
 * Target placement spreading every given partition over `brokers`, evenly per topic (leaders
 * and replicas), keeping each partition's replication factor.
 */
export function planSpread(
  placements: readonly PartitionPlacement[],
  brokers: readonly number[]
): PartitionPlacement[] {
  checkBrokers('brokerIds', brokers);
  for (const { topic, partition, replicas } of placements) {
    if (replicas.length > brokers.length) {
      throw new Error(
        `brokerIds: [${brokers.join(',')}] are ${brokers.length} brokers, but ${topic}-${partition} has ${replicas.length} replicas; expected at least as many brokers as its replication factor`
      );
    }
  }
  const leaderTotals: Load = new Map();
  const replicaTotals: Load = new Map();
  return byTopic(placements).flatMap(partitions => {
    const targets = spreadTopic(partitions, brokers, leaderTotals, replicaTotals);
    return partitions.map((p, i) => ({
      topic: p.topic,
      partition: p.partition,
      replicas: targets[i]!
    }));
  });
}

/**
 * Target placement with no replica on `remove`: every topic holding a replica there is spread
 * over `keep` (evenly, as planSpread does); other topics stay as they are.
 */
export function planDrain(
  placements: readonly PartitionPlacement[],
  remove: readonly number[],
  keep: readonly number[]
): PartitionPlacement[] {
  checkBrokers('remove', remove);
  checkBrokers('keep', keep);
  const both = remove.filter(id => keep.includes(id));
  if (both.length > 0) {
    throw new Error(
      `remove: [${remove.join(',')}] and keep: [${keep.join(',')}] share ${both.join(',')}; expected disjoint lists`
    );
  }
  const touched = new Set(
    placements.filter(p => p.replicas.some(id => remove.includes(id))).map(p => p.topic)
  );
  const spread = new Map(
    planSpread(
      placements.filter(p => touched.has(p.topic)),
      keep
    ).map(p => [`${p.topic}\0${p.partition}`, p])
  );
  return placements.map(p => spread.get(`${p.topic}\0${p.partition}`) ?? p);
}

/** Partitions whose replica list differs between `current` and `target`. */
export function movesBetween(
  current: readonly PartitionPlacement[],
  target: readonly PartitionPlacement[]
): PartitionMove[] {
  const now = new Map(current.map(p => [`${p.topic}\0${p.partition}`, p.replicas]));
  const moves: PartitionMove[] = [];
  for (const { topic, partition, replicas } of target) {
    const from = now.get(`${topic}\0${partition}`);
    if (from === undefined)
      throw new Error(`${topic}-${partition} is not in the current placement`);
    if (from.join(',') !== replicas.join(',')) moves.push({ topic, partition, from, to: replicas });
  }
  return moves;
}
