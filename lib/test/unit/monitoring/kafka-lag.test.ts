import { describe, expect, it } from 'vitest';
import { computePartitionLags, describeLagGroup } from '../../../src/monitoring/kafka-lag.js';
import { lagBundle } from '../../../src/monitoring/lag-bundle.js';
import { KAFKA_LAG_MIME_TYPE, type KafkaLagView } from '../../../src/protocol/index.js';

describe('computePartitionLags', () => {
  it('subtracts the committed offset from the log-end offset, per partition, sorted', () => {
    const result = computePartitionLags(
      [
        { partition: 2, low: '0', high: '300' },
        { partition: 0, low: '0', high: '500' },
        { partition: 1, low: '0', high: '200' }
      ],
      [
        { partition: 0, offset: '120' },
        { partition: 1, offset: '200' },
        { partition: 2, offset: '80' }
      ]
    );
    expect(result.partitions).toEqual([
      { partition: 0, logEndOffset: 500, committedOffset: 120, lag: 380 },
      { partition: 1, logEndOffset: 200, committedOffset: 200, lag: 0 },
      { partition: 2, logEndOffset: 300, committedOffset: 80, lag: 220 }
    ]);
    expect(result.totalLag).toBe(600);
  });

  it('counts the whole stored log of a partition with no commit', () => {
    const result = computePartitionLags(
      [
        { partition: 0, low: '40', high: '100' },
        { partition: 1, low: '0', high: '7' }
      ],
      [{ partition: 0, offset: '-1' }]
    );
    expect(result.partitions).toEqual([
      { partition: 0, logEndOffset: 100, committedOffset: -1, lag: 60 },
      { partition: 1, logEndOffset: 7, committedOffset: -1, lag: 7 }
    ]);
    expect(result.totalLag).toBe(67);
  });

  it('never reports a negative lag (commit ahead of a truncated log)', () => {
    const result = computePartitionLags(
      [{ partition: 0, low: '0', high: '10' }],
      [{ partition: 0, offset: '12' }]
    );
    expect(result.partitions[0]?.lag).toBe(0);
  });

  it('names the partition and value of an offset that is not a number', () => {
    expect(() => computePartitionLags([{ partition: 3, low: '0', high: 'abc' }], [])).toThrow(
      'partition 3 log-end offset = "abc", expected an integer offset'
    );
  });
});

describe('describeLagGroup', () => {
  const partitions = (...committed: number[]) =>
    committed.map((committedOffset, partition) => ({
      partition,
      logEndOffset: 10,
      committedOffset,
      lag: 10 - Math.max(0, committedOffset)
    }));

  it('takes the state the broker gave for the group, and sees whether it committed', () => {
    expect(
      describeLagGroup(
        'recon',
        [
          { groupId: 'other', state: 'Stable' },
          { groupId: 'recon', state: 'Empty' }
        ],
        partitions(-1, 4)
      )
    ).toEqual({ state: 'Empty', hasCommittedOffsets: true });
  });

  it('has no committed offsets when no partition has one', () => {
    expect(
      describeLagGroup('recon', [{ groupId: 'recon', state: 'Stable' }], partitions(-1, -1))
    ).toEqual({ state: 'Stable', hasCommittedOffsets: false });
  });

  it('takes a group the broker did not describe for one that does not exist', () => {
    expect(describeLagGroup('recon', [], partitions(-1))).toEqual({
      state: 'Dead',
      hasCommittedOffsets: false
    });
  });
});

describe('lagBundle', () => {
  const view: KafkaLagView = {
    pilotId: 'pilot-0123456789ab',
    topic: 'frames',
    groupId: 'recon',
    partitions: [
      { partition: 0, logEndOffset: 10, committedOffset: 4, lag: 6 },
      { partition: 1, logEndOffset: 5, committedOffset: -1, lag: 5 }
    ],
    totalLag: 11,
    history: [{ t: 1, totalLag: 11 }],
    updatedAt: '2026-01-01T00:00:00.000Z'
  };

  it('carries the view under our MIME type and a text fallback', () => {
    const bundle = lagBundle(view);
    expect(bundle[KAFKA_LAG_MIME_TYPE]).toBe(view);
    expect(bundle['text/plain']).toBe(
      'Kafka lag of group "recon" on topic "frames": total 11 (p0: 6, p1: 5)'
    );
  });

  it('says there is no sample yet instead of a lag of 0', () => {
    const bundle = lagBundle({ ...view, partitions: [], totalLag: 0, history: [] });
    expect(bundle['text/plain']).toBe(
      'Kafka lag of group "recon" on topic "frames": no sample yet'
    );
  });

  it('says when monitoring stopped, and that the pilot ended', () => {
    expect(lagBundle({ ...view, stopped: true })['text/plain']).toMatch(
      /: total 11 .*\(stopped\)$/
    );
    const bundle = lagBundle({ ...view, stopped: true, pilotEnded: 'Canceled' });
    expect(bundle['text/plain']).toMatch(/\(stopped: pilot pilot-0123456789ab is Canceled\)$/);
  });

  it('adds an error after the numbers', () => {
    const bundle = lagBundle({ ...view, error: 'broker unreachable' });
    expect(bundle['text/plain']).toMatch(/total 11 \(p0: 6, p1: 5\) — broker unreachable$/);
  });

  it('says a topic does not exist instead of a lag', () => {
    const bundle = lagBundle({ ...view, topicExists: false, partitions: [], totalLag: 0 });
    expect(bundle['text/plain']).toBe(
      'Kafka lag of group "recon" on topic "frames": topic "frames" does not exist (watching for it)'
    );
  });

  it('says when the group does not exist or has committed nothing on the topic', () => {
    const dead = lagBundle({ ...view, group: { state: 'Dead', hasCommittedOffsets: false } });
    expect(dead['text/plain']).toBe(
      'Kafka lag of group "recon" on topic "frames": total 11 (p0: 6, p1: 5) — group "recon" does not exist (no committed offsets)'
    );
    const idle = lagBundle({ ...view, group: { state: 'Empty', hasCommittedOffsets: false } });
    expect(idle['text/plain']).toMatch(/ — group "recon" has no committed offsets on this topic$/);
    const fine = lagBundle({ ...view, group: { state: 'Stable', hasCommittedOffsets: true } });
    expect(fine['text/plain']).toBe(lagBundle(view)['text/plain']);
  });
});
