import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { run } from './command.js';
import { waitUntil } from './daemons.js';
import { sshCommand } from './sshd.js';

const testbed = inject('testbed');
const env = { ...process.env, ...testbed.env };

/** Runs a shell command on the login node (the testbed's sshd), its host key verified. */
function onLoginNode(command: string): Promise<string> {
  return run([...sshCommand(testbed.ssh), command]);
}

describe('the testbed', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(testbed.dir, 'verify-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('shows every node idle in sinfo', async () => {
    const output = await run(['sinfo', '-h', '-N', '-o', '%N %t'], { env });
    const lines = output.trim().split('\n').sort();
    expect(lines).toEqual(testbed.slurm.nodes.map(node => `${node.name} idle`).sort());
  });

  it('runs a 3-node batch job whose steps each report their own hostname', async () => {
    const script = join(dir, 'hostnames.sh');
    await writeFile(script, '#!/bin/sh\nsrun --ntasks-per-node=1 hostname\n', { mode: 0o700 });
    const output = join(dir, 'hostnames.out');
    const jobId = (
      await run(
        ['sbatch', '--parsable', '-N', '3', `--output=${output}`, `--chdir=${dir}`, script],
        {
          env
        }
      )
    ).trim();
    await waitUntil(
      `job ${jobId} to complete`,
      async () => /JobState=COMPLETED/.test(await run(['scontrol', 'show', 'job', jobId], { env })),
      60_000
    );
    const hostnames = (await readFile(output, 'utf8')).trim().split('\n').sort();
    expect(hostnames).toHaveLength(3);
    expect(new Set(hostnames).size).toBe(3);
    for (const name of hostnames)
      expect(testbed.slurm.nodes.map(node => node.name)).toContain(name);
  });

  it('answers sinfo over ssh with the host key verified', async () => {
    const output = await onLoginNode('sinfo -h -o %D');
    expect(Number(output.trim())).toBe(testbed.slurm.nodes.length);
  });

  it('resolves the node names on the login node (the sshd side), as a cluster would', async () => {
    const node = testbed.slurm.nodes[1];
    const output = await onLoginNode(`getent hosts ${node?.name}`);
    expect(output.trim().split(/\s+/)).toEqual([node?.address, node?.name]);
  });
});
