import { spawn } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeExit } from '../allocation/exits.js';
import type { PilotNode } from '../allocation/nodes.js';
import type { AgentEndpoint } from '../protocol/index.js';
import { AGENT_SECRET_FILE, readAgentSecret } from './channel.js';
import { AgentClient } from './client.js';
import { entryArguments } from '../entry-points/roles.js';

/** How often an agent says it is alive; missing AGENT_DEAD_AFTER_MS of them means it is not. */
export const AGENT_HEARTBEAT_MS = 2_000;
export const AGENT_DEAD_AFTER_MS = 10_000;
const AGENT_READY_TIMEOUT_MS = 30_000;

/** What an agent tells the process that started it, over the IPC channel. */
export type AgentMessage =
  { kind: 'ready'; endpoint: AgentEndpoint } | { kind: 'heartbeat'; at: string; load: number };

export interface SupervisedAgent {
  endpoint: AgentEndpoint;
  /** Resolves with a reason when the agent dies or stops heartbeating. */
  lost: Promise<string>;
  stop(graceMs: number): Promise<void>;
}

/**
 * Starts the pilot agent on one node of the allocation and watches its heartbeat. On the
 * supervisor's own node the agent is a child process (same process group, so a cancel of the
 * pilot reaches it) that reports and heartbeats over IPC; on other nodes it runs as a job step
 * (the node's launcher), reports its endpoint in <work dir>/agents/<node>.json and is polled over
 * its authenticated channel. The pilot's secret must exist in its work dir (createAgentSecret);
 * every agent of the pilot reads the same one.
 */
export async function startAgent(options: {
  pilotId: string;
  workDir: string;
  node: PilotNode;
  cores?: number;
}): Promise<SupervisedAgent> {
  const { pilotId, workDir, node } = options;
  const logPath = join(workDir, `agent-${node.name}.log`);
  const local = node.launcher.length === 0;
  const argv = [
    ...node.launcher,
    process.execPath,
    ...entryArguments('agent'),
    '--pilot-id',
    pilotId,
    '--work-dir',
    workDir,
    '--node',
    node.name,
    ...(options.cores !== undefined ? ['--cores', String(options.cores)] : []),
    '--host',
    node.address
  ];
  const log = await open(logPath, 'a', 0o600);
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: workDir,
    stdio: ['ignore', log.fd, log.fd, ...(local ? (['ipc'] as const) : [])]
  });
  await log.close();
  const what = `the pilot agent on ${node.name} (pid ${String(child.pid)})`;

  let lastBeat = Date.now();
  let reportLoss: (reason: string) => void = () => undefined;
  const lost = new Promise<string>(resolve => {
    reportLoss = resolve;
  });
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()));
  child.once('error', error => reportLoss(`cannot start ${what}: ${error.message}`));
  child.once('exit', (code, signal) => {
    clearInterval(watchdog);
    reportLoss(`${describeExit(what, { code, signal })}; see ${logPath}`);
  });
  let client: AgentClient | undefined;
  const watchdog = setInterval(() => {
    if (Date.now() - lastBeat > AGENT_DEAD_AFTER_MS) {
      clearInterval(watchdog);
      reportLoss(`${what} sent no heartbeat for ${AGENT_DEAD_AFTER_MS / 1000} s`);
      return;
    }
    // A remote agent's heartbeat is the answer to a status request on its own channel.
    client?.request({ op: 'status' }).then(
      () => {
        lastBeat = Date.now();
      },
      () => undefined
    );
  }, AGENT_HEARTBEAT_MS);
  watchdog.unref();

  const ready = new Promise<AgentEndpoint>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(new Error(`${what} did not report ready within ${AGENT_READY_TIMEOUT_MS / 1000} s`)),
      AGENT_READY_TIMEOUT_MS
    );
    void lost.then(reason => {
      clearTimeout(timer);
      reject(new Error(reason));
    });
    if (local) {
      child.on('message', (message: AgentMessage) => {
        lastBeat = Date.now();
        if (message.kind === 'ready') {
          clearTimeout(timer);
          resolve(message.endpoint);
        }
      });
      return;
    }
    void readEndpointFile(join(workDir, 'agents', `${node.name}.json`), lost).then(
      async endpoint => {
        client = await AgentClient.connect(
          pilotId,
          endpoint,
          await readAgentSecret(join(workDir, AGENT_SECRET_FILE))
        );
        lastBeat = Date.now();
        clearTimeout(timer);
        resolve(endpoint);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error as Error);
      }
    );
  });
  let endpoint: AgentEndpoint;
  try {
    endpoint = await ready;
  } catch (error) {
    clearInterval(watchdog);
    client?.close();
    child.kill('SIGKILL');
    await exited;
    throw error;
  }

  return {
    endpoint,
    lost,
    async stop(graceMs: number): Promise<void> {
      clearInterval(watchdog);
      client?.close();
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
  };
}

/** Polls for the endpoint file an agent writes once it listens (until `lost` resolves). */
async function readEndpointFile(path: string, lost: Promise<string>): Promise<AgentEndpoint> {
  let gone = false;
  void lost.then(() => {
    gone = true;
  });
  while (!gone) {
    try {
      return JSON.parse(await readFile(path, 'utf8')) as AgentEndpoint;
    } catch (error) {
      // Not written yet (the agent writes it at once, with mode 0600, in one write).
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    await new Promise(resolve => setTimeout(resolve, 200));
  }
  throw new Error(await lost);
}
