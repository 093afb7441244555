import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pickFreePorts } from '../../src/frameworks/free-ports.js';
import { run } from './command.js';
import { startDaemon, stopDaemon, stopPids, waitUntil, type Daemon } from './daemons.js';
import { pidsInNamespace, type TestbedNetwork } from './network.js';

/** CPUs each simulated node announces (the nodes share this machine's cores). */
const CPUS_PER_NODE = 2;

export interface SlurmInfo {
  /** Path of slurm.conf: clients need SLURM_CONF set to it. */
  slurmConf: string;
  /** An /etc/hosts naming the controller and every node: the nodes' and the login node's. */
  hostsFile: string;
  partition: string;
  nodes: { name: string; address: string; netns: string }[];
}

export function renderSlurmConf(options: {
  clusterName: string;
  controllerHost: string;
  controllerAddress: string;
  controllerPort: number;
  nodePort: number;
  mungeSocket: string;
  dir: string;
  nodes: { name: string; address: string }[];
  partition: string;
}): string {
  const { dir } = options;
  const nodeNames = options.nodes.map(node => node.name).join(',');
  return [
    `ClusterName=${options.clusterName}`,
    `SlurmctldHost=${options.controllerHost}(${options.controllerAddress})`,
    `SlurmctldPort=${options.controllerPort}`,
    // Every node has a namespace of its own, so they can all listen on the same port.
    `SlurmdPort=${options.nodePort}`,
    'SlurmUser=root',
    'SlurmdUser=root',
    'AuthType=auth/munge',
    'CredType=cred/munge',
    `AuthInfo=socket=${options.mungeSocket}`,
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_Core',
    'ReturnToService=2',
    'AccountingStorageType=accounting_storage/none',
    'JobAcctGatherType=jobacct_gather/none',
    'JobCompType=jobcomp/none',
    'MpiDefault=none',
    'SchedulerType=sched/backfill',
    // Finished jobs stay visible to `scontrol show job` for 5 minutes.
    'MinJobAge=300',
    'KillWait=10',
    'InactiveLimit=0',
    `StateSaveLocation=${join(dir, 'state')}`,
    `SlurmdSpoolDir=${join(dir, 'spool', '%n')}`,
    `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
    `SlurmdPidFile=${join(dir, 'slurmd-%n.pid')}`,
    `SlurmctldLogFile=${join(dir, 'log', 'slurmctld.log')}`,
    `SlurmdLogFile=${join(dir, 'log', 'slurmd-%n.log')}`,
    'SlurmctldDebug=info',
    'SlurmdDebug=info',
    ...options.nodes.map(
      node =>
        `NodeName=${node.name} NodeHostname=${node.name} NodeAddr=${node.address} CPUs=${CPUS_PER_NODE} RealMemory=1000 State=UNKNOWN`
    ),
    `PartitionName=${options.partition} Nodes=${nodeNames} Default=YES MaxTime=INFINITE State=UP`,
    ''
  ].join('\n');
}

/**
 * slurmctld in the root namespace and one slurmd per node namespace. Each slurmd also gets a UTS
 * namespace (its own hostname) and a mount namespace whose /etc/hosts names every node, so a
 * job step sees the node it runs on as the host it is on.
 */
export class TestSlurm {
  private constructor(
    readonly info: SlurmInfo,
    private readonly network: TestbedNetwork,
    readonly daemons: Daemon[]
  ) {}

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, SLURM_CONF: this.info.slurmConf };
  }

  static async start(
    dir: string,
    network: TestbedNetwork,
    mungeSocket: string
  ): Promise<TestSlurm> {
    for (const sub of ['state', 'spool', 'log'])
      await mkdir(join(dir, sub), { recursive: true, mode: 0o700 });
    const [controllerPort, nodePort] = await pickFreePorts(2);
    if (controllerPort === undefined || nodePort === undefined) throw new Error('No free ports');
    const partition = 'debug';
    const controllerHost = hostname().split('.')[0] ?? hostname();
    const slurmConf = join(dir, 'slurm.conf');
    await writeFile(
      slurmConf,
      renderSlurmConf({
        clusterName: `pstb${network.suffix}`,
        controllerHost,
        controllerAddress: network.gateway,
        controllerPort,
        nodePort,
        mungeSocket,
        dir,
        nodes: network.nodes,
        partition
      })
    );
    const hostsPath = join(dir, 'hosts');
    await writeFile(
      hostsPath,
      [
        '127.0.0.1 localhost',
        `${network.gateway} ${controllerHost}`,
        ...network.nodes.map(node => `${node.address} ${node.name}`),
        ''
      ].join('\n')
    );
    const daemons: Daemon[] = [];
    const slurm = new TestSlurm(
      { slurmConf, hostsFile: hostsPath, partition, nodes: network.nodes },
      network,
      daemons
    );
    try {
      daemons.push(
        await startDaemon('slurmctld', ['/usr/sbin/slurmctld', '-D', '-f', slurmConf], {
          logPath: join(dir, 'log', 'slurmctld.out'),
          env: slurm.env
        })
      );
      for (const node of network.nodes) {
        await mkdir(join(dir, 'spool', node.name), { recursive: true, mode: 0o700 });
        // nsenter and unshare exec (no fork), and so does the shell: the pid is slurmd's.
        const script = `hostname ${node.name} && mount --bind ${hostsPath} /etc/hosts && exec /usr/sbin/slurmd -D -N ${node.name} -f ${slurmConf}`;
        daemons.push(
          await startDaemon(
            `slurmd ${node.name}`,
            [
              'nsenter',
              `--net=/run/netns/${node.netns}`,
              'unshare',
              '--mount',
              '--uts',
              '--',
              'sh',
              '-c',
              script
            ],
            { logPath: join(dir, 'log', `slurmd-${node.name}.out`), env: slurm.env }
          )
        );
      }
      await waitUntil(
        `${network.nodes.length} idle SLURM nodes`,
        async () => {
          const output = await run(['sinfo', '-h', '-N', '-o', '%N %t'], { env: slurm.env });
          const idle = output.split('\n').filter(line => / idle$/.test(line.trim()));
          return idle.length === network.nodes.length;
        },
        60_000,
        join(dir, 'log', 'slurmctld.log')
      );
    } catch (error) {
      await slurm.stop();
      throw error;
    }
    return slurm;
  }

  /** Cancels every job, then stops the daemons and anything still running in the nodes. */
  async stop(): Promise<void> {
    const problems: string[] = [];
    if (this.daemons.some(daemon => daemon.name === 'slurmctld')) {
      // Jobs left by a failed test: let SLURM end them the normal way first.
      await run(['scancel', '--full', `--partition=${this.info.partition}`], {
        env: this.env
      }).catch((error: Error) => problems.push(error.message));
    }
    for (const daemon of [...this.daemons].reverse()) {
      await stopDaemon(daemon).catch((error: Error) => problems.push(error.message));
    }
    // Job steps (slurmstepd and its tasks) may outlive slurmd: they are in our namespaces.
    for (const node of this.network.nodes) {
      await pidsInNamespace(node)
        .then(pids => stopPids(pids))
        .catch((error: Error) => problems.push(error.message));
    }
    if (problems.length > 0) throw new Error(`SLURM stopped with problems: ${problems.join('; ')}`);
  }
}
