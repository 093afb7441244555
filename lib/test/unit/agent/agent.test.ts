import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PilotAgent } from '../../../src/agent/agent.js';
import { connectAgent, readFrames, writeFrame } from '../../../src/agent/channel.js';
import { AgentClient } from '../../../src/agent/client.js';
import type { UnitSubmission } from '../../../src/agent/messages.js';
import {
  executableUnitSchema,
  pilotIdOfUnit,
  type AgentEndpoint,
  type UnitRecord
} from '../../../src/protocol/index.js';

const pilotId = 'pilot-abcdefghijkl';
let sequence = 0;
function unitId(): string {
  return `${pilotId}.unit-${String(sequence++).padStart(10, '0')}`;
}

function functionUnit(source: string, args: unknown[] = []): UnitSubmission {
  return {
    kind: 'function',
    id: unitId(),
    source,
    args,
    cores: 1,
    submittedAt: new Date().toISOString()
  };
}

describe('agent channel framing', () => {
  it('reassembles frames split across chunks and keeps structured values', () => {
    const wire = new PassThrough();
    const seen: unknown[] = [];
    readFrames(wire, message => seen.push(message));
    const sender = new PassThrough();
    const bytes: Buffer[] = [];
    sender.on('data', (chunk: Buffer) => bytes.push(chunk));
    writeFrame(sender, { a: 1n, m: new Map([['k', [1, 2]]]) });
    writeFrame(sender, 'second');
    const all = Buffer.concat(bytes);
    for (let i = 0; i < all.length; i += 3) wire.write(all.subarray(i, i + 3));
    expect(seen).toEqual([{ a: 1n, m: new Map([['k', [1, 2]]]) }, 'second']);
  });
});

describe('unit descriptions and ids', () => {
  it('validates executable units with defaults', () => {
    expect(executableUnitSchema.parse({ executable: 'echo' })).toEqual({
      executable: 'echo',
      arguments: [],
      env: {},
      cores: 1
    });
    // 0 holds no core (a light process such as a paced producer); fewer is no number of cores.
    expect(executableUnitSchema.safeParse({ executable: 'echo', cores: 0 }).success).toBe(true);
    expect(executableUnitSchema.safeParse({ executable: 'echo', cores: -1 }).success).toBe(false);
    expect(executableUnitSchema.safeParse({ executable: 'echo', cores: 1.5 }).success).toBe(false);
    expect(executableUnitSchema.safeParse({ executable: 'echo', shell: true }).success).toBe(false);
  });

  it('finds the pilot of a unit id', () => {
    expect(pilotIdOfUnit(`${pilotId}.unit-0123456789`)).toBe(pilotId);
    expect(pilotIdOfUnit('pilot-abcdefghijkl.unit-../../etc')).toBeUndefined();
  });
});

describe('PilotAgent', () => {
  let workDir: string;
  let agent: PilotAgent;
  let client: AgentClient;
  const secret = randomBytes(32);
  const logged: string[] = [];

  beforeEach(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'pilot-agent-test-'));
    agent = new PilotAgent({
      pilotId,
      workDir,
      node: 'node-a',
      cores: 2,
      secret,
      host: '127.0.0.1',
      log: message => logged.push(message)
    });
    const address = await agent.start();
    const endpoint: AgentEndpoint = {
      node: 'node-a',
      ...address,
      cores: 2,
      startedAt: new Date().toISOString()
    };
    client = await AgentClient.connect(pilotId, endpoint, secret);
  });

  afterEach(async () => {
    try {
      client.close();
      await agent.close();
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  });

  it('runs at most its cores at once and queues the rest', async () => {
    const source = 'async ms => { await new Promise(r => setTimeout(r, ms)); return ms; }';
    const submitted: UnitRecord[] = [];
    for (let i = 0; i < 5; i++) {
      submitted.push(
        (await client.request({ op: 'submit', unit: functionUnit(source, [150]) })).record
      );
    }
    const status = await client.request({ op: 'status' });
    expect(status).toMatchObject({ cores: 2, load: 5, running: 2 });
    const ended = await client.request({
      op: 'wait',
      ids: submitted.map(unit => unit.id),
      timeoutMs: 20_000
    });
    expect(ended.map(unit => unit.state)).toEqual(Array(5).fill('Done'));
    const spans = ended.map(unit => [Date.parse(unit.startedAt!), Date.parse(unit.finishedAt!)]);
    for (const [start] of spans) {
      expect(spans.filter(([s, f]) => s! <= start! && start! < f!).length).toBeLessThanOrEqual(2);
    }
    expect(await client.request({ op: 'result', id: submitted[0]!.id })).toEqual({
      kind: 'value',
      value: 150
    });
    const metrics = (await readFile(join(workDir, 'metrics.csv'), 'utf8')).trim().split('\n');
    expect(metrics).toHaveLength(6);
  });

  it('cancels a queued unit without starting it, and refuses units larger than the node', async () => {
    const loop = 'async () => new Promise(() => setInterval(() => undefined, 1000))';
    const a = (await client.request({ op: 'submit', unit: functionUnit(loop) })).record;
    const b = (await client.request({ op: 'submit', unit: functionUnit(loop) })).record;
    const queued = (await client.request({ op: 'submit', unit: functionUnit(loop) })).record;
    expect(queued.state).toBe('Pending');
    const canceled = await client.request({ op: 'cancel', id: queued.id });
    expect(canceled.state).toBe('Canceled');
    expect(canceled.startedAt).toBeUndefined();
    await client.request({ op: 'cancel', id: a.id });
    await client.request({ op: 'cancel', id: b.id });
    const [endedA] = await client.request({ op: 'wait', ids: [a.id], timeoutMs: 5_000 });
    expect(endedA!.state).toBe('Canceled');
    await expect(
      client.request({
        op: 'submit',
        unit: { ...functionUnit('() => 1'), cores: 3 }
      })
    ).rejects.toThrow('cores = 3, expected at most 2 (the cores of node node-a)');
    await expect(client.request({ op: 'get', ids: ['nope'] })).resolves.toEqual([]);
    await expect(
      client.request({ op: 'result', id: `${pilotId}.unit-zzzzzzzzzz` })
    ).rejects.toThrow(/No compute unit/);
  });

  it('captures console output of function units and reports bad sources', async () => {
    const talk = (
      await client.request({
        op: 'submit',
        unit: functionUnit(
          '(x) => { console.log("hello", x); console.error("warn"); return x; }',
          [7]
        )
      })
    ).record;
    const bad = (
      await client.request({ op: 'submit', unit: functionUnit('method() { return 1 }') })
    ).record;
    const [t, b] = await client.request({ op: 'wait', ids: [talk.id, bad.id], timeoutMs: 10_000 });
    expect(t!.state).toBe('Done');
    expect(await client.request({ op: 'output', id: talk.id, stream: 'stdout' })).toBe('hello 7\n');
    expect(await client.request({ op: 'output', id: talk.id, stream: 'stderr' })).toBe('warn\n');
    expect(b!.state).toBe('Failed');
    expect(b!.error?.message).toMatch(/does not compile as a function expression/);
  });

  it('refuses a handshake with a wrong secret', async () => {
    const { port } = (
      agent as unknown as { server: { address(): { port: number } } }
    ).server.address();
    await expect(
      connectAgent({ host: '127.0.0.1', port, pilotId, secret: randomBytes(32) })
    ).rejects.toThrow(/Cannot reach the agent of pilot-abcdefghijkl/);
    expect(agent.refusedHandshakes).toBe(1);
  });
});
