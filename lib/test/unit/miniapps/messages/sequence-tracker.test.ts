import { describe, expect, it } from 'vitest';
import { MiniAppInputError } from '../../../../src/miniapps/errors.js';
import { SequenceTracker } from '../../../../src/miniapps/messages/sequence-tracker.js';

const RUN = 'run-a';

function recordAll(tracker: SequenceTracker, sequences: number[], producerId = 0, runId = RUN) {
  return sequences.map(sequence => tracker.record(runId, producerId, sequence));
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

describe('SequenceTracker', () => {
  it('in order: everything new, nothing missing, no ranges held', () => {
    const tracker = new SequenceTracker();
    expect(recordAll(tracker, [0, 1, 2, 3, 4])).toEqual(['new', 'new', 'new', 'new', 'new']);
    expect(tracker.summary()).toEqual({
      producers: [
        {
          runId: RUN,
          producerId: 0,
          received: 5,
          duplicates: 0,
          outOfOrder: 0,
          missing: 0,
          highestSequence: 4
        }
      ],
      total: { received: 5, duplicates: 0, outOfOrder: 0, missing: 0, highestSequence: 4 }
    });
    expect(tracker.heldRanges()).toBe(0);
  });

  it('gaps below the highest sequence are missing, including before the first message', () => {
    const tracker = new SequenceTracker();
    recordAll(tracker, [2, 3, 6, 7, 10]);
    const [producer] = tracker.summary().producers;
    expect(producer.received).toBe(5);
    expect(producer.missing).toBe(6); // 0, 1, 4, 5, 8, 9
    expect(producer.outOfOrder).toBe(0);
    expect(producer.highestSequence).toBe(10);
    expect(tracker.heldRanges()).toBe(3); // [2, 4), [6, 8), [10, 11)
  });

  it('late arrivals fill gaps, count as out of order and release ranges', () => {
    const tracker = new SequenceTracker();
    recordAll(tracker, [0, 1, 2, 5, 6, 9]);
    expect(tracker.heldRanges()).toBe(2);
    expect(recordAll(tracker, [3, 4])).toEqual(['new', 'new']);
    expect(tracker.heldRanges()).toBe(1); // only [9, 10) is left above the watermark (7)
    recordAll(tracker, [8, 7]);
    expect(tracker.heldRanges()).toBe(0);
    const [producer] = tracker.summary().producers;
    expect(producer).toMatchObject({ received: 10, missing: 0, outOfOrder: 4, duplicates: 0 });
  });

  it('duplicates below the watermark and inside held ranges', () => {
    const tracker = new SequenceTracker();
    expect(recordAll(tracker, [0, 1, 1, 0, 4, 5, 4, 6, 5, 2])).toEqual([
      'new',
      'new',
      'duplicate',
      'duplicate',
      'new',
      'new',
      'duplicate',
      'new',
      'duplicate',
      'new'
    ]);
    const [producer] = tracker.summary().producers;
    expect(producer).toMatchObject({
      received: 6,
      duplicates: 4,
      outOfOrder: 1, // 2 after 6
      missing: 1, // 3
      highestSequence: 6
    });
  });

  it('reversed order: all new, all but the first out of order, nothing missing at the end', () => {
    const tracker = new SequenceTracker();
    const reversed = Array.from({ length: 100 }, (_, i) => 99 - i);
    expect(recordAll(tracker, reversed).every(result => result === 'new')).toBe(true);
    expect(tracker.heldRanges()).toBe(0);
    const [producer] = tracker.summary().producers;
    expect(producer).toMatchObject({ received: 100, outOfOrder: 99, missing: 0, duplicates: 0 });
  });

  it('agrees with a plain set on random reordering, loss and duplication', () => {
    const next = random(42);
    for (let round = 0; round < 20; round++) {
      const tracker = new SequenceTracker();
      const seen = new Set<number>();
      let highest = -1;
      let duplicates = 0;
      let outOfOrder = 0;
      for (let i = 0; i < 500; i++) {
        // Mostly near the front, as a broker reorders and retries: a window of 40 around i.
        const sequence = Math.max(0, Math.floor(i + (next() - 0.7) * 40));
        const expected = seen.has(sequence) ? 'duplicate' : 'new';
        if (expected === 'duplicate') duplicates++;
        else if (sequence < highest) outOfOrder++;
        expect(tracker.record(RUN, 3, sequence)).toBe(expected);
        seen.add(sequence);
        highest = Math.max(highest, sequence);
      }
      const [producer] = tracker.summary().producers;
      expect(producer).toEqual({
        runId: RUN,
        producerId: 3,
        received: seen.size,
        duplicates,
        outOfOrder,
        missing: highest + 1 - seen.size,
        highestSequence: highest
      });
    }
  });

  it('keeps producers and runs apart, sorted in the summary', () => {
    const tracker = new SequenceTracker();
    for (let sequence = 0; sequence < 50; sequence++) {
      for (const producerId of [9, 2, 5]) {
        if (producerId === 5 && sequence % 10 === 3) continue; // producer 5 loses 5 messages
        tracker.record('run-b', producerId, sequence);
      }
      tracker.record('run-a', 2, sequence);
    }
    tracker.record('run-b', 9, 7); // a duplicate for producer 9 in run b only
    const summary = tracker.summary();
    expect(summary.producers.map(p => [p.runId, p.producerId, p.missing, p.duplicates])).toEqual([
      ['run-a', 2, 0, 0],
      ['run-b', 2, 0, 0],
      ['run-b', 5, 5, 0],
      ['run-b', 9, 0, 1]
    ]);
    expect(summary.total).toEqual({
      received: 195,
      duplicates: 1,
      outOfOrder: 0,
      missing: 5,
      highestSequence: 49
    });
  });

  it('with expected counts, the tail never seen is missing too', () => {
    const tracker = new SequenceTracker();
    recordAll(tracker, [0, 1, 2, 3, 4, 5, 6, 7], 1); // 8 of 10: the last 2 lost
    recordAll(tracker, [0, 2, 3, 4], 2); // 1 lost in the middle, 5 of 10 in the tail
    const expected = new Map([
      [1, 10],
      [2, 10],
      [3, 4] // never heard from
    ]);
    const summary = tracker.summary(expected);
    expect(summary.producers).toEqual([
      {
        runId: RUN,
        producerId: 1,
        received: 8,
        duplicates: 0,
        outOfOrder: 0,
        missing: 2,
        highestSequence: 7
      },
      {
        runId: RUN,
        producerId: 2,
        received: 4,
        duplicates: 0,
        outOfOrder: 0,
        missing: 6,
        highestSequence: 4
      },
      {
        runId: RUN,
        producerId: 3,
        received: 0,
        duplicates: 0,
        outOfOrder: 0,
        missing: 4,
        highestSequence: undefined
      }
    ]);
    expect(summary.total).toMatchObject({ received: 12, missing: 12, highestSequence: 7 });
    // Without expectations only the gap is known.
    expect(tracker.summary().total.missing).toBe(1);
  });

  it('more messages than expected: missing counts only gaps', () => {
    const tracker = new SequenceTracker();
    recordAll(tracker, [0, 1, 3, 4, 5]);
    expect(tracker.summary(new Map([[0, 3]])).producers[0].missing).toBe(1);
  });

  it('expected producers when nothing arrived at all', () => {
    const tracker = new SequenceTracker();
    const summary = tracker.summary(
      new Map([
        [4, 3],
        [1, 2]
      ])
    );
    expect(summary.producers.map(p => [p.runId, p.producerId, p.missing])).toEqual([
      [undefined, 1, 2],
      [undefined, 4, 3]
    ]);
    expect(summary.total).toEqual({
      received: 0,
      duplicates: 0,
      outOfOrder: 0,
      missing: 5,
      highestSequence: undefined
    });
    expect(new SequenceTracker().summary().producers).toEqual([]);
  });

  it('memory stays small over 1e6 messages: in order, after a loss, with local swaps', () => {
    const inOrder = new SequenceTracker();
    for (let sequence = 0; sequence < 1_000_000; sequence++) {
      inOrder.record(RUN, 0, sequence);
      if (sequence % 100_000 === 0) expect(inOrder.heldRanges()).toBe(0);
    }
    expect(inOrder.heldRanges()).toBe(0);
    expect(inOrder.summary().total).toMatchObject({ received: 1_000_000, missing: 0 });

    // One message lost early: everything behind it extends a single range.
    const afterLoss = new SequenceTracker();
    for (let sequence = 0; sequence < 1_000_000; sequence++) {
      if (sequence !== 10) afterLoss.record(RUN, 0, sequence);
    }
    expect(afterLoss.heldRanges()).toBe(1);
    expect(afterLoss.summary().total).toMatchObject({ received: 999_999, missing: 1 });

    // Neighbours swapped (1, 0, 3, 2, …): at most one range at any time.
    const swapped = new SequenceTracker();
    let maxHeld = 0;
    for (let pair = 0; pair < 500_000; pair++) {
      swapped.record(RUN, 0, 2 * pair + 1);
      maxHeld = Math.max(maxHeld, swapped.heldRanges());
      swapped.record(RUN, 0, 2 * pair);
    }
    expect(maxHeld).toBe(1);
    expect(swapped.heldRanges()).toBe(0);
    expect(swapped.summary().total).toMatchObject({ missing: 0, outOfOrder: 500_000 });
  });

  it('rejects bad arguments, naming the value', () => {
    const tracker = new SequenceTracker();
    const cases: Array<[() => unknown, string]> = [
      [() => tracker.record('', 0, 0), 'runId = "" is not allowed; expected a non-empty string'],
      [
        () => tracker.record(RUN, -1, 0),
        'producerId = -1 is not allowed; expected an integer from 0 to 4294967295'
      ],
      [
        () => tracker.record(RUN, 0, 1.5),
        'sequence = 1.5 is not allowed; expected an integer from 0 to 2^53 - 1'
      ],
      [
        () => tracker.record(RUN, 0, -3),
        'sequence = -3 is not allowed; expected an integer from 0 to 2^53 - 1'
      ],
      [
        () => tracker.summary(new Map([[2, -1]])),
        'expected count for producer 2 = -1 is not allowed; expected a non-negative integer'
      ]
    ];
    for (const [run, message] of cases) {
      expect(run).toThrow(MiniAppInputError);
      expect(run).toThrow(message);
    }
  });
});
