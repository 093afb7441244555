import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StreamCounters } from '../proto/services.js';
import {
  formatEndpoint,
  type BackendName,
  type DataPlane,
  type DataPlaneSpec
} from './data-plane.js';
import { ChannelCounters } from './stream-counters.js';

const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const SAMPLE_INTERVAL_MS = 1000;

/**
 * Whether something listens on TCP `port` in this network namespace, read from the kernel's
 * socket tables. A test connection would do instead, but the proxy would carry it to the target:
 * the producer would see a stray connection and the counters a phantom one.
 */
async function isListening(port: number): Promise<boolean> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const listen = new RegExp(`^\\s*\\d+: [0-9A-F]+:${hexPort} [0-9A-F]+:[0-9A-F]{4} 0A `, 'm');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (listen.test(await readFile(table, 'utf8'))) return true;
  }
  return false;
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
 * foreground as our child, and it is ready when every channel port accepts connections. Each
 * backend fills the channel counters from what its proxy offers (its log lines, its stats socket).
 */
export abstract class SubprocessDataPlane implements DataPlane {
  abstract readonly backend: BackendName;
  private child?: ChildProcess;
  private stderr = '';
  private partialLine = '';
  private sampler?: NodeJS.Timeout;
  protected readonly channelCounters: ChannelCounters[];

  constructor(protected readonly spec: DataPlaneSpec) {
    this.channelCounters = spec.channels.map(
      (channel, index) =>
        new ChannelCounters(
          index,
          formatEndpoint({ host: spec.listenHost, port: channel.listenPort }),
          formatEndpoint(channel.target)
        )
    );
  }

  protected abstract config(): SubprocessConfig;

  /** One line the proxy wrote to stderr (its log). */
  protected onLogLine(_line: string): void {}

  /** Brings the counters up to date from the proxy (called before sampling and reporting). */
  protected async refreshCounters(): Promise<void> {}

  async start(): Promise<void> {
    const config = this.config();
    for (const file of config.files) {
      await writeFile(join(this.spec.workDir, file.name), file.contents, { mode: 0o600 });
    }
    const child = spawn(config.command, config.args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      this.stderr = (this.stderr + text).slice(-4000);
      const lines = (this.partialLine + text).split('\n');
      this.partialLine = lines.pop() ?? '';
      for (const line of lines) this.onLogLine(line);
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
        while (!(await Promise.race([isListening(channel.listenPort), exited]))) {
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
    this.sampler = setInterval(() => {
      this.refreshCounters().then(
        () => this.channelCounters.forEach(counters => counters.sample()),
        (error: unknown) => {
          // Counters stay at their last values; the next sample or metrics call tries again.
          this.stderr += `\ncounters: ${(error as Error).message}`;
        }
      );
    }, SAMPLE_INTERVAL_MS);
    this.sampler.unref();
  }

  async stop(): Promise<void> {
    if (this.sampler) clearInterval(this.sampler);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>(resolve => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await gone;
    clearTimeout(timer);
  }

  async counters(): Promise<StreamCounters[]> {
    await this.refreshCounters();
    return this.channelCounters.map(counters => counters.toMessage());
  }

  pids(): number[] {
    return this.child?.pid !== undefined ? [this.child.pid] : [];
  }
}
