import net from 'node:net';
import tls from 'node:tls';
import type { StreamCounters } from '../proto/services.js';
import {
  formatEndpoint,
  type ChannelSpec,
  type DataPlane,
  type DataPlaneSpec
} from './data-plane.js';
import { RateLimiter } from './rate-limiter.js';
import { ChannelCounters } from './stream-counters.js';

/** TLS 1.3 only, AES-128-GCM: authenticated encryption, and the fastest suite with AES-NI. */
const TLS_OPTIONS = {
  minVersion: 'TLSv1.3',
  maxVersion: 'TLSv1.3',
  ciphers: 'TLS_AES_128_GCM_SHA256'
} as const;

/**
 * Stream buffer per direction: 64 KiB (a full TCP read) measured faster here than Node's 16 KiB
 * default and than 1 MiB (which only adds memory between the two sockets).
 */
const HIGH_WATER_MARK = 64 * 1024;
const SAMPLE_INTERVAL_MS = 1000;

/**
 * Copies `from` into `to` with backpressure, counting bytes and obeying the session's rate.
 * Measured in CPU seconds per GB moved, this plain loop beat both pipe() and corking writes
 * until the next tick or turn.
 */
function relay(
  from: net.Socket,
  to: net.Socket,
  count: (bytes: number) => void,
  limiter?: RateLimiter
): void {
  let blocked = false;
  let throttled = false;
  const flow = (): void => {
    if (blocked || throttled) from.pause();
    else from.resume();
  };
  from.on('data', (chunk: Buffer) => {
    count(chunk.length);
    blocked = !to.write(chunk);
    const waitMs = limiter?.take(chunk.length) ?? 0;
    if (waitMs > 0) {
      throttled = true;
      setTimeout(() => {
        throttled = false;
        flow();
      }, waitMs).unref();
    }
    flow();
  });
  to.on('drain', () => {
    blocked = false;
    flow();
  });
  from.once('end', () => to.end());
  from.resume();
}

/**
 * The default S2DS: an in-process proxy per session. The hop between the gateways is TLS 1.3
 * authenticated by the session's pre-shared key (external PSK with (EC)DHE, so a recorded stream
 * stays secret even if the key leaks later); a peer without the key fails the handshake.
 */
export class NativeDataPlane implements DataPlane {
  readonly backend = 'native';
  private readonly servers: net.Server[] = [];
  private readonly sockets = new Set<net.Socket>();
  private readonly channelCounters: ChannelCounters[];
  private sampler?: NodeJS.Timeout;
  private readonly limiter?: RateLimiter;

  constructor(private readonly spec: DataPlaneSpec) {
    if (spec.rateMbps > 0) this.limiter = new RateLimiter(spec.rateMbps);
    this.channelCounters = spec.channels.map(
      (channel, index) =>
        new ChannelCounters(
          index,
          formatEndpoint({ host: spec.listenHost, port: channel.listenPort }),
          formatEndpoint(channel.target)
        )
    );
  }

  async start(): Promise<void> {
    try {
      for (const [index, channel] of this.spec.channels.entries()) {
        const server = this.createServer(channel, this.channelCounters[index]);
        this.servers.push(server);
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ port: channel.listenPort, host: this.spec.listenHost }, () => {
            server.off('error', reject);
            resolve();
          });
        });
      }
    } catch (error) {
      await this.stop();
      throw error;
    }
    this.sampler = setInterval(() => {
      for (const counters of this.channelCounters) counters.sample();
    }, SAMPLE_INTERVAL_MS);
    this.sampler.unref();
  }

  private createServer(channel: ChannelSpec, counters: ChannelCounters): net.Server {
    const onConnection = (inbound: net.Socket): void =>
      this.bridge(inbound, this.connectTarget(channel), counters);
    if (this.spec.side === 'producer') {
      const server = tls.createServer(
        {
          ...TLS_OPTIONS,
          allowHalfOpen: true,
          highWaterMark: HIGH_WATER_MARK,
          pskCallback: (_socket, identity) => (identity === this.spec.uid ? this.spec.psk : null)
        } as tls.TlsOptions,
        onConnection
      );
      // A peer with a wrong key or identity: the handshake fails, nothing reaches the producer.
      server.on('tlsClientError', (_error, socket) => socket.destroy());
      return server;
    }
    return net.createServer({ allowHalfOpen: true, highWaterMark: HIGH_WATER_MARK }, onConnection);
  }

  private connectTarget(channel: ChannelSpec): net.Socket {
    const { host, port } = channel.target;
    if (this.spec.side === 'producer') {
      return net.connect({
        host,
        port,
        allowHalfOpen: true,
        highWaterMark: HIGH_WATER_MARK
      } as net.NetConnectOpts);
    }
    return tls.connect({
      ...TLS_OPTIONS,
      host,
      port,
      // No SNI: there is no certificate to select, and SNI may not carry an IP address.
      servername: net.isIP(host) ? '' : host,
      allowHalfOpen: true,
      highWaterMark: HIGH_WATER_MARK,
      // The PSK authenticates the peer gateway; there is no certificate to check.
      checkServerIdentity: () => undefined,
      pskCallback: () => ({ identity: this.spec.uid, psk: this.spec.psk })
    } as tls.ConnectionOptions);
  }

  /** Copies both ways with backpressure (pipe), counting bytes; one side closing closes both. */
  private bridge(inbound: net.Socket, outbound: net.Socket, counters: ChannelCounters): void {
    this.sockets.add(inbound);
    this.sockets.add(outbound);
    counters.connections += 1;
    counters.activeConnections += 1;
    inbound.setNoDelay(true);
    outbound.setNoDelay(true);
    // Nothing flows (and no end is passed on) until the far side is connected: ending a TLS
    // socket that is still handshaking would drop the connection instead of half-closing it.
    inbound.pause();
    const connected = this.spec.side === 'producer' ? 'connect' : 'secureConnect';
    outbound.once(connected, () => {
      relay(inbound, outbound, bytes => counters.addIn(bytes), this.limiter);
      relay(outbound, inbound, bytes => counters.addOut(bytes), this.limiter);
    });
    let open = true;
    const close = (): void => {
      inbound.destroy();
      outbound.destroy();
      if (open) counters.activeConnections -= 1;
      open = false;
    };
    for (const socket of [inbound, outbound]) {
      socket.once('close', () => {
        this.sockets.delete(socket);
        close();
      });
      // A reset or failed connect ends the bridge; the other side sees its connection close,
      // which is how a TCP proxy reports it.
      socket.on('error', close);
    }
  }

  async stop(): Promise<void> {
    if (this.sampler) clearInterval(this.sampler);
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await Promise.all(
      this.servers
        .filter(server => server.listening)
        .map(server => new Promise<void>(resolve => server.close(() => resolve())))
    );
    this.servers.length = 0;
  }

  async counters(): Promise<StreamCounters[]> {
    return this.channelCounters.map(counters => counters.toMessage());
  }

  pids(): number[] {
    return [];
  }
}
