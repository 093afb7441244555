import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LagSnapshot } from '../../../src/monitoring/kafka-lag.js';
import {
  appendSample,
  LagMonitor,
  type LagMonitorOptions
} from '../../../src/monitoring/lag-monitor.js';
import type { KafkaLagView } from '../../../src/protocol/index.js';

function snapshot(lags: number[]): LagSnapshot {
  return {
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
    const outcomes: (LagSnapshot | Error)[] = [
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
    await vi.advanceTimersByTimeAsync(2000);
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

  it('stops by itself with the reason once the pilot has ended', async () => {
    let state = 'Running';
    const released = vi.fn();
    const { monitor, published } = monitorWith({
      stopReason: () => (state === 'Canceled' ? 'pilot pilot-0123456789ab is Canceled' : undefined),
      onStop: released
    });
    monitor.start();
    await vi.advanceTimersByTimeAsync(1000);
    state = 'Canceled';
    await vi.advanceTimersByTimeAsync(3000);
    expect(published.map(v => v.stopped === true)).toEqual([false, false, true]);
    expect(published.at(-1)?.error).toBe('pilot pilot-0123456789ab is Canceled');
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
    let release: (snapshot: LagSnapshot) => void = () => undefined;
    const { monitor, published } = monitorWith({
      sample: () => new Promise<LagSnapshot>(resolve => (release = resolve))
    });
    monitor.start();
    await vi.advanceTimersByTimeAsync(0);
    await monitor.stop('pilot pilot-0123456789ab is Canceled');
    expect(published).toEqual([expect.objectContaining({ stopped: true, totalLag: 0 })]);
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
});
