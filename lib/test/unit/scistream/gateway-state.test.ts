import * as grpc from '@grpc/grpc-js';
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { AuthError } from '../../../src/scistream/auth/token-verifier.js';
import { listenFailure } from '../../../src/scistream/s2cs/listen-address.js';
import {
  StateDirectory,
  StateDirectoryInUseError,
  stateDirFor
} from '../../../src/scistream/s2cs/state-directory.js';
import type { Gateway } from '../../../src/scistream/s2uc/gateway.js';
import { ScistreamClient } from '../../../src/scistream/s2uc/scistream-client.js';

describe('SciStream gateway state and error texts', () => {
  let dir = '';
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);
  const lost = (error: Error) => {
    throw error;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sst-state-'));
    logs.length = 0;
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('default state directories are one per bound address', () => {
    const names = [
      stateDirFor('/h', '0.0.0.0', 41000),
      stateDirFor('/h', '0.0.0.0', 41001),
      stateDirFor('/h', '127.0.0.1', 41000),
      stateDirFor('/h', '::', 41000)
    ];
    expect(new Set(names).size).toBe(4);
    expect(names[0]).toBe(join('/h', 's2cs-0.0.0.0-41000'));
    // No path separators or colons from an address end up in the name.
    expect(names[3]).toBe(join('/h', 's2cs-__-41000'));
  });

  test('a claimed state directory is refused to a second claim, and free again once released', async () => {
    const path = join(dir, 'gateway');
    const first = await StateDirectory.claim(path, log, lost);
    const second = StateDirectory.claim(path, log, lost);
    await expect(second).rejects.toBeInstanceOf(StateDirectoryInUseError);
    await expect(second).rejects.toThrow(
      `state directory ${path} is in use by another s2cs (pid ${process.pid})`
    );
    await first.release({ remove: false });
    const again = await StateDirectory.claim(path, log, lost);
    await again.release({ remove: true });
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test('release removes only an empty directory: a session record keeps it', async () => {
    const path = join(dir, 'gateway');
    const claimed = await StateDirectory.claim(path, log, lost);
    await mkdir(join(path, 'sessions'));
    await writeFile(join(path, 'sessions', 'a.json'), '{}');
    await claimed.release({ remove: true });
    expect(await readdir(join(path, 'sessions'))).toEqual(['a.json']);
    expect(await readdir(path)).toEqual(['sessions']);
  });

  test('an existing directory that others may enter is tightened to 0700, and says so', async () => {
    const path = join(dir, 'open');
    await mkdir(path);
    await chmod(path, 0o755);
    const claimed = await StateDirectory.claim(path, log, lost);
    expect((await stat(path)).mode & 0o777).toBe(0o700);
    expect(logs).toEqual([`state directory ${path} was open to others (0755); tightened to 0700`]);
    await claimed.release({ remove: false });
  });

  test('a control port that cannot be bound is explained by its errno, naming the option', () => {
    const inUse = listenFailure('127.0.0.1', 5000, 'EADDRINUSE', undefined);
    expect(inUse.option).toBe('port');
    expect(inUse.message).toBe(
      '127.0.0.1:5000 is in use by another program (EADDRINUSE); expected a free port (0: any free port)'
    );
    const notLocal = listenFailure('10.9.9.9', 0, 'EADDRNOTAVAIL', undefined);
    expect(notLocal.option).toBe('bind');
    expect(notLocal.message).toMatch(/^10\.9\.9\.9 is not an address of this machine/);
    expect(listenFailure('::1', 80, 'EACCES', undefined).message).toMatch(
      /^\[::1\]:80 needs privileges/
    );
  });

  test('an auth refusal keeps its status and names which tokens the gateway accepts', () => {
    const refusal = new AuthError('token expired').accepting('JWT from issuer https://id.example');
    expect(refusal.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(refusal.message).toBe(
      'token expired; this gateway accepts JWT from issuer https://id.example'
    );
  });

  test('a failed stream set-up whose clean-up fails too reports both causes', async () => {
    const unreachable = (address: string) =>
      ({
        address,
        req: () => Promise.reject(new Error(`${address} req: connect ECONNREFUSED`)),
        hello: () => Promise.reject(new Error(`${address} hello: connect ECONNREFUSED`)),
        release: () => Promise.reject(new Error(`${address} release: connect ECONNREFUSED`))
      }) as unknown as Gateway;
    const client = new ScistreamClient({
      producer: unreachable('p:1'),
      consumer: unreachable('c:1')
    });
    await expect(client.createStream({ producerListeners: ['h:1'] })).rejects.toThrow(
      /^stream set-up failed: p:1 req: connect ECONNREFUSED; its clean-up failed too: release of \S+: p:1 release: connect ECONNREFUSED; c:1 release: connect ECONNREFUSED$/
    );
  });
});
