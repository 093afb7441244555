import { randomBytes } from 'node:crypto';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startDaemon, stopDaemon, waitUntil, type Daemon } from './daemons.js';

/** A munged of this run: its own key (from the CSPRNG), socket, pid, log and seed files. */
export class TestMunge {
  private constructor(
    readonly socketPath: string,
    readonly daemon: Daemon
  ) {}

  static async start(dir: string): Promise<TestMunge> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const keyPath = join(dir, 'munge.key');
    await writeFile(keyPath, randomBytes(1024), { mode: 0o600 });
    const socketPath = join(dir, 'munge.socket');
    const logPath = join(dir, 'munged.log');
    const daemon = await startDaemon(
      'munged',
      [
        '/usr/sbin/munged',
        '--foreground',
        // munged runs as the testbed's user (root) rather than a dedicated munge user.
        '--force',
        `--socket=${socketPath}`,
        `--key-file=${keyPath}`,
        `--pid-file=${join(dir, 'munged.pid')}`,
        `--log-file=${logPath}`,
        `--seed-file=${join(dir, 'munged.seed')}`
      ],
      { logPath }
    );
    const munge = new TestMunge(socketPath, daemon);
    await waitUntil(
      'the munge socket',
      () =>
        access(socketPath).then(
          () => true,
          () => false
        ),
      10_000,
      logPath
    );
    return munge;
  }

  async stop(): Promise<void> {
    await stopDaemon(this.daemon);
  }
}
