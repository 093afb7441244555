import { createHash, randomFillSync } from 'node:crypto';
import net from 'node:net';

const CHUNK = 1024 * 1024;

export interface SentStream {
  bytes: number;
  sha256: string;
  /** What the consumer sent back up the stream. */
  received: number;
}

/**
 * A producer application: listens on `count` ports of `host`; each accepted connection gets
 * `bytesPerConnection` random bytes, then the producer closes its side. `sent` collects per-port
 * results (bytes and SHA-256 of what was written).
 */
export class Producer {
  readonly servers: net.Server[] = [];
  readonly sent = new Map<number, SentStream[]>();
  connections = 0;

  constructor(private readonly bytesPerConnection: number) {}

  async listen(host: string, count: number): Promise<number[]> {
    for (let i = 0; i < count; i++) {
      const server = net.createServer({ allowHalfOpen: true }, socket =>
        this.serve(server, socket)
      );
      await new Promise<void>(resolve => server.listen(0, host, resolve));
      this.servers.push(server);
    }
    return this.ports;
  }

  get ports(): number[] {
    return this.servers.map(server => (server.address() as net.AddressInfo).port);
  }

  private serve(server: net.Server, socket: net.Socket): void {
    this.connections += 1;
    const port = (server.address() as net.AddressInfo).port;
    const hash = createHash('sha256');
    const record: SentStream = { bytes: 0, sha256: '', received: 0 };
    socket.on('data', chunk => (record.received += chunk.length));
    socket.on('error', () => socket.destroy());
    let remaining = this.bytesPerConnection;
    const writeMore = (): void => {
      while (remaining > 0) {
        const chunk = randomFillSync(Buffer.allocUnsafe(Math.min(CHUNK, remaining)));
        remaining -= chunk.length;
        hash.update(chunk);
        record.bytes += chunk.length;
        if (!socket.write(chunk)) {
          socket.once('drain', writeMore);
          return;
        }
      }
      record.sha256 = hash.digest('hex');
      const list = this.sent.get(port) ?? [];
      list.push(record);
      this.sent.set(port, list);
      socket.end();
    };
    writeMore();
  }

  async close(): Promise<void> {
    await Promise.all(
      this.servers.map(server => {
        server.closeAllConnections?.();
        return new Promise<void>(resolve => server.close(() => resolve()));
      })
    );
  }
}

export interface ReceivedStream {
  bytes: number;
  sha256: string;
}

/**
 * A consumer application: connects, optionally sends `upload` bytes, reads to the end, hashes.
 * With `halfClose` it shuts down its sending side right after the upload (TCP half-close) and
 * keeps reading; without, it closes only after the producer has finished.
 */
export async function consume(
  host: string,
  port: number,
  upload = 0,
  timeoutMs = 600_000,
  halfClose = true
): Promise<ReceivedStream> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, allowHalfOpen: true });
    const hash = createHash('sha256');
    let bytes = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`consumer on ${host}:${port} timed out after ${bytes} bytes`));
    }, timeoutMs);
    socket.on('connect', () => {
      if (upload > 0) socket.write(randomFillSync(Buffer.alloc(upload)));
      if (halfClose) socket.end();
    });
    socket.on('data', chunk => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    socket.on('end', () => {
      clearTimeout(timer);
      socket.end();
      socket.destroy();
      resolve({ bytes, sha256: hash.digest('hex') });
    });
    socket.on('error', error => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
