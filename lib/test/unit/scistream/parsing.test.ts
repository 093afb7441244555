import * as grpc from '@grpc/grpc-js';
import { describe, expect, test } from 'vitest';
import { AuthError, tokenFromMetadata } from '../../../src/scistream/auth/token-verifier.js';
import { parsePortRange } from '../../../src/scistream/s2cs/port-pool.js';
import { validateUid } from '../../../src/scistream/s2cs/session-store.js';
import {
  formatEndpoint,
  parseBackend,
  parseEndpoint
} from '../../../src/scistream/s2ds/data-plane.js';
import { RateLimiter } from '../../../src/scistream/s2ds/rate-limiter.js';
import { ChannelCounters } from '../../../src/scistream/s2ds/stream-counters.js';

function metadata(value?: string): grpc.Metadata {
  const result = new grpc.Metadata();
  if (value !== undefined) result.set('authorization', value);
  return result;
}

describe('SciStream parsing and validation', () => {
  test('endpoints: host:port and [v6]:port round-trip, bad ones name key, value and form', () => {
    expect(parseEndpoint('10.0.0.1:5100', 'k')).toEqual({ host: '10.0.0.1', port: 5100 });
    expect(parseEndpoint('gw.example.org:80', 'k')).toEqual({ host: 'gw.example.org', port: 80 });
    expect(parseEndpoint('[::1]:9', 'k')).toEqual({ host: '::1', port: 9 });
    expect(formatEndpoint({ host: '::1', port: 9 })).toBe('[::1]:9');
    for (const bad of ['10.0.0.1', '10.0.0.1:0', 'h:70000', ':5', 'a b:1', '::1:9']) {
      expect(() => parseEndpoint(bad, 'remote_listeners')).toThrow(
        `remote_listeners: "${bad}" is not an address; expected host:port with port 1-65535`
      );
    }
  });

  test('port ranges', () => {
    expect(parsePortRange('5100-5200')).toEqual({ low: 5100, high: 5200 });
    for (const bad of ['5200-5100', '0-10', '1-65536', '5100', 'a-b']) {
      expect(() => parsePortRange(bad, '--port-range')).toThrow(`--port-range: "${bad}"`);
    }
  });

  test('backends: known names only, loudly', () => {
    expect(parseBackend('stunnel')).toBe('stunnel');
    expect(() => parseBackend('stunel')).toThrow(
      'Unknown S2DS backend "stunel": expected one of native, stunnel, haproxy'
    );
    expect(() => parseBackend('')).toThrow('Unknown S2DS backend ""');
  });

  test('session ids cannot escape the state directory', () => {
    expect(validateUid('d22dbcb2-c4e3-11eb-8913-4709f8fbb45d')).toBe(
      'd22dbcb2-c4e3-11eb-8913-4709f8fbb45d'
    );
    for (const bad of ['', '../x', 'a/b', '.hidden', 'x'.repeat(129), 'a\u0000b']) {
      expect(() => validateUid(bad)).toThrow(/is not a session id/);
    }
  });

  test('tokens: raw (as the original client sends) or Bearer; missing or empty refused', () => {
    expect(tokenFromMetadata(metadata('abc.def.ghi'))).toBe('abc.def.ghi');
    expect(tokenFromMetadata(metadata('Bearer abc.def.ghi'))).toBe('abc.def.ghi');
    expect(tokenFromMetadata(metadata('bearer   abc'))).toBe('abc');
    expect(() => tokenFromMetadata(metadata())).toThrow(AuthError);
    expect(() => tokenFromMetadata(metadata('Bearer '))).toThrow(/empty bearer token/);
  });

  test('channel counters: bytes each way, activity and throughput per sampling interval', () => {
    const counters = new ChannelCounters(0, '127.0.0.1:5100', '10.0.0.1:5000');
    counters.sample(1_000);
    counters.addIn(1_000);
    counters.addOut(124_000);
    counters.sample(2_000);
    expect(counters.toMessage()).toMatchObject({
      bytes_in: 1_000,
      bytes_out: 124_000,
      throughput_bps: 1_000_000
    });
    expect(counters.lastActivityMs).toBeGreaterThan(0);
    counters.sample(3_000);
    expect(counters.throughputBps).toBe(0);
  });
});

describe('session rate limiter', () => {
  test('lets a burst through, then paces to the rate', () => {
    const limiter = new RateLimiter(80, 0); // 10 MB/s, bucket of 1 MB
    expect(limiter.take(1_000_000, 0)).toBe(0);
    // Empty bucket: 500 kB more must wait 50 ms.
    expect(limiter.take(500_000, 0)).toBeCloseTo(50, 5);
    // 100 ms later 1 MB has come back; 500 kB were owed, so 500 kB are free again.
    expect(limiter.take(500_000, 100)).toBe(0);
    expect(limiter.take(10_000, 100)).toBeCloseTo(1, 5);
  });
});
