import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { watchParent } from '../../../src/kernel/parent-watch.js';

describe("the kernel's watch on its parent", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('calls once when it is re-parented (its Jupyter server died)', () => {
    let parent = 4242;
    const gone = vi.fn();
    watchParent(gone, { env: {}, parentPid: () => parent, exists: () => true, intervalMs: 100 });
    vi.advanceTimersByTime(1000);
    expect(gone).not.toHaveBeenCalled();
    parent = 1;
    vi.advanceTimersByTime(100);
    vi.advanceTimersByTime(1000);
    expect(gone).toHaveBeenCalledTimes(1);
    expect(gone).toHaveBeenCalledWith('its parent process 4242 is gone');
  });

  it('calls when the process named by JPY_PARENT_PID ends (a launcher in between)', () => {
    const alive = new Set([777]);
    const gone = vi.fn();
    watchParent(gone, {
      env: { JPY_PARENT_PID: '777' },
      parentPid: () => 500,
      exists: pid => alive.has(pid),
      intervalMs: 100
    });
    vi.advanceTimersByTime(500);
    expect(gone).not.toHaveBeenCalled();
    alive.delete(777);
    vi.advanceTimersByTime(100);
    expect(gone).toHaveBeenCalledWith('the Jupyter process 777 (JPY_PARENT_PID) is gone');
  });

  it('never calls for a kernel started by init or without a usable JPY_PARENT_PID, or once stopped', () => {
    const gone = vi.fn();
    watchParent(gone, { env: { JPY_PARENT_PID: 'x' }, parentPid: () => 1, exists: () => false });
    let parent = 300;
    const watch = watchParent(gone, { env: {}, parentPid: () => parent, intervalMs: 100 });
    watch.stop();
    parent = 1;
    vi.advanceTimersByTime(5000);
    expect(gone).not.toHaveBeenCalled();
  });
});
