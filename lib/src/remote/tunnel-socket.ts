import { Duplex } from 'node:stream';
import type { ClientChannel } from 'ssh2';

/**
 * A TCP connection made from the far side of an ssh connection, shaped like a net.Socket so that
 * clients taking a socket factory (kafkajs `socketFactory`) can use it: it exists at once,
 * buffers writes until the channel is open, then emits 'connect'. TCP options (keep-alive,
 * no-delay) belong to the ssh connection's own socket, so those setters, like ref/unref (the
 * ssh connection decides whether the process stays up), only return `this`.
 */
export class TunnelSocket extends Duplex {
  connecting = true;
  private channel: ClientChannel | undefined;
  private readonly opened: Promise<ClientChannel>;

  constructor(
    open: () => Promise<ClientChannel>,
    readonly remoteAddress: string,
    readonly remotePort: number
  ) {
    super();
    this.opened = open();
    this.opened.then(
      channel => this.attach(channel),
      (error: Error) => this.destroy(error)
    );
  }

  private attach(channel: ClientChannel): void {
    if (this.destroyed) {
      channel.close();
      return;
    }
    this.channel = channel;
    this.connecting = false;
    channel.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) channel.pause();
    });
    channel.once('end', () => this.push(null));
    channel.once('close', () => {
      // The far end (or the ssh connection) closed: end both directions.
      this.push(null);
      if (!this.writableEnded) this.end();
    });
    channel.on('error', (error: Error) => this.destroy(error));
    this.emit('connect');
    this.emit('ready');
  }

  override _read(): void {
    this.channel?.resume();
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void
  ): void {
    this.opened.then(
      channel => {
        channel.write(chunk, (error?: Error | null) => callback(error ?? null));
      },
      (error: Error) => callback(error)
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.opened.then(
      channel => {
        channel.end();
        callback();
      },
      (error: Error) => callback(error)
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.channel?.close();
    callback(error);
  }

  setKeepAlive(): this {
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }
}
