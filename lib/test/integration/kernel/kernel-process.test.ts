import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile, access } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Dealer, Request, Subscriber } from 'zeromq';
import {
  MessageSigner,
  createHeader,
  decodeMessage,
  encodeMessage,
  type JupyterMessage
} from '../../../src/kernel/wire.js';

const LIB = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = path.join(LIB, 'dist', 'kernel', 'main.js');
const CLI = path.join(LIB, 'dist', 'cli', 'main.js');

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** A kernel process plus raw zeromq sockets talking to it. */
class RawClient {
  readonly shell = new Dealer({ linger: 0 });
  readonly iopub = new Subscriber({ linger: 0 });
  readonly hb = new Request({ linger: 0, receiveTimeout: 2000 });
  readonly session = randomBytes(8).toString('hex');
  stderr = '';

  constructor(
    readonly process: ChildProcess,
    readonly signer: MessageSigner
  ) {
    process.stderr!.on('data', chunk => (this.stderr += String(chunk)));
  }

  static async start(dir: string): Promise<RawClient> {
    const key = randomBytes(16).toString('hex');
    const ports = {
      shell_port: await freePort(),
      iopub_port: await freePort(),
      stdin_port: await freePort(),
      control_port: await freePort(),
      hb_port: await freePort()
    };
    const file = path.join(dir, 'connection.json');
    await writeFile(
      file,
      JSON.stringify({
        ...ports,
        ip: '127.0.0.1',
        transport: 'tcp',
        key,
        signature_scheme: 'hmac-sha256'
      })
    );
    const child = spawn(process.execPath, [MAIN, file], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: LIB
    });
    const client = new RawClient(child, new MessageSigner(key));
    client.shell.connect(`tcp://127.0.0.1:${ports.shell_port}`);
    client.iopub.connect(`tcp://127.0.0.1:${ports.iopub_port}`);
    client.iopub.subscribe();
    client.hb.connect(`tcp://127.0.0.1:${ports.hb_port}`);
    return client;
  }

  async request(msgType: string, content: object, signer = this.signer): Promise<string> {
    const header = createHeader(msgType, this.session);
    await this.shell.send(
      encodeMessage({ identities: [], header, parent_header: {}, metadata: {}, content }, signer)
    );
    return header.msg_id;
  }

  async reply(timeoutMs = 20_000): Promise<JupyterMessage> {
    this.shell.receiveTimeout = timeoutMs;
    const frames = await this.shell.receive();
    return decodeMessage(frames, this.signer);
  }

  async ping(): Promise<string> {
    await this.hb.send('ping');
    const [echo] = await this.hb.receive();
    return String(echo);
  }

  /** SIGTERM (the kernel shuts down cleanly), SIGKILL only if it does not within 10 s. */
  async close(): Promise<number | null> {
    for (const socket of [this.shell, this.iopub, this.hb]) socket.close();
    if (this.process.exitCode !== null || this.process.signalCode !== null) {
      return this.process.exitCode;
    }
    const exited = once(this.process, 'exit');
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 10_000);
    const [code] = (await exited) as [number | null];
    clearTimeout(timer);
    return code;
  }
}

describe('kernel process', () => {
  let dir: string;
  let client: RawClient | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ps-kernel-it-'));
  });
  afterEach(async () => {
    await client?.close();
    client = undefined;
    await rm(dir, { recursive: true });
  });

  it('answers heartbeats while a cell runs a synchronous loop, and SIGINT stops the loop', async () => {
    client = await RawClient.start(dir);
    await client.request('kernel_info_request', {});
    expect((await client.reply()).header.msg_type).toBe('kernel_info_reply');

    const loop = await client.request('execute_request', {
      code: 'while (true) {}',
      silent: false,
      store_history: true,
      user_expressions: {},
      allow_stdin: false,
      stop_on_error: true
    });
    await new Promise(resolve => setTimeout(resolve, 500));
    expect(await client.ping()).toBe('ping');

    client.process.kill('SIGINT');
    const reply = await client.reply();
    expect(reply.parent_header).toMatchObject({ msg_id: loop });
    expect(reply.content).toMatchObject({ status: 'error', ename: 'KeyboardInterrupt' });

    // SIGTERM shuts the kernel down cleanly.
    expect(await client.close()).toBe(0);
  });

  it('process.exit(n) in a cell ends the kernel with n, without an abort', async () => {
    client = await RawClient.start(dir);
    await client.request('kernel_info_request', {});
    expect((await client.reply()).header.msg_type).toBe('kernel_info_reply');
    // The heartbeat thread holds a zeromq socket: it must be closed before Node stops the thread.
    expect(await client.ping()).toBe('ping');

    const exited = once(client.process, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    await client.request('execute_request', {
      code: 'process.exit(3)',
      silent: false,
      store_history: true,
      user_expressions: {},
      allow_stdin: false,
      stop_on_error: true
    });
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: 3, signal: null });
    expect(client.stderr).not.toContain('terminate called');
  });

  it('does not keep growing by a source map per executed cell', async () => {
    client = await RawClient.start(dir);
    const execute = async (code: string, userExpressions: Record<string, string> = {}) => {
      await client!.request('execute_request', {
        code,
        silent: false,
        store_history: true,
        user_expressions: userExpressions,
        allow_stdin: false,
        stop_on_error: true
      });
      const reply = await client!.reply();
      expect(reply.content).toMatchObject({ status: 'ok' });
      return reply.content;
    };
    await execute(
      "const v8 = require('v8');\nv8.setFlagsFromString('--expose-gc');\n" +
        "const collect = require('vm').runInNewContext('gc');\n" +
        'var heapAfterGc = () => { collect(); collect(); return process.memoryUsage().heapUsed; };'
    );
    const heap = async () => {
      const content = await execute('', { heap: 'heapAfterGc()' });
      const result = (content.user_expressions as Record<string, { data: Record<string, string> }>)
        .heap;
      return Number(result!.data['text/plain']);
    };
    const runCells = async (from: number, to: number) => {
      for (let count = from; count < to; count++) {
        await execute(`let t: number = ${count};\nt + 1`);
      }
    };
    await runCells(0, 500);
    const before = await heap();
    const cells = 5000;
    await runCells(500, 500 + cells);
    const after = await heap();
    // Each cell's source stays in the history (as in IPython), with its compact source map.
    // Before: a parsed source map per cell and V8's compilation cache, about 3.5 KB per cell.
    const perCell = (after - before) / cells;
    expect(perCell, `${Math.round(perCell)} bytes per cell`).toBeLessThan(1024);
  });

  it('drops a message with a bad signature, logging why without the key', async () => {
    client = await RawClient.start(dir);
    await client.request('kernel_info_request', {}, new MessageSigner('wrong-key'));
    await expect(client.reply(1500)).rejects.toThrow();
    await client.request('kernel_info_request', {});
    expect((await client.reply()).header.msg_type).toBe('kernel_info_reply');
    expect(client.stderr).toContain('dropped a message with an invalid signature');
    const key = JSON.parse(await readFile(path.join(dir, 'connection.json'), 'utf8')).key as string;
    expect(client.stderr).not.toContain(key);
  });

  it('exits with a clear error for a bad connection file', async () => {
    const file = path.join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ ip: '127.0.0.1', shell_port: 'many', key: '' }));
    const child = spawn(process.execPath, [MAIN, file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', chunk => (stderr += String(chunk)));
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(1);
    expect(stderr).toContain('key "shell_port" has value "many"');
  });
});

describe('pilot-streaming kernel install/remove', () => {
  const run = promisify(execFile);
  let prefix: string;
  beforeEach(async () => {
    prefix = await mkdtemp(path.join(os.tmpdir(), 'ps-kernelspec-it-'));
  });
  afterEach(async () => {
    await rm(prefix, { recursive: true });
  });

  it('writes kernel.json with our argv and env, and removes it', async () => {
    await run(process.execPath, [
      CLI,
      'kernel',
      'install',
      '--prefix',
      prefix,
      '--env',
      'A=1',
      '--env',
      'B=two words'
    ]);
    const dir = path.join(prefix, 'share', 'jupyter', 'kernels', 'pilot-streaming');
    const spec = JSON.parse(await readFile(path.join(dir, 'kernel.json'), 'utf8'));
    expect(spec.argv).toEqual([process.execPath, MAIN, '{connection_file}']);
    expect(spec.env).toEqual({ A: '1', B: 'two words' });
    expect(spec.interrupt_mode).toBe('message');
    await access(path.join(dir, 'logo-svg.svg'));

    await run(process.execPath, [CLI, 'kernel', 'remove', '--prefix', prefix]);
    await expect(access(dir)).rejects.toThrow();
  });

  it('rejects a bad --env with the value named', async () => {
    const failure = run(process.execPath, [
      CLI,
      'kernel',
      'install',
      '--prefix',
      prefix,
      '--env',
      'oops'
    ]);
    await expect(failure).rejects.toMatchObject({
      stderr: expect.stringContaining('--env "oops"')
    });
  });
});
