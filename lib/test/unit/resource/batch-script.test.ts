import { describe, expect, it } from 'vitest';
import type { LaunchSpec } from '../../../src/resource/adaptor.js';
import { renderBatchScript } from '../../../src/resource/slurm/batch-script.js';

const spec: LaunchSpec = {
  pilotId: 'pilot-0123456789ab',
  workDir: '/home/alice/.pilot-streaming/pilots/pilot-0123456789ab',
  command: ['/usr/bin/node', '/opt/lib/supervisor/main.js', 'pilot-0123456789ab'],
  env: { PILOT_STREAMING_HOME: "/home/alice/it's here" },
  stdoutPath: '/home/alice/.pilot-streaming/pilots/pilot-0123456789ab/supervisor.out',
  stderrPath: '/home/alice/.pilot-streaming/pilots/pilot-0123456789ab/supervisor.log'
};

function directives(script: string): string[] {
  return script.split('\n').filter(line => line.startsWith('#SBATCH'));
}

describe('the SLURM batch script', () => {
  it('asks for nodes, one task per node, walltime, output files and working directory', () => {
    const script = renderBatchScript(spec, { numberOfNodes: 3, walltimeMinutes: 90 });
    expect(script.startsWith('#!/bin/sh\n')).toBe(true);
    expect(directives(script)).toEqual([
      '#SBATCH --job-name=pilot-0123456789ab',
      '#SBATCH --nodes=3',
      '#SBATCH --ntasks-per-node=1',
      '#SBATCH --time=90',
      `#SBATCH --chdir=${spec.workDir}`,
      `#SBATCH --output=${spec.stdoutPath}`,
      `#SBATCH --error=${spec.stderrPath}`
    ]);
  });

  it('honours cores per node, queue, project, reservation and extra options', () => {
    const script = renderBatchScript(spec, {
      numberOfNodes: 2,
      coresPerNode: 16,
      walltimeMinutes: 30,
      queue: 'debug',
      project: 'astro42',
      reservation: 'beamtime',
      exclusive: true,
      schedulerOptions: ['--qos=high', '--constraint=haswell', '--mail-type=END']
    });
    const lines = directives(script);
    expect(lines).toContain('#SBATCH --exclusive');
    expect(lines).toContain('#SBATCH --cpus-per-task=16');
    expect(lines).toContain('#SBATCH --partition=debug');
    expect(lines).toContain('#SBATCH --account=astro42');
    expect(lines).toContain('#SBATCH --reservation=beamtime');
    expect(lines.slice(-3)).toEqual([
      '#SBATCH --qos=high',
      '#SBATCH --constraint=haswell',
      '#SBATCH --mail-type=END'
    ]);
  });

  it('exports the environment quoted and execs the command', () => {
    const script = renderBatchScript(spec, { numberOfNodes: 1, walltimeMinutes: 5 });
    expect(script).toContain(`export PILOT_STREAMING_HOME='/home/alice/it'\\''s here'\n`);
    expect(script.trimEnd().split('\n').at(-1)).toBe(
      'exec /usr/bin/node /opt/lib/supervisor/main.js pilot-0123456789ab'
    );
  });

  it('double-quotes directive values with spaces and refuses what cannot be written', () => {
    const spaced = renderBatchScript(
      { ...spec, workDir: '/data/my pilots/p1' },
      { numberOfNodes: 1, walltimeMinutes: 5 }
    );
    expect(directives(spaced)).toContain('#SBATCH --chdir="/data/my pilots/p1"');
    expect(() =>
      renderBatchScript({ ...spec, workDir: '/x"y' }, { numberOfNodes: 1, walltimeMinutes: 5 })
    ).toThrow(/--chdir value "\/x\\"y"/);
    expect(() =>
      renderBatchScript(spec, {
        numberOfNodes: 1,
        walltimeMinutes: 5,
        schedulerOptions: ['--qos=a\n#SBATCH --nodes=100']
      })
    ).toThrow(/schedulerOptions entry/);
    expect(() =>
      renderBatchScript(spec, { numberOfNodes: 1, walltimeMinutes: 5, schedulerOptions: ['qos'] })
    ).toThrow(/starting with "-"/);
  });
});
