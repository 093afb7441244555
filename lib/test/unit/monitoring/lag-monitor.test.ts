import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { KafkaLagSample } from '../../../src/monitoring/kafka-lag.js';
import {
  appendSample,
  LagMonitor,
  type LagMonitorOptions
} from '../../../src/monitoring/lag-monitor.js';
import type { KafkaLagView } from '../../../src/protocol/index.js';

function snapshot(lags: number[]): KafkaLagSample {
  return {
    topicExists: true,
    group: { state: 'Stable', hasCommittedOffsets: true },
    partitions: lags.map((lag, partition) => ({
      partition,
      logEndOffset: 100,
      committedOffset: 100 - lag,
      lag
    })),
    totalLag: lags.reduce((a, b) => a + b, 0)
  };
}

function monitorWith(overrides: Partial<LagMonitorOptions>) {
  const published: KafkaLagView[] = [];
  const monitor = new LagMonitor({
    pilotId: 'pilot-0123456789ab',
    topic: 't',
    groupId: 'g',
    intervalMs: 1000,
    historyLimit: 3,
    sample: async () => snapshot([1]),
    publish: view => published.push(view),
    now: () => Date.now(),
    ...overrides
  });
  return { monitor, published };
}

describe('appendSample', () => {
  it('keeps only the newest samples', () => {
    let history = appendSample([], { t: 1, totalLag: 1 }, 2);
    history = appendSample(history, { t: 2, totalLag: 2 }, 2);
    history = appendSample(history, { t: 3, totalLag: 3 }, 2);
    expect(history).toEqual([
      { t: 2, totalLag: 2 },
      { t: 3, totalLag: 3 }
    ]);
  });
});

describe('LagMonitor', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('samples at once, then every interval, with a bounded history', async () => {
    const lags = [
      [5, 5],
      [4, 3],
      [2, 2],
      [1, 0]
    ];
    let call = 0;
    const { monitor, published } = monitorWith({
      sample: async () => snapshot(lags[call++] ?? [0])
    });
    monitor.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(published.map(v => v.totalLag)).toEqual([10]);
    await vi.advanceTimersByTimeAsync(3000);
    expect(published.map(v => v.totalLag)).toEqual([10, 7, 4, 1]);
    const last = published.at(-1)!;
    expect(last.history.map(s => s.totalLag)).toEqual([7, 4, 1]);
    expect(last.partitions.map(p => p.lag)).toEqual([1, 0]);
    expect(last.updatedAt).toBe('2026-01-01T00:00:03.000Z');
    await monitor.stop();
  });

  it('shows a failing sample as an error, keeps the last numbers, and recovers', async () => {
    const outcomes: (KafkaLagSample | Error)[] = [
      snapshot([3]),
      new Error('broker unreachable'),
      snapshot([2])
    ];
    let call = 0;
    const { monitor, published } = monitorWith({
      sample: async () => {
        const next = outcomes[call++] ?? snapshot([0]);
        if (next instanceof Error) throw next;
        return next;
      }
    });
    monitor.start();
    // After the failure, the next sample comes at the slow interval (5 s).
    await vi.advanceTimersByTimeAsync(1000 + 5000);
    expect(published.map(v => [v.totalLag, v.error])).toEqual([
      [3, undefined],
      [3, 'broker unreachable'],
      [2, undefined]
    ]);
    expect('error' in published[2]!).toBe(false);
    await monitor.stop();
  });

  it('stop() publishes a final stopped view and nothing after it', async () => {
    const released = vi.fn();
    const { monitor, published } = monitorWith({ onStop: released });
    monitor.start();
    await vi.advanceTimersByTimeAsync(1000);
    await monitor.stop();
    const count = published.length;
    await vi.advanceTimersByTimeAsync(5000);
    expect(published.length).toBe(count);
    expect(published.at(-1)).toMatchObject({ stopped: true, totalLag: 1 });
    expect(published.at(-1)?.error).toBeUndefined();
    expect(released).toHaveBeenCalledTimes(1);
    await monitor.stop();
    expect(released).toHaveBeenCalledTimes(1);
  });

  it('stops by itself, saying so, once the pilot has ended', async () => {
    let ended = false;
    const released = vi.fn();
    const { monitor, published } = monitorWith({
      pilotEnded: () => (ended ? 'Canceled' : undefined),
      onStop: released
    });
    monitor.start();
    await vi.advanceTimersByTimeAsync(1000);
    ended = true;
    await vi.advanceTimersByTimeAsync(3000);
    expect(published.map(v => v.stopped === true)).toEqual([false, false, true]);
    expect(published.at(-1)).toMatchObject({ stopped: true, pilotEnded: 'Canceled', totalLag: 1 });
    expect(published.at(-1)?.error).toBeUndefined();
    expect(released).toHaveBeenCalledTimes(1);
    expect(monitor.stopped).toBe(true);
  });

  it('never overlaps samples: a slow sample delays the next one', async () => {
    let active = 0;
    let maxActive = 0;
    let calls = 0;
    const { monitor } = monitorWith({
      sample: async () => {
        calls += 1;
        active += 1;
        maxActive = Math.max(maxActive, active);
        await new Promise(resolve => setTimeout(resolve, 2500));
        active -= 1;
        return snapshot([1]);
      }
    });
    monitor.start();
    await vi.advanceTimersByTimeAsync(6000);
    expect(maxActive).toBe(1);
    expect(calls).toBe(3);
    await monitor.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toBe(3);
  });

  it('does not wait for a sample in flight when stopped, and drops its result', async () => {
    let release: (snapshot: KafkaLagSample) => void = () => undefined;
    const { monitor, published } = monitorWith({
      sample: () => new Promise<KafkaLagSample>(resolve => (release = resolve))
    });
    monitor.start();
    await vi.advanceTimersByTimeAsync(0);
    await monitor.stop({ pilotEnded: 'Canceled' });
    expect(published).toEqual([
      expect.objectContaining({ stopped: true, pilotEnded: 'Canceled', totalLag: 0 })
    ]);
    release(snapshot([9]));
    await vi.advanceTimersByTimeAsync(1000);
    expect(published).toHaveLength(1);
  });

  it('reports a failure to release in the final view instead of throwing', async () => {
    const { monitor, published } = monitorWith({
      onStop: async () => {
        throw new Error('disconnect timed out');
      }
    });
    monitor.start();
    await vi.advanceTimersByTimeAsync(0);
    await monitor.stop();
    expect(published.at(-1)).toMatchObject({
      stopped: true,
      error: 'releasing the monitor failed: disconnect timed out'
    });
  });

  it('says the topic is missing, keeps looking slowly, and shows the lag once it exists', async () => {
    const outcomes: KafkaLagSample[] = [
      snapshot([4]),
      { topicExists: false },
      { topicExists: false }
    ];
    let calls = 0;
    const { monitor, published } = monitorWith({
      slowIntervalMs: 5000,
      sample: async () => outcomes[calls++] ?? snapshot([7])
    });
    monitor.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toBe(2);
    const missing = published.at(-1)!;
    expect(missing).toMatchObject({ topicExists: false, partitions: [], totalLag: 0 });
    expect('group' in missing).toBe(false);
    // The lag seen before the topic went away stays in the history; nothing new is added.
    expect(missing.history.map(s => s.totalLag)).toEqual([4]);
    // Slowly: the next look is 5 s later, not 1 s.
    await vi.advanceTimersByTimeAsync(4999);
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toBe(3);
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toBe(4);
    expect(published.at(-1)).toMatchObject({ topicExists: true, totalLag: 7 });
    expect(published.at(-1)?.history.map(s => s.totalLag)).toEqual([4, 7]);
    // Healthy again: back to the normal interval.
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toBe(5);
    await monitor.stop();
  });

  it('samples slowly while sampling fails, by default at least every 5 s', async () => {
    let calls = 0;
    const { monitor } = monitorWith({
      intervalMs: 200,
      sample: async () => {
        calls += 1;
        throw new Error('broker unreachable');
      }
    });
    monitor.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toBe(3);
    await monitor.stop();
  });

  it('carries what the broker said of the group into the view', async () => {
    const { monitor, published } = monitorWith({
      sample: async () => ({
        ...snapshot([5]),
        group: { state: 'Dead', hasCommittedOffsets: false }
      })
    });
    monitor.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(published.at(-1)?.group).toEqual({ state: 'Dead', hasCommittedOffsets: false });
    await monitor.stop();
  });

  it('ends with the error when asked to stop because monitoring cannot go on', async () => {
    const { monitor, published } = monitorWith({});
    monitor.start();
    await vi.advanceTimersByTimeAsync(0);
    await monitor.stop({ error: 'No pilot with id "pilot-0123456789ab"' });
    expect(published.at(-1)).toMatchObject({
      stopped: true,
      error: 'No pilot with id "pilot-0123456789ab"'
    });
    expect(published.at(-1)?.pilotEnded).toBeUndefined();
  });
});
