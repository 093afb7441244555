import { execFile } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { pickFreePorts } from '../frameworks/free-ports.js';
import { expandHostlist } from '../resource/slurm/hostlist.js';
import { thisNodeName } from './node-name.js';
import { entryArguments } from '../entry-points/roles.js';

/** One node of a pilot's allocation, as the supervisor sees it. */
export interface PilotNode {
  /** Host name as the scheduler knows it ("node2"); unique within the allocation. */
  name: string;
  /** Address the pilot's services on this node listen on and advertise. */
  address: string;
  /**
   * argv prefix that runs a command on this node from the supervisor: empty on the supervisor's
   * own node, an `srun` job step on the other nodes of a SLURM allocation. A SIGTERM to the
   * prefixed process reaches the command (srun forwards it to its task).
   */
  launcher: string[];
}

/**
 * The nodes of the allocation this process runs in: every node of SLURM_JOB_NODELIST inside a
 * SLURM job (this node first, found by its SLURM name), else just this host on loopback
 * (fork://, ssh://).
 */
export async function allocationNodes(env: NodeJS.ProcessEnv = process.env): Promise<PilotNode[]> {
  const nodeList = env.SLURM_JOB_NODELIST;
  if (env.SLURM_JOB_ID === undefined || nodeList === undefined || nodeList === '') {
    return [{ name: thisNodeName(env), address: '127.0.0.1', launcher: [] }];
  }
  const self = thisNodeName(env);
  const names = expandHostlist(nodeList);
  if (!names.includes(self)) {
    throw new Error(
      `This node (${self}) is not in the job's node list SLURM_JOB_NODELIST=${nodeList}: expected the batch script to run on one of its nodes`
    );
  }
  const ordered = [self, ...names.filter(name => name !== self)];
  return Promise.all(
    ordered.map(async name => ({
      name,
      address: await addressOf(name),
      launcher: name === self ? [] : srunOn(name)
    }))
  );
}

/** A job step of one task on `node` that shares the job's CPUs with the pilot's other steps. */
function srunOn(node: string): string[] {
  return [
    'srun',
    '--nodes=1',
    '--ntasks=1',
    `--nodelist=${node}`,
    '--overlap',
    '--quiet',
    '--kill-on-bad-exit=0',
    '--'
  ];
}

async function addressOf(node: string): Promise<string> {
  try {
    return (await lookup(node, { family: 4 })).address;
  } catch (error) {
    throw new Error(
      `Cannot resolve the address of node ${node}: ${(error as Error).message}; the pilot's services listen on the nodes' addresses`,
      { cause: error }
    );
  }
}

/**
 * `count` TCP ports free right now on `node`'s address, chosen on that node (ports free on the
 * supervisor's node say nothing about another node). Callers retry on EADDRINUSE.
 */
export async function freePortsOn(node: PilotNode, count: number): Promise<number[]> {
  if (node.launcher.length === 0) return pickFreePorts(count, node.address);
  const argv = [
    ...node.launcher,
    process.execPath,
    ...entryArguments('free-ports'),
    node.address,
    String(count)
  ];
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 60_000 }, (error, out, err) => {
      if (error !== null) {
        reject(
          new Error(`Cannot pick free ports on ${node.name}: ${err.trim() || error.message}`, {
            cause: error
          })
        );
      } else resolve(out);
    });
  });
  const ports = stdout.trim().split(/\s+/).map(Number);
  if (ports.length !== count || ports.some(port => !Number.isInteger(port) || port <= 0)) {
    throw new Error(
      `Picking free ports on ${node.name} printed ${JSON.stringify(stdout)}: expected ${count} port numbers`
    );
  }
  return ports;
}
