import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestMunge } from './munge.js';
import { createNetwork, deleteNetwork, type TestbedNetwork } from './network.js';
import { TestSlurm, type SlurmInfo } from './slurm.js';
import { TestSshd, type SshdInfo } from './sshd.js';

/** Everything a test needs to use the testbed (plain data: vitest hands it to test files). */
export interface TestbedInfo {
  dir: string;
  ssh: SshdInfo;
  /**
   * A second login sshd of the same cluster whose sessions (and so the jobs they submit) have
   * no Node.js in their PATH, as on a cluster account that never had it.
   */
  bareSsh: SshdInfo;
  slurm: SlurmInfo;
  /** Environment for local SLURM clients (sbatch, squeue, scontrol, scancel). */
  env: { SLURM_CONF: string };
}

/** Programs that make Node.js available; a PATH without them has no node. */
const NODE_PROGRAMS = new Set(['node', 'nodejs', 'npm', 'npx', 'corepack']);

/**
 * A directory of links to every program of the system's bin directories but Node.js's, to be
 * the whole PATH of a login without node (the programs themselves stay where they are).
 */
async function pathWithoutNode(directory: string): Promise<string> {
  await mkdir(directory, { recursive: true });
  const linked = new Set<string>();
  for (const bin of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin']) {
    const names = await readdir(bin).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    for (const name of names) {
      if (NODE_PROGRAMS.has(name) || linked.has(name)) continue;
      linked.add(name);
      await symlink(join(bin, name), join(directory, name));
    }
  }
  return directory;
}

/**
 * A real OpenSSH server on loopback and a real SLURM cluster (munge, slurmctld, one slurmd per
 * network namespace), all under one temporary directory of this run. Needs root.
 */
export class Testbed {
  private constructor(
    readonly info: TestbedInfo,
    /** The login sshds: the first is info.ssh, the second info.bareSsh. */
    readonly sshds: TestSshd[],
    private readonly parts: { network: TestbedNetwork; munge: TestMunge; slurm: TestSlurm }
  ) {}

  static async start(options: { nodes?: number } = {}): Promise<Testbed> {
    if (process.getuid?.() !== 0) {
      throw new Error(
        'The testbed needs root: it creates network namespaces and runs sshd, munged and SLURM daemons'
      );
    }
    const nodes = options.nodes ?? 5;
    const dir = await mkdtemp(join(tmpdir(), 'pilot-testbed-'));
    const cleanups: (() => Promise<void>)[] = [() => rm(dir, { recursive: true, force: true })];
    // Undoes a half-made testbed; the start-up error is what the caller needs to see, so
    // problems while undoing are added to it rather than replacing it.
    const undo = async (cause: unknown): Promise<Error> => {
      const problems: string[] = [];
      for (const cleanup of cleanups.reverse()) {
        await cleanup().catch((error: Error) => problems.push(error.message));
      }
      const error = cause instanceof Error ? cause : new Error(String(cause));
      if (problems.length > 0) error.message += ` (and while undoing: ${problems.join('; ')})`;
      return error;
    };
    try {
      const network = await createNetwork(nodes);
      cleanups.push(() => deleteNetwork(network));
      const munge = await TestMunge.start(join(dir, 'munge'));
      cleanups.push(() => munge.stop());
      const slurm = await TestSlurm.start(join(dir, 'slurm'), network, munge.socketPath);
      cleanups.push(() => slurm.stop());
      const env = { SLURM_CONF: slurm.info.slurmConf };
      const sshd = await TestSshd.start(join(dir, 'ssh'), env, {
        hostsFile: slurm.info.hostsFile
      });
      const bareSshd = await TestSshd.start(
        join(dir, 'ssh-bare'),
        { ...env, PATH: await pathWithoutNode(join(dir, 'bin-without-node')) },
        { hostsFile: slurm.info.hostsFile }
      );
      cleanups.push(() => bareSshd.stop());
      const info: TestbedInfo = {
        dir,
        ssh: sshd.info,
        bareSsh: bareSshd.info,
        slurm: slurm.info,
        env
      };
      await writeFile(join(dir, 'testbed.json'), `${JSON.stringify(info, null, 2)}\n`);
      // What teardown.sh removes if this process dies before stop() runs.
      const daemons = [
        munge.daemon,
        ...slurm.daemons,
        ...[sshd.daemon, bareSshd.daemon].filter(daemon => daemon !== undefined)
      ];
      await writeFile(
        join(dir, 'owned.txt'),
        [
          ...daemons.map(daemon => `pid ${daemon.pid} ${daemon.startTime}`),
          ...network.nodes.map(node => `netns ${node.netns}`),
          `link ${network.bridge}`,
          ''
        ].join('\n')
      );
      return new Testbed(info, [sshd, bareSshd], { network, munge, slurm });
    } catch (error) {
      throw await undo(error);
    }
  }

  /** Stops every daemon it started and what runs in its namespaces, removes namespaces and files. */
  async stop(): Promise<void> {
    const problems: string[] = [];
    const attempt = async (step: () => Promise<void>): Promise<void> => {
      await step().catch((error: Error) => problems.push(error.message));
    };
    for (const sshd of this.sshds) await attempt(() => sshd.stop());
    await attempt(() => this.parts.slurm.stop());
    await attempt(() => this.parts.munge.stop());
    await attempt(() => deleteNetwork(this.parts.network));
    await attempt(() => rm(this.info.dir, { recursive: true, force: true }));
    if (problems.length > 0) throw new Error(`Testbed teardown: ${problems.join('; ')}`);
  }
}
