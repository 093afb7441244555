import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import type { StreamCounters } from '../proto/services.js';
import {
  formatEndpoint,
  type BackendName,
  type DataPlane,
  type DataPlaneSpec
} from './data-plane.js';

const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

async function isListening(host: string, port: number): Promise<boolean> {
  return new Promise(resolve => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A generated configuration: file name, contents, and any private files it references. */
export interface SubprocessConfig {
  command: string;
  args: string[];
  files: { name: string; contents: string }[];
}

/**
 * A data plane run by an external proxy (stunnel, HAProxy) as the original SciStream does: the
 * configuration is generated into the session's private directory, the proxy runs in the
 * foreground as our child, and it is ready when every channel port accepts connections. These
 * proxies keep no per-session counters we can read, so counters report the channels only.
 */
export abstract class SubprocessDataPlane implements DataPlane {
  abstract readonly backend: BackendName;
  private child?: ChildProcess;
  private stderr = '';

  constructor(protected readonly spec: DataPlaneSpec) {}

  protected abstract config(): SubprocessConfig;

  async start(): Promise<void> {
    const config = this.config();
    for (const file of config.files) {
      await writeFile(join(this.spec.workDir, file.name), file.contents, { mode: 0o600 });
    }
    const child = spawn(config.command, config.args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
    });
    const exited = new Promise<never>((_resolve, reject) => {
      child.once('error', reject);
      child.once('exit', code =>
        reject(
          new Error(`${config.command} exited (${code}) while starting: ${this.stderr.trim()}`)
        )
      );
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    try {
      for (const channel of this.spec.channels) {
        while (
          !(await Promise.race([isListening(this.spec.listenHost, channel.listenPort), exited]))
        ) {
          if (Date.now() > deadline) {
            throw new Error(
              `${config.command} did not listen on port ${channel.listenPort} within ${READY_TIMEOUT_MS} ms`
            );
          }
          await new Promise(resolve => setTimeout(resolve, 20));
        }
      }
    } catch (error) {
      await this.stop();
      throw error;
    }
    // Later exits are reported by stop(); keep the rejection from going unhandled.
    exited.catch(() => undefined);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>(resolve => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await gone;
    clearTimeout(timer);
  }

  counters(): StreamCounters[] {
    return this.spec.channels.map((channel, index) => ({
      channel: index,
      listener: formatEndpoint({ host: this.spec.listenHost, port: channel.listenPort }),
      target: formatEndpoint(channel.target),
      bytes_in: 0,
      bytes_out: 0,
      connections: 0,
      active_connections: 0,
      throughput_bps: 0,
      last_activity_ms: 0
    }));
  }

  pids(): number[] {
    return this.child?.pid !== undefined ? [this.child.pid] : [];
  }
}
