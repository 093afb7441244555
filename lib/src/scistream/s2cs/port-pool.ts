import net from 'node:net';

export interface PortRange {
  low: number;
  high: number;
}

/** Parses "5100-5200"; the error names the key, the value and what is expected. */
export function parsePortRange(value: string, key = 'port range'): PortRange {
  const match = /^(\d{1,5})-(\d{1,5})$/.exec(value.trim());
  const low = match ? Number(match[1]) : NaN;
  const high = match ? Number(match[2]) : NaN;
  if (!match || low < 1 || high > 65535 || low > high) {
    throw new Error(`${key}: "${value}" is not a port range; expected LOW-HIGH within 1-65535`);
  }
  return { low, high };
}

async function canBind(host: string, port: number): Promise<boolean> {
  return new Promise(resolve => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Gateway ports handed to sessions. A port is given out only if nobody holds it here and it can
 * be bound right now (another program may use part of the range); release makes it available
 * again. The search starts after the last port handed out, so a just-freed port rests a while.
 */
export class PortPool {
  private readonly taken = new Set<number>();
  private next: number;

  constructor(
    readonly range: PortRange,
    private readonly host: string
  ) {
    this.next = range.low;
  }

  get inUse(): number {
    return this.taken.size;
  }

  /** Marks ports of sessions restored from disk as taken. */
  claim(ports: number[]): void {
    for (const port of ports) this.taken.add(port);
  }

  async allocate(count: number): Promise<number[]> {
    const size = this.range.high - this.range.low + 1;
    const ports: number[] = [];
    try {
      for (let tried = 0; tried < size && ports.length < count; tried++) {
        const port = this.next;
        this.next = port === this.range.high ? this.range.low : port + 1;
        if (this.taken.has(port)) continue;
        // Reserve before the await so concurrent allocations never pick the same port.
        this.taken.add(port);
        if (await canBind(this.host, port)) ports.push(port);
        else this.taken.delete(port);
      }
    } catch (error) {
      this.release(ports);
      throw error;
    }
    if (ports.length < count) {
      this.release(ports);
      throw new Error(
        `no ${count} free ports in ${this.range.low}-${this.range.high} on ${this.host} ` +
          `(${this.taken.size} held by sessions)`
      );
    }
    return ports;
  }

  release(ports: number[]): void {
    for (const port of ports) this.taken.delete(port);
  }
}
