import { shellCommand, shellQuote } from '../../remote/shell-quote.js';
import type { LaunchSpec, ResourceRequest } from '../adaptor.js';

/**
 * One #SBATCH option. sbatch reads directive values up to whitespace unless double-quoted, so
 * values with spaces are quoted; a newline or a double quote could not be expressed.
 */
function directive(option: string, value?: string): string {
  if (value === undefined) return `#SBATCH ${option}`;
  if (/["\n\r]/.test(value)) {
    throw new Error(
      `${option} value ${JSON.stringify(value)} cannot go into a batch script: expected no double quote or line break`
    );
  }
  return `#SBATCH ${option}=${/\s/.test(value) ? `"${value}"` : value}`;
}

function checkedSchedulerOption(option: string): string {
  if (!/^--?[A-Za-z]/.test(option) || /[\n\r]/.test(option)) {
    throw new Error(
      `schedulerOptions entry ${JSON.stringify(option)}: expected one sbatch option such as "--qos=debug" (starting with "-", on one line)`
    );
  }
  return `#SBATCH ${option}`;
}

/**
 * The sbatch script that holds a pilot: one task per node on `numberOfNodes` nodes
 * (--ntasks-per-node=1), each task with `coresPerNode` cores (--cpus-per-task), so the pilot's
 * bootstrap can start one framework process per node with `srun` and have those cores reserved
 * (and the whole nodes with `exclusive`);
 * --time from walltimeMinutes; --partition, --account, --reservation from queue, project,
 * reservation; then the extra scheduler options as given. The script exports the launch
 * environment and `exec`s the command, so that scancel's and the time limit's SIGTERM reach it.
 */
export function renderBatchScript(spec: LaunchSpec, resources: ResourceRequest): string {
  const lines = [
    '#!/bin/sh',
    directive('--job-name', spec.pilotId),
    directive('--nodes', String(resources.numberOfNodes)),
    directive('--ntasks-per-node', '1'),
    ...(resources.coresPerNode !== undefined
      ? [directive('--cpus-per-task', String(resources.coresPerNode))]
      : []),
    ...(resources.exclusive === true ? [directive('--exclusive')] : []),
    directive('--time', String(resources.walltimeMinutes)),
    ...(resources.queue !== undefined ? [directive('--partition', resources.queue)] : []),
    ...(resources.project !== undefined ? [directive('--account', resources.project)] : []),
    ...(resources.reservation !== undefined
      ? [directive('--reservation', resources.reservation)]
      : []),
    directive('--chdir', spec.workDir),
    directive('--output', spec.stdoutPath),
    directive('--error', spec.stderrPath),
    ...(resources.schedulerOptions ?? []).map(checkedSchedulerOption),
    '',
    ...Object.entries(spec.env).map(([key, value]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
        throw new Error(
          `Environment variable name ${JSON.stringify(key)} is not a valid shell name`
        );
      }
      return `export ${key}=${shellQuote(value)}`;
    }),
    `exec ${shellCommand(spec.command)}`,
    ''
  ];
  return lines.join('\n');
}
