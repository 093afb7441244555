import { MiniAppInputError } from '../errors.js';

/**
 * Loss, duplicate and reordering detection from the sequence numbers of Mini-App messages. Each
 * (run, producer) numbers its messages 0, 1, 2, …; everything below a watermark has been seen, and
 * what arrived above it is kept as a few sorted ranges. In order, there are no ranges at all; after
 * a loss, the messages behind it extend one range, so memory grows with the number of gaps, never
 * with the number of messages.
 */

export type RecordResult = 'new' | 'duplicate';

export interface SequenceCounts {
  /** Distinct sequence numbers received. */
  readonly received: number;
  /** Messages whose sequence number had been received before. */
  readonly duplicates: number;
  /** New messages that arrived after a higher sequence number of the same producer. */
  readonly outOfOrder: number;
  /** Gaps below the highest sequence seen, plus, with an expected count, the never-seen tail. */
  readonly missing: number;
  /** Undefined when nothing was received. */
  readonly highestSequence: number | undefined;
}

export interface ProducerSequenceSummary extends SequenceCounts {
  /** Undefined only for an expected producer when no run at all was seen. */
  readonly runId: string | undefined;
  readonly producerId: number;
}

export interface SequenceSummary {
  /** Sorted by run id, then producer id. */
  readonly producers: ProducerSequenceSummary[];
  readonly total: SequenceCounts;
}

/** Half-open range [start, end) of sequence numbers received above the watermark. */
interface Range {
  start: number;
  end: number;
}

interface ProducerState {
  /** Every sequence number below this has been received. */
  watermark: number;
  /** Disjoint, sorted, non-adjacent ranges above the watermark (never touching it). */
  above: Range[];
  highest: number;
  received: number;
  duplicates: number;
  outOfOrder: number;
}

export class SequenceTracker {
  private readonly runs = new Map<string, Map<number, ProducerState>>();

  record(runId: string, producerId: number, sequence: number): RecordResult {
    if (typeof runId !== 'string' || runId === '') {
      throw new MiniAppInputError(
        `runId = ${JSON.stringify(runId)} is not allowed; expected a non-empty string`
      );
    }
    if (!Number.isInteger(producerId) || producerId < 0 || producerId > 0xffff_ffff) {
      throw new MiniAppInputError(
        `producerId = ${producerId} is not allowed; expected an integer from 0 to 4294967295`
      );
    }
    if (!Number.isSafeInteger(sequence) || sequence < 0) {
      throw new MiniAppInputError(
        `sequence = ${sequence} is not allowed; expected an integer from 0 to 2^53 - 1`
      );
    }
    const state = this.stateOf(runId, producerId);
    if (sequence < state.watermark || indexOfRangeHolding(state.above, sequence) >= 0) {
      state.duplicates++;
      return 'duplicate';
    }
    state.received++;
    if (sequence < state.highest) state.outOfOrder++;
    else state.highest = sequence;
    if (sequence === state.watermark) {
      state.watermark++;
      // The new message may close the gap before the first range.
      const first = state.above[0];
      if (first !== undefined && first.start === state.watermark) {
        state.watermark = first.end;
        state.above.shift();
      }
    } else {
      insert(state.above, sequence);
    }
    return 'new';
  }

  /**
   * Counts per producer and in total. With `expectedPerProducer` (producer id → messages it
   * should send in each run), sequence numbers from the highest seen up to the expected count are
   * missing too, and an expected producer never heard from is reported with all its messages
   * missing (under every run seen).
   */
  summary(expectedPerProducer?: ReadonlyMap<number, number>): SequenceSummary {
    for (const [producerId, count] of expectedPerProducer ?? []) {
      if (!Number.isSafeInteger(count) || count < 0) {
        throw new MiniAppInputError(
          `expected count for producer ${producerId} = ${count} is not allowed; expected a non-negative integer`
        );
      }
    }
    const producers: ProducerSequenceSummary[] = [];
    const runIds = [...this.runs.keys()].sort();
    for (const runId of runIds) {
      const states = this.runs.get(runId) ?? new Map<number, ProducerState>();
      const ids = new Set([...states.keys(), ...(expectedPerProducer?.keys() ?? [])]);
      for (const producerId of [...ids].sort((a, b) => a - b)) {
        const state = states.get(producerId);
        producers.push({
          runId,
          producerId,
          ...countsOf(state, expectedPerProducer?.get(producerId))
        });
      }
    }
    if (runIds.length === 0 && expectedPerProducer !== undefined) {
      for (const producerId of [...expectedPerProducer.keys()].sort((a, b) => a - b)) {
        producers.push({
          runId: undefined,
          producerId,
          ...countsOf(undefined, expectedPerProducer.get(producerId))
        });
      }
    }
    return { producers, total: totalOf(producers) };
  }

  /**
   * Ranges held above the watermarks, over all producers: the tracker's memory beyond its fixed
   * per-producer state. Zero while every producer is in order; one per gap still open.
   */
  heldRanges(): number {
    let count = 0;
    for (const states of this.runs.values()) {
      for (const state of states.values()) count += state.above.length;
    }
    return count;
  }

  private stateOf(runId: string, producerId: number): ProducerState {
    let states = this.runs.get(runId);
    if (states === undefined) {
      states = new Map();
      this.runs.set(runId, states);
    }
    let state = states.get(producerId);
    if (state === undefined) {
      state = { watermark: 0, above: [], highest: -1, received: 0, duplicates: 0, outOfOrder: 0 };
      states.set(producerId, state);
    }
    return state;
  }
}

function countsOf(state: ProducerState | undefined, expected: number | undefined): SequenceCounts {
  const highest = state?.highest ?? -1;
  const received = state?.received ?? 0;
  // Received numbers are distinct and at most `highest`, so the rest below it are gaps.
  const span = Math.max(highest + 1, expected ?? 0);
  return {
    received,
    duplicates: state?.duplicates ?? 0,
    outOfOrder: state?.outOfOrder ?? 0,
    missing: span - received,
    highestSequence: highest < 0 ? undefined : highest
  };
}

function totalOf(producers: readonly SequenceCounts[]): SequenceCounts {
  let received = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  let missing = 0;
  let highest: number | undefined;
  for (const p of producers) {
    received += p.received;
    duplicates += p.duplicates;
    outOfOrder += p.outOfOrder;
    missing += p.missing;
    if (p.highestSequence !== undefined) highest = Math.max(highest ?? 0, p.highestSequence);
  }
  return { received, duplicates, outOfOrder, missing, highestSequence: highest };
}

/** Index of the range holding `sequence`, or -1. */
function indexOfRangeHolding(ranges: readonly Range[], sequence: number): number {
  const i = firstRangeEndingAfter(ranges, sequence);
  return i < ranges.length && ranges[i].start <= sequence ? i : -1;
}

/** The first range whose end is above `sequence` (ranges.length if none): binary search. */
function firstRangeEndingAfter(ranges: readonly Range[], sequence: number): number {
  // The common out-of-order case lands behind the last range: check it first.
  const last = ranges.length - 1;
  if (last < 0 || ranges[last].end <= sequence) return ranges.length;
  let low = 0;
  let high = last;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (ranges[middle].end > sequence) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** Adds a sequence number not yet held, merging it with the ranges it touches. */
function insert(ranges: Range[], sequence: number): void {
  const i = firstRangeEndingAfter(ranges, sequence);
  const before = i > 0 ? ranges[i - 1] : undefined;
  const after = i < ranges.length ? ranges[i] : undefined;
  const joinsBefore = before !== undefined && before.end === sequence;
  const joinsAfter = after !== undefined && after.start === sequence + 1;
  if (joinsBefore && joinsAfter) {
    before.end = after.end;
    ranges.splice(i, 1);
  } else if (joinsBefore) {
    before.end = sequence + 1;
  } else if (joinsAfter) {
    after.start = sequence;
  } else {
    ranges.splice(i, 0, { start: sequence, end: sequence + 1 });
  }
}
