import { join } from 'node:path';
import { AGENT_SECRET_FILE, createAgentSecret } from '../../agent/channel.js';
import { startAgent, type SupervisedAgent } from '../../agent/supervision.js';
import { allocationNodes, type PilotNode } from '../../allocation/nodes.js';
import { frameworkBootstrap, withChild, withoutChild } from '../../frameworks/index.js';
import type { ParentCluster, Progress, RunningFramework } from '../../frameworks/plugin.js';
import {
  canTransition,
  isTerminal,
  type FrameworkDetails,
  type PilotState
} from '../../protocol/index.js';
import { readProcessStat, sessionMembers, signalProcess } from '../../resource/fork/processes.js';
import { writeEndNote } from '../pilot-files.js';
import { applyTransition } from '../record.js';
import { PilotRegistry } from '../registry.js';
import { enterPilotTempDir } from './temp-dir.js';
import { walltimeEnd } from './walltime.js';

/** How long the framework gets to stop after SIGTERM before it is killed. */
export const FRAMEWORK_STOP_GRACE_MS = 15_000;
/** The same after a part of the framework died. */
const BROKEN_FRAMEWORK_STOP_GRACE_MS = 5_000;
/** How long the agent gets to cancel its units and stop. */
const AGENT_STOP_GRACE_MS = 8_000;
/** setTimeout cannot wait longer than this; longer walltimes wait in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface StopRequest {
  state: Extract<PilotState, 'Done' | 'Canceled' | 'Failed'>;
  reason: string;
}

function log(message: string): void {
  process.stderr.write(`[${new Date().toISOString()}] ${message}\n`);
}

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

/** Resolves at `deadline` (ms since the epoch), however far away. */
function at(deadline: number, keepAlive: { stopped: boolean }): Promise<void> {
  return new Promise(resolve => {
    const step = (): void => {
      if (keepAlive.stopped) return;
      const left = deadline - Date.now();
      if (left <= 0) resolve();
      else setTimeout(step, Math.min(left, MAX_TIMER_MS)).unref();
    };
    step();
  });
}

/**
 * The process that holds a pilot on its resource: starts the framework, records progress,
 * Running with the framework's details, and the end (Done at walltime, Canceled on SIGTERM,
 * Failed with the framework's exit and last log lines). Returns the exit code.
 */
export async function runSupervisor(options: {
  pilotId: string;
  home: string;
  cacheDir: string;
}): Promise<number> {
  const tempDir = await enterPilotTempDir(
    new PilotRegistry(options.home).workDirOf(options.pilotId)
  );
  try {
    return await supervise(options);
  } finally {
    await tempDir.remove();
  }
}

async function supervise(options: {
  pilotId: string;
  home: string;
  cacheDir: string;
}): Promise<number> {
  const { pilotId } = options;
  const registry = new PilotRegistry(options.home);

  let stop: StopRequest | undefined;
  let requestStop: (request: StopRequest) => void = () => undefined;
  const stopRequested = new Promise<StopRequest>(resolve => {
    requestStop = request => {
      if (stop !== undefined) return;
      stop = request;
      resolve(request);
    };
  });
  const controller = new AbortController();
  void stopRequested.then(() => controller.abort());
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(signal, () => {
      log(`received ${signal}`);
      requestStop({ state: 'Canceled', reason: `canceled (${signal} to the pilot's supervisor)` });
    });
  }

  // Set when the end could not be recorded: the supervisor still stops everything, then fails.
  let unrecorded = false;
  const finish = async (request: StopRequest): Promise<void> => {
    try {
      const record = await registry.update(pilotId, current => {
        if (isTerminal(current.state)) return undefined;
        // Walltime before Running is a failure to start in time, not a normal end.
        const state = canTransition(current.state, request.state) ? request.state : 'Failed';
        return applyTransition(current, state, { reason: request.reason, now: new Date() });
      });
      log(`pilot ${pilotId} is ${record.state}: ${record.reason ?? ''}`);
    } catch (error) {
      // A read-only or damaged registry must not keep the framework running, nor turn this
      // end into "supervisor gone" later: the note in the work directory keeps it.
      unrecorded = true;
      log(`cannot record ${request.state} (${request.reason}): ${(error as Error).message}`);
      await writeEndNote(registry.workDirOf(pilotId), request.state, request.reason).then(
        path => log(`noted ${request.state} in ${path} instead`),
        (noteError: unknown) => log(`cannot note the end either: ${(noteError as Error).message}`)
      );
    }
  };

  const self = await readProcessStat(process.pid);
  // This process starts as the job starts running (the batch script execs it): the walltime
  // counts from here, not from the record's creation, which may be long before in a queue.
  const startedAt = Math.round(performance.timeOrigin);
  let record = await registry.update(pilotId, current => {
    const started = { ...current, startedAt: new Date(startedAt).toISOString() };
    if (current.state === 'New') {
      return applyTransition(
        {
          ...started,
          job: current.job ?? {
            jobId: String(process.pid),
            pid: process.pid,
            ...(self !== undefined ? { pidStartTime: self.startTime } : {}),
            host: 'localhost'
          }
        },
        'Pending',
        { now: new Date() }
      );
    }
    // A batch job is recorded Pending by its submitter: it started now.
    return current.state === 'Pending' && current.startedAt === undefined ? started : undefined;
  });
  if (record.state !== 'Pending') {
    log(`pilot ${pilotId} is ${record.state}, not Pending: nothing to start`);
    return 1;
  }
  const walltime = { stopped: false };
  const walltimeMinutes = record.description.walltimeMinutes;
  const end = walltimeEnd({
    startedAt,
    walltimeMinutes,
    inBatchJob: process.env.SLURM_JOB_ID !== undefined
  });
  log(`walltime of ${walltimeMinutes} minutes: stopping at ${new Date(end.at).toISOString()}`);
  void at(end.at, walltime).then(() =>
    requestStop({
      state: 'Done',
      reason: `walltime of ${walltimeMinutes} minutes reached${end.marginMs > 0 ? ` (stopping ${end.marginMs / 1000} s before the scheduler's limit)` : ''}`
    })
  );

  // Progress writes go one after the other, newest last.
  let progressChain = Promise.resolve();
  // Each new stage goes to the log too, with its time: where a start spends it. Stages that
  // differ only in their figures ("12.0 of 330.5 MB") are one stage.
  let loggedStage = '';
  const onProgress = (progress: Progress): void => {
    const stage = progress.stage.replace(/\d+(\.\d+)?/g, '#');
    if (stage !== loggedStage) {
      loggedStage = stage;
      log(progress.stage);
    }
    progressChain = progressChain
      .then(async () => {
        await registry.update(pilotId, current =>
          current.state === 'Pending' ? { ...current, progress } : undefined
        );
      })
      .catch((error: unknown) => log(`cannot record progress: ${(error as Error).message}`));
  };

  // Agents run compute units beside the framework, one per node; they start first (quick).
  let agents: SupervisedAgent[] = [];
  let nodes: PilotNode[];
  let parent: ParentCluster | undefined;
  try {
    nodes = await allocationNodes();
    log(`nodes: ${nodes.map(node => `${node.name} (${node.address})`).join(', ')}`);
    if (record.description.parent !== undefined) {
      parent = await reserveParentNodes(registry, record.description.parent, pilotId, nodes.length);
      log(`extending ${parent.pilotId}: node ids from ${parent.firstNodeId}`);
    }
    onProgress({ stage: `Starting the pilot agents on ${nodes.length} node(s)` });
    await createAgentSecret(join(registry.workDirOf(pilotId), AGENT_SECRET_FILE));
    agents = await startAll(
      nodes.map(
        node => () =>
          startAgent({
            pilotId,
            workDir: registry.workDirOf(pilotId),
            node,
            ...(record.description.coresPerNode !== undefined
              ? { cores: record.description.coresPerNode }
              : {})
          })
      )
    );
    for (const agent of agents) {
      log(
        `pilot agent on ${agent.endpoint.node} listens on ${agent.endpoint.host}:${agent.endpoint.port}`
      );
    }
  } catch (error) {
    await progressChain;
    walltime.stopped = true;
    const message = error instanceof Error ? error.message : String(error);
    log(`agent start-up failed: ${message}`);
    await finish(stop ?? { state: 'Failed', reason: `the pilot agents did not start: ${message}` });
    return stop !== undefined && !unrecorded ? 0 : 1;
  }
  const stopAgents = (): Promise<void> =>
    Promise.all(agents.map(agent => agent.stop(AGENT_STOP_GRACE_MS))).then(() => undefined);
  void Promise.race(agents.map(agent => agent.lost)).then(async reason => {
    log(reason);
    // As for the framework: a cancel's SIGTERM reaches the agent too; let its handler win.
    await sleep(500);
    requestStop({ state: 'Failed', reason });
  });

  let framework: RunningFramework;
  try {
    log(`starting ${record.description.type} for pilot ${pilotId}`);
    framework = await frameworkBootstrap(record.description.type, {
      cacheDir: options.cacheDir
    }).start({
      pilotId,
      description: record.description,
      workDir: registry.workDirOf(pilotId),
      onProgress,
      signal: controller.signal,
      log,
      nodes,
      ...(parent !== undefined ? { parent } : {})
    });
  } catch (error) {
    await progressChain;
    walltime.stopped = true;
    const message = error instanceof Error ? error.message : String(error);
    log(`start-up ended: ${message}`);
    await stopAgents();
    await finish(stop ?? { state: 'Failed', reason: `start-up failed: ${message}` });
    return stop !== undefined && !unrecorded ? 0 : 1;
  }
  await progressChain;

  if (stop === undefined) {
    let running: PilotState | undefined;
    try {
      record = await registry.update(pilotId, current =>
        current.state === 'Pending'
          ? applyTransition(
              {
                ...current,
                details: framework.details,
                agents: agents.map(agent => agent.endpoint)
              },
              'Running',
              { now: new Date() }
            )
          : undefined
      );
      running = record.state;
    } catch (error) {
      // Nobody would find a framework whose Running is not recorded: stop it.
      requestStop({
        state: 'Failed',
        reason: `cannot record Running: ${(error as Error).message}`
      });
    }
    if (running === 'Running') {
      log(`pilot ${pilotId} is Running: ${JSON.stringify(framework.details)}`);
      if (parent !== undefined) await showInParent(registry, parent.pilotId, framework.details);
    } else if (running !== undefined) {
      requestStop({ state: 'Failed', reason: `record became ${running} during start-up` });
    }
  }

  const outcome = await Promise.race([
    framework.exited.then(reason => ({ kind: 'exited' as const, reason })),
    stopRequested.then(request => ({ kind: 'stop' as const, request }))
  ]);
  walltime.stopped = true;
  if (outcome.kind === 'exited') {
    // A SIGTERM to the pilot's process group reaches the framework too, and it may exit before
    // our own handler has run: give the handler a moment so a cancel is not taken for a crash.
    await sleep(500);
    const request = stop ?? { state: 'Failed' as const, reason: outcome.reason };
    await finish(request);
    // The framework's other processes (the brokers on the other nodes) must not outlive it; a
    // cluster missing a node may not stop gracefully, so they get a short grace.
    await Promise.all([stopAgents(), framework.stop(BROKEN_FRAMEWORK_STOP_GRACE_MS)]);
    if (parent !== undefined) await removeFromParent(registry, parent.pilotId, pilotId);
    await endLeftovers();
    return stop !== undefined && !unrecorded ? 0 : 1;
  }
  log(`stopping the framework: ${outcome.request.reason}`);
  // A failure (e.g. a hung agent) or a cancel is recorded at once: it cannot be undone, and a
  // cancel from the scheduler ends the job's processes by force soon anyway. A walltime end is
  // recorded once everything has stopped gracefully.
  if (outcome.request.state !== 'Done') await finish(outcome.request);
  await Promise.all([stopAgents(), framework.stop(FRAMEWORK_STOP_GRACE_MS)]);
  if (parent !== undefined) await removeFromParent(registry, parent.pilotId, pilotId);
  await finish(outcome.request);
  await endLeftovers();
  return unrecorded ? 1 : 0;
}

/** A running child's nodes join its parent's details (the parent lists every node). */
async function showInParent(
  registry: PilotRegistry,
  parentId: string,
  details: FrameworkDetails
): Promise<void> {
  await registry
    .update(parentId, current =>
      current.details !== undefined && !isTerminal(current.state)
        ? { ...current, details: withChild(current.details, details) }
        : undefined
    )
    .catch((error: unknown) =>
      log(`cannot add this pilot's nodes to ${parentId}: ${(error as Error).message}`)
    );
}

/** A stopped child's nodes leave its parent's details. */
async function removeFromParent(
  registry: PilotRegistry,
  parentId: string,
  childId: string
): Promise<void> {
  await registry
    .update(parentId, current =>
      current.details !== undefined
        ? { ...current, details: withoutChild(current.details, childId) }
        : undefined
    )
    .catch((error: unknown) =>
      log(`cannot remove this pilot's nodes from ${parentId}: ${(error as Error).message}`)
    );
}

/** Runs the starts in parallel; if one fails, stops those that started and rethrows. */
async function startAll(starts: (() => Promise<SupervisedAgent>)[]): Promise<SupervisedAgent[]> {
  const outcomes = await Promise.allSettled(starts.map(start => start()));
  const started = outcomes.flatMap(outcome =>
    outcome.status === 'fulfilled' ? [outcome.value] : []
  );
  const failed = outcomes.find(outcome => outcome.status === 'rejected');
  if (failed === undefined) return started;
  await Promise.all(started.map(agent => agent.stop(AGENT_STOP_GRACE_MS)));
  throw failed.reason;
}

/**
 * Checks that the parent runs and reserves node ids for this child in the parent's record (under
 * its lock, so children starting together get different ids). Kafka numbers its nodes; Dask's
 * workers are named by pilot and node, so a Dask parent reserves nothing.
 */
async function reserveParentNodes(
  registry: PilotRegistry,
  parentId: string,
  childId: string,
  count: number
): Promise<ParentCluster> {
  let firstNodeId = 0;
  const parent = await registry.update(parentId, current => {
    if (current.state !== 'Running' || current.details?.type !== 'kafka') return undefined;
    firstNodeId =
      current.details.nextNodeId ?? Math.max(...current.details.brokers.map(b => b.nodeId)) + 1;
    return { ...current, details: { ...current.details, nextNodeId: firstNodeId + count } };
  });
  // Only Kafka numbers its nodes (broker ids); other frameworks' workers need no reservation.
  const reserved = parent.details?.type !== 'kafka' || firstNodeId !== 0;
  if (parent.state !== 'Running' || parent.details === undefined || !reserved) {
    throw new Error(
      `pilot ${childId} extends ${parentId}, which is ${parent.state}: expected a Running parent`
    );
  }
  return {
    pilotId: parentId,
    details: parent.details,
    firstNodeId,
    workDir: registry.workDirOf(parentId)
  };
}

/**
 * Processes of the pilot's session still there at the end (e.g. executable units of an agent
 * that was killed) are killed: nothing of a pilot outlives it.
 */
async function endLeftovers(): Promise<void> {
  const self = await readProcessStat(process.pid);
  if (self === undefined || self.session !== process.pid) return;
  for (const pid of await sessionMembers(process.pid, self.startTime)) {
    if (pid !== process.pid) {
      log(`killing leftover process ${pid}`);
      signalProcess(pid, 'SIGKILL');
    }
  }
}
