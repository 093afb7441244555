import { randomInt } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { AGENT_SECRET_FILE, parseAgentSecret, type ConnectFactory } from '../agent/channel.js';
import { AgentClient } from '../agent/client.js';
import type { UnitResult, UnitSubmission } from '../agent/messages.js';
import { UnitStore, type UnitFiles } from '../agent/unit-store.js';
import {
  executableUnitSchema,
  isTerminal,
  problemsFromIssues,
  ValidationError,
  type AgentEndpoint,
  type ExecutableUnitInput,
  type PilotRecord,
  type UnitRecord
} from '../protocol/index.js';
import { ComputeUnit, type UnitBackend } from './compute-unit.js';
import { PilotStateError } from './errors.js';

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** Long waits are split so a lost agent is noticed between steps. */
const WAIT_STEP_MS = 30_000;
const CANCEL_SETTLE_MS = 15_000;
/** How long an agent's reported load is trusted before it is asked again. */
const LOAD_FRESH_MS = 1_000;

function newUnitId(pilotId: string): string {
  let suffix = '';
  for (let i = 0; i < 10; i++) suffix += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return `${pilotId}.unit-${suffix}`;
}

/** A function's source as shipped: checked so a bad value fails at submit, not on the node. */
function functionSource(fn: unknown): string {
  if (typeof fn !== 'function') {
    throw new ValidationError('compute unit', [
      {
        key: 'fn',
        value: typeof fn,
        expected: 'a function, or {executable, arguments, env, cores}'
      }
    ]);
  }
  const source = fn.toString();
  if (source.includes('[native code]')) {
    throw new ValidationError('compute unit', [
      {
        key: 'fn',
        value: fn.name,
        expected: 'a function written in JavaScript/TypeScript, not a native or bound one'
      }
    ]);
  }
  return source;
}

/**
 * How the client reads a pilot's files (its agent secret, the records of its units) and opens
 * connections to its agents.
 */
export interface AgentAccess extends UnitFiles {
  /** Opens the path to an agent's host:port; undefined means direct TCP. */
  connect?: ConnectFactory;
}

const LOCAL_ACCESS: AgentAccess = {
  readFile: path => readFile(path),
  readdir: path => readdir(path)
};

interface PilotConnections {
  clients: Map<string, Promise<AgentClient>>;
  /** Units queued or running per node, as last reported (plus what we sent since). */
  loads: Map<string, number>;
  /** When each node's load was last reported by its agent. */
  reportedAt: Map<string, number>;
  /** Units sent to each node: among equally loaded nodes, the one that got fewest goes next. */
  sent: Map<string, number>;
}

/**
 * Client side of compute units for all pilots of a service: submits to the least loaded agent,
 * and answers ComputeUnit calls from the agent while the pilot runs, or from the unit records in
 * the pilot's work dir once it has ended.
 */
export class UnitAccess implements UnitBackend {
  private readonly pilots = new Map<string, PilotConnections>();

  /** `access` gives, per pilot, how to read its secret and reach its agents (default: locally). */
  constructor(
    private readonly observe: (pilotId: string) => Promise<PilotRecord>,
    private readonly access: (pilot: PilotRecord) => AgentAccess = () => LOCAL_ACCESS
  ) {}

  async submit(
    pilotId: string,
    unit: ((...args: never[]) => unknown) | ExecutableUnitInput,
    args: unknown[]
  ): Promise<ComputeUnit> {
    const record = await this.running(pilotId);
    const id = newUnitId(pilotId);
    const submittedAt = new Date().toISOString();
    let submission: UnitSubmission;
    if (typeof unit === 'function') {
      submission = {
        kind: 'function',
        id,
        source: functionSource(unit),
        args,
        cores: 1,
        submittedAt
      };
    } else {
      if (args.length > 0) {
        throw new ValidationError('compute unit', [
          {
            key: 'arguments',
            value: args,
            expected: 'no extra arguments for an executable unit (use its "arguments" key)'
          }
        ]);
      }
      const parsed = executableUnitSchema.safeParse(unit);
      if (!parsed.success) {
        throw new ValidationError(
          'executable compute unit',
          problemsFromIssues(unit, parsed.error.issues)
        );
      }
      submission = { kind: 'executable', id, description: parsed.data, submittedAt };
    }
    const cores = submission.kind === 'function' ? submission.cores : submission.description.cores;
    const client = await this.leastLoaded(record, cores);
    const connections = this.connections(pilotId);
    const node = client.endpoint.node;
    connections.loads.set(node, (connections.loads.get(node) ?? 0) + 1);
    connections.sent.set(node, (connections.sent.get(node) ?? 0) + 1);
    const reply = await client.request({ op: 'submit', unit: submission });
    connections.loads.set(node, reply.load);
    connections.reportedAt.set(node, Date.now());
    return new ComputeUnit(reply.record, this);
  }

  /** Records of all units of a pilot (every node), in submission order. */
  async list(pilotId: string): Promise<UnitRecord[]> {
    const record = await this.observe(pilotId);
    if (record.state === 'Running' && record.agents !== undefined) {
      const all = await Promise.all(
        record.agents.map(async agent => (await this.client(record, agent)).request({ op: 'get' }))
      );
      return all
        .flat()
        .sort((a, b) => a.submittedAt.localeCompare(b.submittedAt) || a.id.localeCompare(b.id));
    }
    return (await this.store(record).list()).map(unit => this.settled(record, unit));
  }

  async get(pilotId: string, unitId: string): Promise<ComputeUnit> {
    const record = await this.observe(pilotId);
    const stored = await this.store(record).read(unitId);
    if (stored === undefined) {
      throw new Error(
        `No compute unit ${unitId} in pilot ${pilotId} (${this.store(record).directory})`
      );
    }
    const [current] = await this.wait([stored], 0);
    return new ComputeUnit(current!, this);
  }

  async wait(units: UnitRecord[], timeoutMs: number): Promise<UnitRecord[]> {
    const deadline = Date.now() + timeoutMs;
    const latest = new Map(units.map(unit => [unit.id, unit]));
    for (;;) {
      const open = [...latest.values()].filter(unit => !isTerminal(unit.state));
      const groups = new Map<string, UnitRecord[]>();
      for (const unit of open) {
        const key = `${unit.pilotId} ${unit.node}`;
        groups.set(key, [...(groups.get(key) ?? []), unit]);
      }
      const step = Math.max(0, Math.min(WAIT_STEP_MS, deadline - Date.now()));
      await Promise.all(
        [...groups.values()].map(async group => {
          for (const unit of await this.waitOnNode(group, step)) latest.set(unit.id, unit);
        })
      );
      const ended = [...latest.values()].every(unit => isTerminal(unit.state));
      if (ended || Date.now() >= deadline) return units.map(unit => latest.get(unit.id)!);
    }
  }

  async result(unit: UnitRecord): Promise<UnitResult> {
    const pilot = await this.observe(unit.pilotId);
    if (pilot.state === 'Running') {
      return (await this.clientForUnit(pilot, unit)).request({ op: 'result', id: unit.id });
    }
    const store = this.store(pilot);
    if (unit.kind === 'executable') {
      return {
        kind: 'process',
        exitCode: unit.exitCode ?? null,
        signal: unit.signal ?? null,
        stdout: await store.readOutput(unit.id, 'stdout'),
        stderr: await store.readOutput(unit.id, 'stderr')
      };
    }
    const outcome = await store.readOutcome(unit.id);
    if (outcome === undefined || !outcome.ok)
      throw new Error(`Compute unit ${unit.id} has no value`);
    return { kind: 'value', value: outcome.value };
  }

  /** Cancels and resolves once the unit has ended (a process gets its grace period). */
  async cancel(unit: UnitRecord): Promise<UnitRecord> {
    const pilot = await this.observe(unit.pilotId);
    if (pilot.state !== 'Running') return (await this.wait([unit], 0))[0]!;
    const canceled = await (
      await this.clientForUnit(pilot, unit)
    ).request({ op: 'cancel', id: unit.id });
    return (await this.wait([canceled], CANCEL_SETTLE_MS))[0]!;
  }

  async output(unit: UnitRecord, stream: 'stdout' | 'stderr'): Promise<string> {
    const pilot = await this.observe(unit.pilotId);
    if (pilot.state === 'Running') {
      return (await this.clientForUnit(pilot, unit)).request({ op: 'output', id: unit.id, stream });
    }
    return this.store(pilot).readOutput(unit.id, stream);
  }

  close(): void {
    for (const connections of this.pilots.values()) {
      for (const client of connections.clients.values()) {
        // A connection that never opened has nothing to close; its error went to its caller.
        client.then(
          c => c.close(),
          () => undefined
        );
      }
    }
    this.pilots.clear();
  }

  private async waitOnNode(group: UnitRecord[], timeoutMs: number): Promise<UnitRecord[]> {
    const pilot = await this.observe(group[0]!.pilotId);
    if (pilot.state === 'Running') {
      try {
        const client = await this.clientForUnit(pilot, group[0]!);
        return await client.request({ op: 'wait', ids: group.map(unit => unit.id), timeoutMs });
      } catch (error) {
        // The agent went away: the pilot's state (now or soon Failed) says why; read the files.
        const now = await this.observe(pilot.id);
        if (now.state === 'Running') throw error;
        return this.fromStore(now, group);
      }
    }
    return this.fromStore(pilot, group);
  }

  private async fromStore(pilot: PilotRecord, group: UnitRecord[]): Promise<UnitRecord[]> {
    const store = this.store(pilot);
    return Promise.all(
      group.map(async unit => this.settled(pilot, (await store.read(unit.id)) ?? unit))
    );
  }

  /** A unit still open in the files of an ended pilot ended with it. */
  private settled(pilot: PilotRecord, unit: UnitRecord): UnitRecord {
    if (isTerminal(unit.state) || !isTerminal(pilot.state)) return unit;
    return {
      ...unit,
      state: pilot.state === 'Canceled' ? 'Canceled' : 'Failed',
      reason: `its pilot ended ${pilot.state}${pilot.reason !== undefined ? `: ${pilot.reason}` : ''}`
    };
  }

  private store(pilot: PilotRecord): UnitStore {
    if (pilot.workDir === undefined) throw new Error(`Pilot ${pilot.id} has no work dir`);
    return new UnitStore(pilot.workDir, this.access(pilot));
  }

  private async running(pilotId: string): Promise<PilotRecord> {
    const record = await this.observe(pilotId);
    if (record.state !== 'Running' || record.agents === undefined || record.agents.length === 0) {
      throw new PilotStateError(
        pilotId,
        record.state,
        record.state === 'Running'
          ? 'it has no agent to run compute units'
          : 'compute units can be submitted once it is Running'
      );
    }
    return record;
  }

  private connections(pilotId: string): PilotConnections {
    let connections = this.pilots.get(pilotId);
    if (connections === undefined) {
      connections = {
        clients: new Map(),
        loads: new Map(),
        reportedAt: new Map(),
        sent: new Map()
      };
      this.pilots.set(pilotId, connections);
    }
    return connections;
  }

  private async leastLoaded(pilot: PilotRecord, cores: number): Promise<AgentClient> {
    const agents = pilot.agents!.filter(agent => agent.cores >= cores);
    if (agents.length === 0) {
      throw new ValidationError('compute unit', [
        {
          key: 'cores',
          value: cores,
          expected: `at most ${Math.max(...pilot.agents!.map(agent => agent.cores))} (the most cores of one node of ${pilot.id})`
        }
      ]);
    }
    const connections = this.connections(pilot.id);
    // A load last reported long ago is stale (its units may have ended): ask those agents again.
    const now = Date.now();
    await Promise.all(
      agents
        .filter(agent => now - (connections.reportedAt.get(agent.node) ?? 0) > LOAD_FRESH_MS)
        .map(async agent => {
          const status = await (await this.client(pilot, agent)).request({ op: 'status' });
          connections.loads.set(agent.node, status.load);
          connections.reportedAt.set(agent.node, Date.now());
        })
    );
    const score = (agent: AgentEndpoint): [number, number] => [
      (connections.loads.get(agent.node) ?? 0) / agent.cores,
      connections.sent.get(agent.node) ?? 0
    ];
    const chosen = agents.reduce((best, agent) => {
      const [load, sent] = score(agent);
      const [bestLoad, bestSent] = score(best);
      return load < bestLoad || (load === bestLoad && sent < bestSent) ? agent : best;
    });
    return this.client(pilot, chosen);
  }

  private clientForUnit(pilot: PilotRecord, unit: UnitRecord): Promise<AgentClient> {
    const agent = pilot.agents?.find(candidate => candidate.node === unit.node);
    if (agent === undefined) throw new Error(`Pilot ${pilot.id} has no agent on node ${unit.node}`);
    return this.client(pilot, agent);
  }

  /** The connection to an agent, opened on first use and again after it was lost. */
  private client(pilot: PilotRecord, agent: AgentEndpoint): Promise<AgentClient> {
    const clients = this.connections(pilot.id).clients;
    const key = `${agent.node} ${agent.host}:${agent.port}`;
    const existing = clients.get(key);
    if (existing !== undefined) {
      return existing.then(client => {
        if (!client.closed) return client;
        clients.delete(key);
        return this.client(pilot, agent);
      });
    }
    const opened = (async () => {
      const access = this.access(pilot);
      const path = posix.join(pilot.workDir!, AGENT_SECRET_FILE);
      const secret = parseAgentSecret((await access.readFile(path)).toString('utf8'), path);
      return AgentClient.connect(pilot.id, agent, secret, access.connect);
    })();
    clients.set(key, opened);
    opened.catch(() => {
      if (clients.get(key) === opened) clients.delete(key);
    });
    return opened;
  }
}
