import { hostname } from 'node:os';

/**
 * The name of the node this process runs on, as the scheduler knows it: inside a SLURM job
 * SLURMD_NODENAME (the slurm.conf NodeName, which SLURM_JOB_NODELIST and srun --nodelist use),
 * which may differ from the host name (a short NodeName on a host with a qualified name, or
 * several slurmd on one host); elsewhere the host name.
 */
export function thisNodeName(env: NodeJS.ProcessEnv = process.env, host = hostname()): string {
  const slurmName = env.SLURMD_NODENAME;
  return slurmName !== undefined && slurmName !== '' ? slurmName : host;
}
