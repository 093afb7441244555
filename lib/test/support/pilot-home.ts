import { mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { PilotComputeService } from '../../src/pilot/index.js';
import { PilotRegistry } from '../../src/pilot/registry.js';
import { ForkAdaptor } from '../../src/resource/fork/adaptor.js';
import { testCacheDir } from './paths.js';

/** A private PILOT_STREAMING_HOME for one test, and a service on it with the shared cache. */
export interface PilotTestHome {
  home: string;
  cacheDir: string;
  service: PilotComputeService;
  /** Another service on the same home (as another kernel would have). */
  newService(): PilotComputeService;
  /** Stops every process of every pilot of this home, closes services, removes the home. */
  cleanup(): Promise<void>;
}

export async function createPilotTestHome(): Promise<PilotTestHome> {
  const home = await mkdtemp(join(tmpdir(), 'pilot-streaming-test-'));
  const cacheDir = testCacheDir();
  const services: PilotComputeService[] = [];
  const newService = (): PilotComputeService => {
    const service = new PilotComputeService({ home, cacheDir });
    services.push(service);
    return service;
  };
  const service = newService();
  return {
    home,
    cacheDir,
    service,
    newService,
    async cleanup() {
      await Promise.all(services.map(s => s.close()));
      await killAllPilots(home);
      await rm(home, { recursive: true, force: true });
    }
  };
}

/**
 * Registers the hooks that give each test (`'test'`) or the whole file or describe block
 * (`'file'`) its own pilot test home, clean it up afterwards and check that no process of it is
 * left. The returned view reads the home of the moment, so use it only inside tests and hooks.
 * Hooks registered after this call run within its set-up and clean-up (vitest stacks them).
 */
export function usePilotTestHome(scope: 'test' | 'file'): Omit<PilotTestHome, 'cleanup'> {
  const [setUp, tearDown] = scope === 'test' ? [beforeEach, afterEach] : [beforeAll, afterAll];
  let current: PilotTestHome | undefined;
  setUp(async () => {
    current = await createPilotTestHome();
  });
  tearDown(async () => {
    // Undefined only when the set-up failed, and vitest reports that failure already.
    if (current === undefined) return;
    const test = current;
    current = undefined;
    await test.cleanup();
    expect(await processesMentioning(test.home)).toEqual([]);
  });
  const inUse = (): PilotTestHome => {
    if (current === undefined)
      throw new Error('the pilot test home is used outside the tests and hooks that set it up');
    return current;
  };
  return {
    get home() {
      return inUse().home;
    },
    get cacheDir() {
      return inUse().cacheDir;
    },
    get service() {
      return inUse().service;
    },
    newService: () => inUse().newService()
  };
}

/** Kills whatever the pilots of `home` left running (their supervisors' whole sessions). */
export async function killAllPilots(home: string): Promise<void> {
  const registry = new PilotRegistry(home);
  const adaptor = new ForkAdaptor();
  for (const record of await registry.list()) {
    // Only local (fork) jobs have a process here to stop.
    if (record.job?.pid !== undefined) await adaptor.terminate(record.job, 2_000);
  }
}

/** Processes whose command line mentions `text` (e.g. a test's home directory). */
export async function processesMentioning(text: string): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const commandLine = (await readFile(`/proc/${name}/cmdline`, 'utf8')).replace(/\0/g, ' ');
      if (commandLine.includes(text)) found.push(Number(name));
    } catch (error) {
      // The process ended while we looked: it mentions nothing any more.
      if (
        (error as NodeJS.ErrnoException).code !== 'ENOENT' &&
        (error as NodeJS.ErrnoException).code !== 'ESRCH'
      )
        throw error;
    }
  }
  return found;
}

/** Local addresses (hex, as the kernel lists them) of this namespace's listening TCP sockets. */
export async function listeningSockets(): Promise<string[]> {
  const sockets: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const lines = (await readFile(table, 'utf8')).split('\n').slice(1);
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      // State 0A is LISTEN.
      if (fields[1] !== undefined && fields[3] === '0A') sockets.push(fields[1]);
    }
  }
  return sockets;
}

/** Whether anything listens on `port` (any address). */
export async function isListening(port: number): Promise<boolean> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return (await listeningSockets()).some(address => address.endsWith(`:${hexPort}`));
}

/** Resolves true if a TCP connection to 127.0.0.1:`port` is refused, false if it is accepted. */
export function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', error => {
      if ((error as NodeJS.ErrnoException).code === 'ECONNREFUSED') resolve(true);
      else reject(error);
    });
  });
}

/** These processes and all their descendants (e.g. the worker processes a Dask nanny spawns). */
export async function withDescendants(pids: number[]): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => undefined);
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
    const ppid = stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
    if (ppid !== undefined) parents.set(Number(name), Number(ppid));
  }
  const found = new Set(pids);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, ppid] of parents) {
      if (found.has(ppid) && !found.has(pid)) {
        found.add(pid);
        grew = true;
      }
    }
  }
  return [...found];
}

/**
 * The TCP sockets these processes listen on, as host and port: IPv4 ones, and IPv6 ones (Java's
 * are IPv6 sockets), an IPv4-mapped address as its IPv4 form ("::" for IPv6's any address).
 */
export async function tcpListenersOf(pids: number[]): Promise<{ host: string; port: number }[]> {
  const inodes = new Set<string>();
  for (const pid of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
    for (const fd of fds) {
      const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (inode !== undefined) inodes.add(inode);
    }
  }
  const listeners: { host: string; port: number }[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of (await readFile(table, 'utf8')).split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[3] !== '0A' || !inodes.has(fields[9] ?? '')) continue;
      const [address, port] = fields[1]!.split(':') as [string, string];
      listeners.push({ host: hostOf(address), port: parseInt(port, 16) });
    }
  }
  return listeners;
}

/** An address of /proc/net/tcp{,6} (hex, each 32-bit word in host byte order) in words. */
function hostOf(hex: string): string {
  const ipv4 = (word: string): string =>
    word
      .match(/../g)!
      .map(byte => parseInt(byte, 16))
      .reverse()
      .join('.');
  if (hex.length === 8) return ipv4(hex);
  if (/^0{32}$/.test(hex)) return '::';
  // ::ffff:a.b.c.d: zeros, then 0000FFFF in the third word, then the IPv4 address.
  if (hex.startsWith('0000000000000000FFFF0000')) return ipv4(hex.slice(24));
  return `ipv6:${hex}`;
}
