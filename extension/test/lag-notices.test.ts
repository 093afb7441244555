import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import type { KafkaLagView } from '@pilot-streaming/lib/protocol';
import { describe, expect, it } from 'vitest';
import { lagNotices, totalLagText } from '../src/kafka-lag/notices';

/** English, as with JupyterLab's null translator: %1, %2… replaced by the arguments. */
const trans = {
  __: (text: string, ...args: unknown[]) =>
    text.replace(/%(\d+)/g, (_, n: string) => String(args[Number(n) - 1]))
} as IRenderMime.TranslationBundle;

const view: KafkaLagView = {
  pilotId: 'pilot-0123456789ab',
  topic: 'frames',
  groupId: 'recon',
  partitions: [{ partition: 0, logEndOffset: 10, committedOffset: 4, lag: 6 }],
  totalLag: 6,
  history: [{ t: 1, totalLag: 6 }],
  updatedAt: '2026-01-01T00:00:00.000Z'
};

describe('lagNotices', () => {
  it('has nothing to say of a view from an older kernel, or of a group that committed', () => {
    expect(lagNotices(trans, view)).toEqual([]);
    expect(
      lagNotices(trans, {
        ...view,
        topicExists: true,
        group: { state: 'Stable', hasCommittedOffsets: true }
      })
    ).toEqual([]);
  });

  it('says that the topic does not exist and is still watched for', () => {
    expect(lagNotices(trans, { ...view, topicExists: false, partitions: [] })).toEqual([
      {
        kind: 'topic-missing',
        text: 'Topic frames does not exist (yet). Still watching: its lag appears once it is created.'
      }
    ]);
  });

  it('says that a group does not exist, or has committed nothing on the topic', () => {
    expect(
      lagNotices(trans, { ...view, group: { state: 'Dead', hasCommittedOffsets: false } })
    ).toEqual([
      {
        kind: 'group-missing',
        text: 'Group recon does not exist: it has no committed offsets, so the lag counts every stored message.'
      }
    ]);
    expect(
      lagNotices(trans, { ...view, group: { state: 'Empty', hasCommittedOffsets: false } })
    ).toEqual([
      {
        kind: 'group-no-offsets',
        text: 'Group recon has no committed offsets on this topic, so the lag counts every stored message.'
      }
    ]);
  });

  it('says that the pilot ended, after what explains the numbers', () => {
    const notices = lagNotices(trans, {
      ...view,
      stopped: true,
      pilotEnded: 'Canceled',
      topicExists: false
    });
    expect(notices).toEqual([
      { kind: 'topic-missing', text: 'Topic frames does not exist.' },
      {
        kind: 'pilot-ended',
        text: 'Pilot pilot-0123456789ab ended (Canceled): monitoring stopped.'
      }
    ]);
  });
});

describe('totalLagText', () => {
  it('gives the total lag once sampled', () => {
    expect(totalLagText(trans, view)).toBe('Total lag: 6');
  });

  it('gives no number before the first sample, nor without a topic', () => {
    expect(totalLagText(trans, { ...view, history: [] })).toBe(
      'Total lag: waiting for the first sample…'
    );
    expect(totalLagText(trans, { ...view, topicExists: false })).toBe('Total lag: no such topic');
  });
});
