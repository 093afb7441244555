import { describe, expect, it } from 'vitest';
import {
  isInternalTopic,
  movesBetween,
  planDrain,
  planSpread,
  type PartitionPlacement
} from '../../../src/frameworks/kafka/reassignment-plan.js';

/** `count` partitions of `topic`, replicas round-robin over `brokers` (as Kafka places them). */
function topicOn(
  topic: string,
  count: number,
  replicationFactor: number,
  brokers: number[]
): PartitionPlacement[] {
  return Array.from({ length: count }, (_, partition) => ({
    topic,
    partition,
    replicas: Array.from(
      { length: replicationFactor },
      (_, r) => brokers[(partition + r) % brokers.length]!
    )
  }));
}

function counts(ids: number[], brokers: number[]): number[] {
  return brokers.map(b => ids.filter(id => id === b).length);
}

/** Leaders and replicas each broker of `brokers` has, per topic. */
function loadPerTopic(
  placement: PartitionPlacement[],
  brokers: number[]
): Map<string, { leaders: number[]; replicas: number[] }> {
  const topics = new Map<string, { leaders: number[]; replicas: number[] }>();
  for (const topic of new Set(placement.map(p => p.topic))) {
    const partitions = placement.filter(p => p.topic === topic);
    topics.set(topic, {
      leaders: counts(
        partitions.map(p => p.replicas[0]!),
        brokers
      ),
      replicas: counts(
        partitions.flatMap(p => p.replicas),
        brokers
      )
    });
  }
  return topics;
}

const spreadOf = (values: number[]): number => Math.max(...values) - Math.min(...values);

/** The properties every plan must have: same partitions and factors, distinct replicas on `brokers`, even. */
function expectEven(
  before: PartitionPlacement[],
  after: PartitionPlacement[],
  brokers: number[]
): void {
  expect(after.map(p => `${p.topic}-${p.partition}`).sort()).toEqual(
    before.map(p => `${p.topic}-${p.partition}`).sort()
  );
  for (const p of after) {
    const was = before.find(b => b.topic === p.topic && b.partition === p.partition)!;
    expect(p.replicas).toHaveLength(was.replicas.length);
    expect(new Set(p.replicas).size).toBe(p.replicas.length);
    for (const id of p.replicas) expect(brokers).toContain(id);
  }
  for (const [, load] of loadPerTopic(after, brokers)) {
    expect(spreadOf(load.leaders)).toBeLessThanOrEqual(1);
    expect(spreadOf(load.replicas)).toBeLessThanOrEqual(1);
  }
}

/** Replicas placed on a broker that did not hold one of that partition before: data copied. */
function replicasCopied(before: PartitionPlacement[], after: PartitionPlacement[]): number {
  return after.reduce((sum, p) => {
    const was = before.find(b => b.topic === p.topic && b.partition === p.partition)!;
    return sum + p.replicas.filter(id => !was.replicas.includes(id)).length;
  }, 0);
}

/** Deterministic pseudo-random numbers (mulberry32), so a failing case can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('planSpread', () => {
  it('spreads 10 partitions (factor 2) from 3 brokers over 5: each leads 2, holds 4, and only the 8 new replicas are copied', () => {
    const before = topicOn('events', 10, 2, [1, 2, 3]);
    const after = planSpread(before, [1, 2, 3, 4, 5]);
    expectEven(before, after, [1, 2, 3, 4, 5]);
    const load = loadPerTopic(after, [1, 2, 3, 4, 5]).get('events')!;
    expect(load.leaders).toEqual([2, 2, 2, 2, 2]);
    expect(load.replicas).toEqual([4, 4, 4, 4, 4]);
    // Brokers 4 and 5 need 4 replicas each; nothing else has to be copied.
    expect(replicasCopied(before, after)).toBe(8);
  });

  it('plans no move for a placement that is already even', () => {
    const before = topicOn('events', 10, 2, [1, 2, 3, 4, 5]);
    expect(movesBetween(before, planSpread(before, [1, 2, 3, 4, 5]))).toEqual([]);
    const spread = planSpread(topicOn('t', 7, 3, [1, 2, 3]), [1, 2, 3, 4]);
    expect(movesBetween(spread, planSpread(spread, [1, 2, 3, 4]))).toEqual([]);
  });

  it('keeps the cluster even over many small topics: rounding extras go to the least loaded', () => {
    const before = ['a', 'b', 'c', 'd', 'e', 'f'].flatMap(topic => topicOn(topic, 1, 1, [1]));
    const after = planSpread(before, [1, 2, 3]);
    expect(
      counts(
        after.map(p => p.replicas[0]!),
        [1, 2, 3]
      )
    ).toEqual([2, 2, 2]);
  });

  it('keeps every replication factor, including mixed factors within a topic', () => {
    const before: PartitionPlacement[] = [
      { topic: 'mixed', partition: 0, replicas: [1] },
      { topic: 'mixed', partition: 1, replicas: [1, 2, 3] },
      { topic: 'mixed', partition: 2, replicas: [2, 3] },
      { topic: 'mixed', partition: 3, replicas: [3] }
    ];
    const after = planSpread(before, [3, 4, 5]);
    expectEven(before, after, [3, 4, 5]);
  });

  it('holds its properties on 200 random placements', () => {
    const next = random(20261121);
    const pick = (n: number): number => Math.floor(next() * n);
    for (let run = 0; run < 200; run++) {
      const cluster = Array.from({ length: 1 + pick(7) }, (_, i) => i + 1);
      const placement = Array.from({ length: 1 + pick(4) }, (_, t) => {
        const factor = 1 + pick(Math.min(3, cluster.length));
        const offset = pick(cluster.length);
        return topicOn(`t${t}`, 1 + pick(20), factor, [
          ...cluster.slice(offset),
          ...cluster.slice(0, offset)
        ]);
      }).flat();
      const maxFactor = Math.max(...placement.map(p => p.replicas.length));
      const targets = Array.from({ length: maxFactor + pick(5) }, (_, i) => i + 1 + pick(3));
      const brokers = [...new Set(targets)];
      if (brokers.length < maxFactor) continue;
      const after = planSpread(placement, brokers);
      expectEven(placement, after, brokers);
      // Planning again moves nothing: the plan is a fixed point.
      expect(movesBetween(after, planSpread(after, brokers))).toEqual([]);
    }
  });

  it('refuses too few brokers for a replication factor, naming the partition', () => {
    expect(() => planSpread(topicOn('events', 2, 3, [1, 2, 3]), [1, 2])).toThrow(
      /brokerIds: \[1,2\] are 2 brokers, but events-0 has 3 replicas; expected at least as many brokers/
    );
  });

  it('refuses an empty, duplicated or non-integer broker list', () => {
    const placement = topicOn('events', 2, 1, [1]);
    expect(() => planSpread(placement, [])).toThrow(/brokerIds: empty; expected at least one/);
    expect(() => planSpread(placement, [1, 1])).toThrow(/brokerIds: \[1,1\] names a broker twice/);
    expect(() => planSpread(placement, [1.5])).toThrow(/brokerIds: 1.5 is not a broker id/);
  });
});

describe('planDrain', () => {
  it('moves every replica off the removed brokers, evenly onto those kept', () => {
    const before = planSpread(topicOn('events', 10, 2, [1, 2, 3]), [1, 2, 3, 4, 5]);
    const after = planDrain(before, [4, 5], [1, 2, 3]);
    expectEven(before, after, [1, 2, 3]);
    const load = loadPerTopic(after, [1, 2, 3]).get('events')!;
    expect(load.leaders.sort()).toEqual([3, 3, 4]);
    expect(load.replicas.sort()).toEqual([6, 7, 7]);
    // Only the 8 replicas of brokers 4 and 5 are copied back.
    expect(replicasCopied(before, after)).toBe(8);
  });

  it('leaves topics without a replica on the removed brokers as they are, and drains internal topics too', () => {
    const untouched = topicOn('elsewhere', 3, 1, [1, 1, 2]);
    const offsets = topicOn('__consumer_offsets', 5, 1, [1, 4, 2, 5, 3]);
    const after = planDrain([...untouched, ...offsets], [4, 5], [1, 2, 3]);
    expect(after.filter(p => p.topic === 'elsewhere')).toEqual(untouched);
    const drained = after.filter(p => p.topic === '__consumer_offsets');
    expect(drained.flatMap(p => p.replicas).some(id => id === 4 || id === 5)).toBe(false);
    expect(
      spreadOf(
        counts(
          drained.map(p => p.replicas[0]!),
          [1, 2, 3]
        )
      )
    ).toBeLessThanOrEqual(1);
  });

  it('refuses overlapping lists and too few kept brokers', () => {
    const placement = topicOn('events', 4, 2, [1, 2, 3]);
    expect(() => planDrain(placement, [3], [2, 3])).toThrow(
      /remove: \[3\] and keep: \[2,3\] share 3; expected disjoint lists/
    );
    expect(() => planDrain(placement, [2, 3], [1])).toThrow(/at least as many brokers/);
    expect(() => planDrain(placement, [], [1, 2])).toThrow(/remove: empty/);
  });
});

describe('movesBetween and isInternalTopic', () => {
  it('lists partitions whose replica list changed, order included', () => {
    const current: PartitionPlacement[] = [
      { topic: 't', partition: 0, replicas: [1, 2] },
      { topic: 't', partition: 1, replicas: [2, 3] },
      { topic: 't', partition: 2, replicas: [3, 1] }
    ];
    const target: PartitionPlacement[] = [
      { topic: 't', partition: 0, replicas: [1, 2] },
      { topic: 't', partition: 1, replicas: [3, 2] },
      { topic: 't', partition: 2, replicas: [4, 1] }
    ];
    expect(movesBetween(current, target)).toEqual([
      { topic: 't', partition: 1, from: [2, 3], to: [3, 2] },
      { topic: 't', partition: 2, from: [3, 1], to: [4, 1] }
    ]);
    expect(() => movesBetween(current, [{ topic: 'u', partition: 0, replicas: [1] }])).toThrow(
      /u-0 is not in the current placement/
    );
  });

  it('knows Kafka internal topics by their double underscore', () => {
    expect(isInternalTopic('__consumer_offsets')).toBe(true);
    expect(isInternalTopic('_single')).toBe(false);
    expect(isInternalTopic('events')).toBe(false);
  });
});
