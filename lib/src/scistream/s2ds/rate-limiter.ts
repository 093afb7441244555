import { performance } from 'node:perf_hooks';

/**
 * Token bucket for one session (all channels, both directions): the request's `rate`, in
 * Mbit/s. The bucket holds 100 ms worth of bytes (at least 256 KiB) so short bursts pass.
 */
export class RateLimiter {
  private readonly bytesPerSecond: number;
  private readonly burst: number;
  private tokens: number;
  private last: number;

  constructor(mbitPerSecond: number, now = performance.now()) {
    this.last = now;
    this.bytesPerSecond = (mbitPerSecond * 1e6) / 8;
    this.burst = Math.max(this.bytesPerSecond / 10, 256 * 1024);
    this.tokens = this.burst;
  }

  /** Takes `bytes` from the bucket; returns how many ms the caller should wait before reading on. */
  take(bytes: number, now = performance.now()): number {
    this.tokens = Math.min(
      this.burst,
      this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond
    );
    this.last = now;
    this.tokens -= bytes;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.bytesPerSecond) * 1000;
  }
}
