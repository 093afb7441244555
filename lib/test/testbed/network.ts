import { randomBytes, randomInt } from 'node:crypto';
import { run } from './command.js';

/** A simulated host: a network namespace with one address, reached through the bridge. */
export interface NodeNamespace {
  name: string;
  netns: string;
  address: string;
}

/**
 * A bridge in the root namespace and one network namespace per node, joined by veth pairs, on a
 * private /24 picked at random among those not in use here. Names carry a random suffix, so two
 * runs on one machine do not collide.
 */
export interface TestbedNetwork {
  suffix: string;
  bridge: string;
  /** The root namespace's address on the bridge: what the nodes reach the controller at. */
  gateway: string;
  nodes: NodeNamespace[];
}

async function subnetsInUse(): Promise<Set<string>> {
  const output = await run(['ip', '-o', '-4', 'addr', 'show']);
  const used = new Set<string>();
  for (const match of output.matchAll(/inet (\d+\.\d+\.\d+)\.\d+\//g)) used.add(match[1] ?? '');
  return used;
}

/** Creates the bridge and `count` node namespaces; on failure, removes what it made. */
export async function createNetwork(count: number): Promise<TestbedNetwork> {
  const suffix = randomBytes(3).toString('hex');
  const used = await subnetsInUse();
  let prefix: string;
  do prefix = `10.${randomInt(100, 250)}.${randomInt(0, 256)}`;
  while (used.has(prefix));
  const network: TestbedNetwork = {
    suffix,
    bridge: `psbr${suffix}`,
    gateway: `${prefix}.1`,
    nodes: []
  };
  try {
    await run(['ip', 'link', 'add', network.bridge, 'type', 'bridge']);
    await run(['ip', 'addr', 'add', `${network.gateway}/24`, 'dev', network.bridge]);
    await run(['ip', 'link', 'set', network.bridge, 'up']);
    for (let index = 1; index <= count; index++) {
      const node: NodeNamespace = {
        name: `node${index}`,
        netns: `ps${suffix}-node${index}`,
        address: `${prefix}.${10 + index}`
      };
      const hostSide = `psv${suffix}n${index}`;
      await run(['ip', 'netns', 'add', node.netns]);
      network.nodes.push(node);
      await run([
        'ip',
        'link',
        'add',
        hostSide,
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'netns',
        node.netns
      ]);
      await run(['ip', 'link', 'set', hostSide, 'master', network.bridge, 'up']);
      await run(['ip', '-n', node.netns, 'addr', 'add', `${node.address}/24`, 'dev', 'eth0']);
      await run(['ip', '-n', node.netns, 'link', 'set', 'eth0', 'up']);
      await run(['ip', '-n', node.netns, 'link', 'set', 'lo', 'up']);
    }
  } catch (error) {
    await deleteNetwork(network);
    throw error;
  }
  return network;
}

/** Pids of the processes still inside a node's namespace. */
export async function pidsInNamespace(node: NodeNamespace): Promise<number[]> {
  const output = await run(['ip', 'netns', 'pids', node.netns]);
  return output
    .split('\n')
    .filter(line => /^\d+$/.test(line.trim()))
    .map(Number);
}

/** Deletes the namespaces (their veth pairs go with them) and the bridge. */
export async function deleteNetwork(network: TestbedNetwork): Promise<void> {
  const problems: string[] = [];
  for (const node of network.nodes) {
    await run(['ip', 'netns', 'del', node.netns]).catch((error: Error) =>
      problems.push(error.message)
    );
  }
  const links = await run(['ip', '-o', 'link', 'show']);
  if (links.includes(`${network.bridge}:`)) {
    await run(['ip', 'link', 'del', network.bridge]).catch((error: Error) =>
      problems.push(error.message)
    );
  }
  if (problems.length > 0)
    throw new Error(`Testbed network not fully removed: ${problems.join('; ')}`);
}
