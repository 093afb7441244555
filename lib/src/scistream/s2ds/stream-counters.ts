import type { StreamCounters } from '../proto/services.js';

/**
 * Counters of one channel (one gateway port). `bytesIn` counts bytes that arrive on the
 * gateway's listener and go towards the target; `bytesOut` counts bytes from the target back to
 * whoever connected to the listener. Throughput is an average over the last sampling interval.
 */
export class ChannelCounters {
  bytesIn = 0;
  bytesOut = 0;
  connections = 0;
  activeConnections = 0;
  lastActivityMs = 0;
  throughputBps = 0;
  private sampledBytes = 0;
  private sampledAtMs = Date.now();

  constructor(
    readonly channel: number,
    readonly listener: string,
    readonly target: string
  ) {}

  addIn(bytes: number): void {
    this.bytesIn += bytes;
    this.lastActivityMs = Date.now();
  }

  addOut(bytes: number): void {
    this.bytesOut += bytes;
    this.lastActivityMs = Date.now();
  }

  /** Sets totals read from a proxy's own counters; a change counts as activity. */
  setTotals(bytesIn: number, bytesOut: number, nowMs = Date.now()): void {
    if (bytesIn !== this.bytesIn || bytesOut !== this.bytesOut) this.lastActivityMs = nowMs;
    this.bytesIn = bytesIn;
    this.bytesOut = bytesOut;
  }

  /** Called once per sampling interval: bits per second moved (both ways) since the last call. */
  sample(nowMs = Date.now()): void {
    const total = this.bytesIn + this.bytesOut;
    const elapsed = (nowMs - this.sampledAtMs) / 1000;
    if (elapsed > 0) this.throughputBps = ((total - this.sampledBytes) * 8) / elapsed;
    this.sampledBytes = total;
    this.sampledAtMs = nowMs;
  }

  toMessage(): StreamCounters {
    return {
      channel: this.channel,
      listener: this.listener,
      target: this.target,
      bytes_in: this.bytesIn,
      bytes_out: this.bytesOut,
      connections: this.connections,
      active_connections: this.activeConnections,
      throughput_bps: this.throughputBps,
      last_activity_ms: this.lastActivityMs
    };
  }
}
