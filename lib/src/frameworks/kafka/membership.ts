import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Kafka, type Admin, type ISocketFactory } from 'kafkajs';
import type { ProgressListener } from '../plugin.js';
import { KAFKA_TOOLS, runKafkaTool } from './admin-tool.js';
import { QUIET_LOG_LEVEL, quietLogCreator } from './client-logging.js';
import type { KafkaDistribution } from './distribution.js';
import { toolSecurityArgs, type KafkaClientCredentials } from './tls.js';
import {
  isInternalTopic,
  movesBetween,
  planDrain,
  planSpread,
  type PartitionMove,
  type PartitionPlacement
} from './reassignment-plan.js';

const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const POLL_MS = 500;

/**
 * A running cluster and what acting on it needs. Kafka's tools run here, in a JVM from
 * `distribution`, and connect to `bootstrapServers` themselves: call these functions where the
 * brokers are reachable (the pilot's supervisor). `socketFactory` serves this process's own
 * kafkajs client (placement reads and progress polls).
 */
export interface ClusterAccess {
  bootstrapServers: string[];
  distribution: KafkaDistribution;
  /** A private directory; temporary files (the plans given to the tools) are removed again. */
  workDir: string;
  socketFactory?: ISocketFactory;
  /**
   * The pilot's TLS directory and client credentials, when its listeners take TLS only: the
   * kafkajs client presents the credentials, Kafka's tools the files of the directory.
   */
  tls?: { dir: string; credentials: KafkaClientCredentials };
  onProgress?: ProgressListener;
  /** For the whole operation; 10 minutes unless given. */
  timeoutMs?: number;
}

/** Options of the operations that move partitions. */
export interface MoveOptions {
  /**
   * Caps the replication traffic of the moves (bytes per second per broker), so producers and
   * consumers keep their bandwidth while large partitions move. Unlimited unless given.
   */
  throttleBytesPerSecond?: number;
}

/** What a reassignment changed: every partition whose replica list moved, and how long it took. */
export interface Reassignment {
  moves: PartitionMove[];
  durationMs: number;
}

/** A broker the KRaft controller has registered, live (unfenced) or not. */
export interface RegisteredBroker {
  id: number;
  host: string;
  port: number;
  state: string;
}

interface PartitionState extends PartitionPlacement {
  leader: number;
  isr: number[];
}

const nameOf = (p: { topic: string; partition: number }): string => `${p.topic}-${p.partition}`;

function adminFor(
  access: Pick<ClusterAccess, 'bootstrapServers' | 'socketFactory' | 'tls'>
): Admin {
  return new Kafka({
    clientId: 'pilot-streaming-membership',
    brokers: access.bootstrapServers,
    socketFactory: access.socketFactory,
    ...(access.tls !== undefined ? { ssl: access.tls.credentials } : {}),
    logCreator: quietLogCreator,
    logLevel: QUIET_LOG_LEVEL
  }).admin();
}

async function withAdmin<T>(
  access: Pick<ClusterAccess, 'bootstrapServers' | 'socketFactory' | 'tls'>,
  use: (admin: Admin) => Promise<T>
): Promise<T> {
  if (access.bootstrapServers.length === 0) {
    throw new Error('bootstrapServers: empty; expected at least one host:port of the cluster');
  }
  const admin = adminFor(access);
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Every partition of every topic as the metadata shows it now. */
async function readPartitions(admin: Admin): Promise<PartitionState[]> {
  const { topics } = await admin.fetchTopicMetadata({ topics: [] });
  return topics.flatMap(({ name, partitions }) =>
    partitions.map(p => ({
      topic: name,
      partition: p.partitionId,
      replicas: p.replicas,
      leader: p.leader,
      isr: p.isr
    }))
  );
}

async function liveBrokers(admin: Admin): Promise<number[]> {
  return (await admin.describeCluster()).brokers.map(broker => broker.nodeId).sort((a, b) => a - b);
}

/** The ids of the brokers the cluster's metadata lists (live, unfenced), in order. */
export function liveBrokerIds(
  access: Pick<ClusterAccess, 'bootstrapServers' | 'socketFactory' | 'tls'>
): Promise<number[]> {
  return withAdmin(access, liveBrokers);
}

function requireLive(key: string, ids: readonly number[], live: readonly number[]): void {
  const missing = ids.filter(id => !live.includes(id));
  if (missing.length > 0) {
    throw new Error(
      `${key}: broker ${missing.join(',')} is not live in the cluster; expected brokers the metadata lists (${live.join(',')})`
    );
  }
}

/** Time left before `deadline`, or an error naming what was still going on. */
function remaining(deadline: number, timeoutMs: number, what: () => string): number {
  const left = deadline - Date.now();
  if (left <= 0) throw new Error(`Timed out after ${timeoutMs / 1000} s: ${what()}`);
  return left;
}

/**
 * Polls the metadata until `isDone` holds for every move; reports progress and, on timeout,
 * names the partitions still pending with `describe`.
 */
async function awaitMoves(
  admin: Admin,
  moves: readonly PartitionMove[],
  isDone: (move: PartitionMove, state: PartitionState | undefined) => boolean,
  describe: (move: PartitionMove, state: PartitionState | undefined) => string,
  progress: {
    stage: string;
    /** What still pending means for the caller, said on timeout. */
    unfinished: string;
    onProgress: ProgressListener;
    deadline: number;
    timeoutMs: number;
  }
): Promise<void> {
  for (;;) {
    const states = new Map((await readPartitions(admin)).map(p => [nameOf(p), p]));
    const pending = moves.filter(move => !isDone(move, states.get(nameOf(move))));
    const done = moves.length - pending.length;
    progress.onProgress({
      stage: `${progress.stage}: ${done} of ${moves.length}`,
      fraction: done / moves.length
    });
    if (pending.length === 0) return;
    const left = remaining(
      progress.deadline,
      progress.timeoutMs,
      () =>
        `${progress.unfinished}: ${pending.map(move => describe(move, states.get(nameOf(move)))).join('; ')}`
    );
    await new Promise(resolve => setTimeout(resolve, Math.min(POLL_MS, left)));
  }
}

const sameList = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((id, i) => id === b[i]);

/**
 * Runs a reassignment from `plan` (current placement to target placement) with Kafka's
 * ReassignPartitionsCommand, waits until every moved partition has exactly its target replicas,
 * all in sync, then makes each one's first replica its leader (preferred leader election).
 */
async function reassign(
  access: ClusterAccess & MoveOptions,
  plan: (partitions: PartitionState[], live: number[]) => PartitionPlacement[]
): Promise<Reassignment> {
  const throttle = access.throttleBytesPerSecond;
  if (throttle !== undefined && !(Number.isInteger(throttle) && throttle > 0)) {
    throw new Error(
      `throttleBytesPerSecond: ${String(throttle)}; expected a positive whole number of bytes per second`
    );
  }
  const started = Date.now();
  const timeoutMs = access.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = started + timeoutMs;
  const onProgress = access.onProgress ?? ((): void => undefined);
  const servers = access.bootstrapServers.join(',');
  return withAdmin(access, async admin => {
    onProgress({ stage: 'Reading the placement of partitions' });
    const partitions = await readPartitions(admin);
    const moves = movesBetween(partitions, plan(partitions, await liveBrokers(admin)));
    if (moves.length === 0) return { moves, durationMs: Date.now() - started };

    const tempDir = await mkdtemp(join(access.workDir, 'reassignment-'));
    try {
      const planPath = join(tempDir, 'reassignment.json');
      await writeFile(
        planPath,
        JSON.stringify({
          version: 1,
          partitions: moves.map(({ topic, partition, to }) => ({ topic, partition, replicas: to }))
        })
      );
      onProgress({ stage: `Starting the reassignment of ${moves.length} partitions` });
      await runKafkaTool({
        distribution: access.distribution,
        mainClass: KAFKA_TOOLS.reassignPartitions,
        args: [
          '--bootstrap-server',
          servers,
          ...toolSecurityArgs(access.tls?.dir),
          '--reassignment-json-file',
          planPath,
          '--execute',
          ...(throttle === undefined ? [] : ['--throttle', String(throttle)])
        ],
        cwd: tempDir,
        timeoutMs: remaining(
          deadline,
          timeoutMs,
          () => `reading the placement; nothing was moved yet`
        )
      });
      await awaitMoves(
        admin,
        moves,
        (move, state) =>
          state !== undefined &&
          sameList(state.replicas, move.to) &&
          move.to.every(id => state.isr.includes(id)),
        (move, state) =>
          `${nameOf(move)} (replicas now [${state?.replicas.join(',') ?? '?'}], target [${move.to.join(',')}], in sync [${state?.isr.join(',') ?? '?'}])`,
        {
          stage: 'Partitions in place',
          unfinished: `still moving (Kafka goes on with it${throttle === undefined ? '' : `, throttled to ${throttle} B/s`}; ReassignPartitionsCommand --list shows it, --cancel stops it)`,
          onProgress,
          deadline,
          timeoutMs
        }
      );

      if (throttle !== undefined) {
        // --verify of a completed reassignment removes the throttles --execute set.
        onProgress({ stage: 'Removing the replication throttle' });
        await runKafkaTool({
          distribution: access.distribution,
          mainClass: KAFKA_TOOLS.reassignPartitions,
          args: [
            '--bootstrap-server',
            servers,
            ...toolSecurityArgs(access.tls?.dir),
            '--reassignment-json-file',
            planPath,
            '--verify'
          ],
          cwd: tempDir,
          timeoutMs: remaining(deadline, timeoutMs, () => 'removing the replication throttle')
        });
      }

      const states = new Map((await readPartitions(admin)).map(p => [nameOf(p), p]));
      const toElect = moves.filter(move => states.get(nameOf(move))?.leader !== move.to[0]);
      if (toElect.length > 0) {
        const electionPath = join(tempDir, 'election.json');
        await writeFile(
          electionPath,
          JSON.stringify({
            partitions: toElect.map(({ topic, partition }) => ({ topic, partition }))
          })
        );
        onProgress({ stage: `Electing preferred leaders of ${toElect.length} partitions` });
        await runKafkaTool({
          distribution: access.distribution,
          mainClass: KAFKA_TOOLS.leaderElection,
          args: [
            '--bootstrap-server',
            servers,
            ...toolSecurityArgs(access.tls?.dir),
            '--election-type',
            'PREFERRED',
            '--path-to-json-file',
            electionPath
          ],
          cwd: tempDir,
          timeoutMs: remaining(deadline, timeoutMs, () => 'electing preferred leaders')
        });
        await awaitMoves(
          admin,
          toElect,
          (move, state) => state?.leader === move.to[0],
          (move, state) =>
            `${nameOf(move)} (leader ${String(state?.leader ?? '?')}, preferred ${String(move.to[0])})`,
          {
            stage: 'Preferred leaders elected',
            unfinished: 'not led by their preferred replica yet',
            onProgress,
            deadline,
            timeoutMs
          }
        );
      }
      return { moves, durationMs: Date.now() - started };
    } finally {
      await rm(tempDir, { recursive: true, force: true });
    }
  });
}

/**
 * Spreads every partition of every non-internal topic evenly over `brokerIds` (each keeps its
 * replication factor; within a topic every broker leads and holds an even share), waits until
 * Kafka has moved them and their preferred leaders lead. Partitions already placed well stay.
 */
export async function spreadPartitions(
  options: ClusterAccess & MoveOptions & { brokerIds: number[] }
): Promise<Reassignment> {
  return reassign(options, (partitions, live) => {
    requireLive('brokerIds', options.brokerIds, live);
    return planSpread(
      partitions.filter(p => !isInternalTopic(p.topic)),
      options.brokerIds
    );
  });
}

/**
 * Moves every replica off the `remove` brokers onto the `keep` brokers, spreading each affected
 * topic (internal ones included: their data would be lost otherwise) evenly over `keep`, and
 * waits until done. Producers may keep writing: Kafka copies each replica before dropping one.
 */
export async function drainBrokers(
  options: ClusterAccess & MoveOptions & { remove: number[]; keep: number[] }
): Promise<Reassignment> {
  return reassign(options, (partitions, live) => {
    requireLive('keep', options.keep, live);
    return planDrain(partitions, options.remove, options.keep);
  });
}

/** Parses the output of ClusterTool list-endpoints: a header line, then one row per endpoint. */
export function parseListEndpoints(lines: readonly string[]): RegisteredBroker[] {
  const headerAt = lines.findIndex(line => /^ID\s+HOST\s+PORT\b/.test(line));
  if (headerAt < 0) {
    throw new Error(`ClusterTool list-endpoints printed no endpoint table:\n${lines.join('\n')}`);
  }
  const columns = lines[headerAt]!.trim().split(/\s+/);
  const column = (name: string): number => {
    const at = columns.indexOf(name);
    if (at < 0)
      throw new Error(`ClusterTool list-endpoints has no ${name} column: ${lines[headerAt]!}`);
    return at;
  };
  const [id, host, port, state] = ['ID', 'HOST', 'PORT', 'STATE'].map(column) as [
    number,
    number,
    number,
    number
  ];
  return lines
    .slice(headerAt + 1)
    .filter(line => line.trim() !== '')
    .map(line => {
      const cells = line.trim().split(/\s+/);
      return {
        id: Number(cells[id]),
        host: cells[host]!,
        port: Number(cells[port]),
        state: cells[state]!
      };
    });
}

/** Brokers the KRaft controller has registered, fenced (stopped) ones included. */
export async function listRegisteredBrokers(
  options: Omit<ClusterAccess, 'socketFactory'>
): Promise<RegisteredBroker[]> {
  const lines = await runKafkaTool({
    distribution: options.distribution,
    mainClass: KAFKA_TOOLS.cluster,
    args: [
      'list-endpoints',
      '--bootstrap-server',
      options.bootstrapServers.join(','),
      ...toolSecurityArgs(options.tls?.dir),
      '--include-fenced-brokers'
    ],
    cwd: options.workDir,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  });
  return parseListEndpoints(lines);
}

/**
 * Removes stopped brokers from the KRaft cluster's registrations (ClusterTool unregister), so the
 * cluster lists only its live brokers. A broker still running is refused: it would stay in the
 * cluster unregistered. An id not registered (any more) is reported in `notRegistered`.
 */
export async function unregisterBrokers(
  options: ClusterAccess & { ids: number[] }
): Promise<{ unregistered: number[]; notRegistered: number[]; registered: RegisteredBroker[] }> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const onProgress = options.onProgress ?? ((): void => undefined);
  if (options.ids.length === 0) throw new Error('ids: empty; expected at least one broker id');
  for (const id of options.ids) {
    if (!Number.isInteger(id) || id < 0) {
      throw new Error(`ids: ${String(id)} is not a broker id; expected an integer >= 0`);
    }
  }
  const live = await withAdmin(options, liveBrokers);
  const running = options.ids.filter(id => live.includes(id));
  if (running.length > 0) {
    throw new Error(
      `ids: broker ${running.join(',')} is still running (the metadata lists it); expected stopped brokers`
    );
  }
  const unregistered: number[] = [];
  const notRegistered: number[] = [];
  for (const id of options.ids) {
    onProgress({ stage: `Unregistering broker ${id}` });
    try {
      await runKafkaTool({
        distribution: options.distribution,
        mainClass: KAFKA_TOOLS.cluster,
        args: [
          'unregister',
          '--bootstrap-server',
          options.bootstrapServers.join(','),
          ...toolSecurityArgs(options.tls?.dir),
          '--id',
          String(id)
        ],
        cwd: options.workDir,
        timeoutMs: remaining(deadline, timeoutMs, () => `unregistering broker ${id}`)
      });
      unregistered.push(id);
    } catch (error) {
      if (!(error as Error).message.includes('BrokerIdNotRegisteredException')) throw error;
      notRegistered.push(id);
    }
  }
  onProgress({ stage: 'Checking the registered brokers' });
  const registered = await listRegisteredBrokers({
    ...options,
    timeoutMs: remaining(deadline, timeoutMs, () => 'listing the registered brokers')
  });
  const left = registered.filter(broker => options.ids.includes(broker.id));
  if (left.length > 0) {
    throw new Error(
      `Broker ${left.map(b => `${b.id} (${b.state})`).join(', ')} is still registered after unregistering`
    );
  }
  return { unregistered, notRegistered, registered };
}
