/**
 * Entry point of a pilot agent, started beside the framework on each node of a pilot:
 * `node agent/main.js --pilot-id <id> --work-dir <dir> --node <name> --cores <n> --host <addr>`.
 * The secret is read from <work dir>/agent.secret (never from the command line or environment).
 * With an IPC channel (started by the supervisor) it reports its endpoint and heartbeats there,
 * and exits when the channel closes; it also writes agents/<node>.json for other launchers.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { AgentEndpoint } from '../protocol/index.js';
import { PilotAgent } from './agent.js';
import { AGENT_SECRET_FILE, readAgentSecret } from './channel.js';
import { AGENT_HEARTBEAT_MS, type AgentMessage } from './supervision.js';

function log(message: string): void {
  process.stderr.write(`[${new Date().toISOString()}] ${message}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'pilot-id': { type: 'string' },
      'work-dir': { type: 'string' },
      node: { type: 'string' },
      cores: { type: 'string' },
      host: { type: 'string' }
    },
    strict: true
  });
  const pilotId = values['pilot-id'];
  const workDir = values['work-dir'];
  const node = values.node;
  // Without --cores (the pilot asked for no coresPerNode), all of this node's cores.
  const cores = values.cores === undefined ? availableParallelism() : Number(values.cores);
  const host = values.host ?? '127.0.0.1';
  if (pilotId === undefined || workDir === undefined || node === undefined) {
    throw new Error(
      'usage: agent --pilot-id <id> --work-dir <dir> --node <name> [--cores <n>] [--host <addr>]'
    );
  }
  if (!Number.isInteger(cores) || cores < 1) {
    throw new Error(`--cores = ${JSON.stringify(values.cores)}, expected a positive integer`);
  }
  const secret = await readAgentSecret(join(workDir, AGENT_SECRET_FILE));
  const agent = new PilotAgent({ pilotId, workDir, node, cores, secret, host, log });
  const address = await agent.start();
  const endpoint: AgentEndpoint = {
    node,
    ...address,
    cores,
    pid: process.pid,
    startedAt: new Date().toISOString()
  };
  // Written whole under a temporary name, then renamed: a launcher polling for it never reads
  // half a file.
  const agentsDir = join(workDir, 'agents');
  await mkdir(agentsDir, { recursive: true, mode: 0o700 });
  const temporary = join(agentsDir, `.${node}.${process.pid}.tmp`);
  await writeFile(temporary, JSON.stringify(endpoint), { mode: 0o600 });
  await rename(temporary, join(agentsDir, `${node}.json`));
  log(`agent of ${pilotId} on ${node} listens on ${address.host}:${address.port} (${cores} cores)`);

  let stopping = false;
  const stop = (why: string): void => {
    if (stopping) return;
    stopping = true;
    log(`agent stopping: ${why}`);
    agent.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log(`agent stop failed: ${(error as Error).message}`);
        process.exit(1);
      }
    );
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(signal, () => stop(`received ${signal}`));
  }
  if (process.send !== undefined) {
    const send = (message: AgentMessage): void => {
      process.send?.(message);
    };
    send({ kind: 'ready', endpoint });
    const heartbeat = setInterval(() => {
      send({ kind: 'heartbeat', at: new Date().toISOString(), load: agent.status().load });
    }, AGENT_HEARTBEAT_MS);
    process.on('disconnect', () => {
      clearInterval(heartbeat);
      stop('its supervisor is gone');
    });
  }
}

main().catch((error: unknown) => {
  log(`agent failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
