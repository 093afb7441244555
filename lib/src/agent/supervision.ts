import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { availableParallelism, hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentEndpoint } from '../protocol/index.js';

/** How often an agent says it is alive; missing AGENT_DEAD_AFTER_MS of them means it is not. */
export const AGENT_HEARTBEAT_MS = 2_000;
export const AGENT_DEAD_AFTER_MS = 10_000;
const AGENT_READY_TIMEOUT_MS = 30_000;

/** What an agent tells the process that started it, over the IPC channel. */
export type AgentMessage =
  { kind: 'ready'; endpoint: AgentEndpoint } | { kind: 'heartbeat'; at: string; load: number };

/** The compiled agent entry, also when this module runs from source under a test runner. */
export function agentEntry(): string {
  const beside = fileURLToPath(new URL('./main.js', import.meta.url));
  if (existsSync(beside)) return beside;
  const compiled = beside.replace(/([/\\])src([/\\])agent([/\\])/, '$1dist$2agent$3');
  if (existsSync(compiled)) return compiled;
  throw new Error(`The pilot agent is not built (${compiled}); run "npx tsc -b" in lib`);
}

export interface SupervisedAgent {
  endpoint: AgentEndpoint;
  /** Resolves with a reason when the agent dies or stops heartbeating. */
  lost: Promise<string>;
  stop(graceMs: number): Promise<void>;
}

/**
 * Starts a pilot agent on this node as a child process (same process group, so a cancel of the
 * pilot reaches it) and watches its heartbeat. The pilot's secret must exist in its work dir
 * (createAgentSecret); every agent of the pilot reads the same one.
 */
export async function startLocalAgent(options: {
  pilotId: string;
  workDir: string;
  cores?: number;
  node?: string;
  host?: string;
}): Promise<SupervisedAgent> {
  const { pilotId, workDir } = options;
  const node = options.node ?? hostname();
  const cores = options.cores ?? availableParallelism();
  const log = await open(join(workDir, `agent-${node}.log`), 'a', 0o600);
  const child = spawn(
    process.execPath,
    [
      agentEntry(),
      '--pilot-id',
      pilotId,
      '--work-dir',
      workDir,
      '--node',
      node,
      '--cores',
      String(cores),
      '--host',
      options.host ?? '127.0.0.1'
    ],
    { cwd: workDir, stdio: ['ignore', log.fd, log.fd, 'ipc'] }
  );
  await log.close();

  let lastBeat = Date.now();
  let reportLoss: (reason: string) => void = () => undefined;
  const lost = new Promise<string>(resolve => {
    reportLoss = resolve;
  });
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()));
  child.once('exit', (code, signal) => {
    clearInterval(watchdog);
    reportLoss(
      `the pilot agent on ${node} (pid ${child.pid}) ${signal !== null ? `was killed by ${signal}` : `exited with code ${code}`}; see ${join(workDir, `agent-${node}.log`)}`
    );
  });
  const watchdog = setInterval(() => {
    if (Date.now() - lastBeat > AGENT_DEAD_AFTER_MS) {
      clearInterval(watchdog);
      reportLoss(
        `the pilot agent on ${node} (pid ${child.pid}) sent no heartbeat for ${AGENT_DEAD_AFTER_MS / 1000} s`
      );
    }
  }, AGENT_HEARTBEAT_MS);
  watchdog.unref();

  const ready = new Promise<AgentEndpoint>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `the pilot agent did not report ready within ${AGENT_READY_TIMEOUT_MS / 1000} s`
          )
        ),
      AGENT_READY_TIMEOUT_MS
    );
    child.on('message', (message: AgentMessage) => {
      lastBeat = Date.now();
      if (message.kind === 'ready') {
        clearTimeout(timer);
        resolve(message.endpoint);
      }
    });
    void lost.then(reason => {
      clearTimeout(timer);
      reject(new Error(reason));
    });
  });
  let endpoint: AgentEndpoint;
  try {
    endpoint = await ready;
  } catch (error) {
    clearInterval(watchdog);
    child.kill('SIGKILL');
    await exited;
    throw error;
  }

  return {
    endpoint,
    lost,
    async stop(graceMs: number): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      clearInterval(watchdog);
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
  };
}
