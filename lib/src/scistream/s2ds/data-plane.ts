import type { StreamCounters } from '../proto/services.js';

/** Which gateway a data plane runs on. */
export type GatewaySide = 'producer' | 'consumer';

export interface Endpoint {
  host: string;
  port: number;
}

/** One parallel channel: a gateway port and where its connections go. */
export interface ChannelSpec {
  listenPort: number;
  target: Endpoint;
}

/**
 * What a backend needs to carry one session. On the producer side the listeners accept the
 * consumer gateway's encrypted connections and connect in plain TCP to the producer; on the
 * consumer side the listeners accept the consumer in plain TCP and connect, encrypted, to the
 * producer gateway. `psk` is the per-session key (32 bytes from a CSPRNG), `uid` its identity.
 */
export interface DataPlaneSpec {
  uid: string;
  side: GatewaySide;
  listenHost: string;
  channels: ChannelSpec[];
  psk: Buffer;
  /** The request's rate in Mbit/s for the whole session; 0: unlimited. */
  rateMbps: number;
  /** Private directory (0700) for generated configuration files of subprocess backends. */
  workDir: string;
}

export interface DataPlane {
  readonly backend: BackendName;
  /** Resolves once every channel listens. */
  start(): Promise<void>;
  /** Closes listeners and connections (or stops the subprocess) and resolves when done. */
  stop(): Promise<void>;
  /** Per-channel counters; subprocess backends read them from the proxy (see each backend). */
  counters(): Promise<StreamCounters[]>;
  /** Process ids of subprocesses, persisted so a restarted S2CS can stop orphans. */
  pids(): number[];
}

export const BACKENDS = ['native', 'stunnel', 'haproxy'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** Backends that enforce the request's `rate`; the others refuse a session with rate > 0. */
export const RATE_ENFORCING_BACKENDS: readonly BackendName[] = ['native'];

export function parseBackend(value: string): BackendName {
  if ((BACKENDS as readonly string[]).includes(value)) return value as BackendName;
  throw new Error(`Unknown S2DS backend "${value}": expected one of ${BACKENDS.join(', ')}`);
}

export function formatEndpoint(endpoint: Endpoint): string {
  return endpoint.host.includes(':')
    ? `[${endpoint.host}]:${endpoint.port}`
    : `${endpoint.host}:${endpoint.port}`;
}

/** Parses "host:port" (or "[v6]:port"); the error names the key, the value and what is expected. */
export function parseEndpoint(value: string, key: string): Endpoint {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port < 1 || port > 65535) {
    throw new Error(`${key}: "${value}" is not an address; expected host:port with port 1-65535`);
  }
  return { host: match[1] ?? match[2], port };
}
