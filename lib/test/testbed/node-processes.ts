import { readFile } from 'node:fs/promises';
import { run } from './command.js';
import type { TestbedInfo } from './testbed.js';

/**
 * Processes running in the testbed nodes' namespaces (the testbed's own slurmd excepted), on the
 * nodes named in `only` when given.
 */
export async function processesOnNodes(
  testbed: TestbedInfo,
  only?: readonly string[]
): Promise<string[]> {
  const left: string[] = [];
  const nodes = testbed.slurm.nodes.filter(node => only === undefined || only.includes(node.name));
  for (const node of nodes) {
    const pids = (await run(['ip', 'netns', 'pids', node.netns])).split('\n').filter(Boolean);
    for (const pid of pids) {
      const command = await readFile(`/proc/${pid}/cmdline`, 'utf8').then(
        text => text.split('\0').join(' ').trim(),
        () => ''
      );
      if (command !== '' && !command.includes('slurmd -D')) left.push(`${node.name}: ${command}`);
    }
  }
  return left;
}

/** Waits until no process runs in the nodes' namespaces; the error lists those still there. */
export async function waitForIdleNodes(testbed: TestbedInfo, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = await processesOnNodes(testbed);
    if (left.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `${left.length} processes still run on the nodes after ${timeoutMs} ms: ${left.join('; ')}`
      );
    }
    await new Promise(resolve => setTimeout(resolve, 250));
  }
}

/**
 * The pid and node of a process on one of the nodes whose argv is `program` (by its base name)
 * with all of `args`; the error lists what runs on the nodes.
 */
export async function processOnNodes(
  testbed: TestbedInfo,
  program: string,
  args: readonly string[]
): Promise<{ pid: number; node: string }> {
  for (const node of testbed.slurm.nodes) {
    const pids = (await run(['ip', 'netns', 'pids', node.netns])).split('\n').filter(Boolean);
    for (const pid of pids) {
      const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
      if (argv[0]?.split('/').at(-1) === program && args.every(arg => argv.includes(arg))) {
        return { pid: Number(pid), node: node.name };
      }
    }
  }
  throw new Error(
    `No ${program} process with ${args.join(' ')} on any node; there are: ${(await processesOnNodes(testbed)).join('; ')}`
  );
}
