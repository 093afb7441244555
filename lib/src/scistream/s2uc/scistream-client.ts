import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Gateway } from './gateway.js';

export interface StreamRequest {
  /** Where the producer application listens, as the producer gateway reaches it (host:port). */
  producerListeners: string[];
  /** Parallel channels (gateway ports per side); the original's default is 5. */
  numConn?: number;
  rate?: number;
  /** S2DS backend: native (default), stunnel or haproxy. */
  backend?: string;
}

export interface Stream {
  uid: string;
  /** What the consumer application connects to. */
  consumerListeners: string[];
  producerGatewayListeners: string[];
  producerListeners: string[];
  setupMs: number;
}

export interface ScistreamClientOptions {
  producer: Gateway;
  consumer: Gateway;
  /**
   * The producer gateway's S2CS address as the consumer gateway reaches it (for the session-key
   * hand-over); defaults to the address we use.
   */
  producerControlFromConsumer?: string;
}

/**
 * S2UC as a library: sets up a whole stream across both gateways in one call — producer-side
 * request and hello, target update, consumer-side request and update — and releases both sides.
 */
export class ScistreamClient {
  constructor(private readonly options: ScistreamClientOptions) {}

  async createStream(request: StreamRequest): Promise<Stream> {
    const { producer, consumer } = this.options;
    const started = performance.now();
    const uid = randomUUID();
    const numConn = request.numConn ?? 5;
    const extras = request.backend !== undefined ? { backend: request.backend } : {};
    try {
      // The producer-side req waits for hello; the consumer-side req needs nothing from it.
      const [produced, consumed] = await Promise.all([
        producer.req(uid, 'PROD', numConn, request.rate, extras),
        consumer.req(uid, 'CONS', numConn, request.rate, extras),
        producer.hello(uid, request.producerListeners)
      ]);
      await producer.update(uid, produced.prod_listeners, 'PROD');
      await consumer.update(uid, produced.listeners, 'CONS', {
        peer: this.options.producerControlFromConsumer ?? producer.address
      });
      return {
        uid,
        consumerListeners: consumed.listeners,
        producerGatewayListeners: produced.listeners,
        producerListeners: produced.prod_listeners,
        setupMs: performance.now() - started
      };
    } catch (error) {
      const reason = (error as Error).message;
      await this.releaseStream(uid).catch((cleanup: unknown) => {
        throw new AggregateError(
          [error, cleanup],
          `stream set-up failed: ${reason}; its clean-up failed too: ${(cleanup as Error).message}`
        );
      });
      throw error;
    }
  }

  /** Releases both sides; a side that does not know the session (never reached) is fine. */
  async releaseStream(uid: string): Promise<void> {
    const results = await Promise.allSettled([
      this.options.producer.release(uid),
      this.options.consumer.release(uid)
    ]);
    const failures = results
      .filter((result): result is PromiseRejectedResult => result.status === 'rejected')
      .map(result => result.reason as Error)
      .filter(error => !/NOT_FOUND|no session with uid/.test(String(error.message)));
    if (failures.length > 0) {
      throw new AggregateError(
        failures,
        `release of ${uid}: ${failures.map(f => f.message).join('; ')}`
      );
    }
  }
}
