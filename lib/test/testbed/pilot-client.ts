import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PilotComputeService, type Pilot } from '../../src/pilot/index.js';
import { isTerminal } from '../../src/protocol/index.js';
import type { SshdInfo } from './sshd.js';
import type { TestbedInfo } from './testbed.js';

/** A pilot client on this host for the testbed's cluster, through one of its login sshds. */
export interface PilotClient {
  service: PilotComputeService;
  /** slurm+ssh://user@host:port of the login sshd. */
  resource: string;
  /** The client's pilot home (registry) on this host. */
  home: string;
  /** The pilot home on the resource (what PILOT_STREAMING_REMOTE_HOME would name). */
  resourceHome: string;
  cacheDir: string;
  /** The cache on the resource (what PILOT_STREAMING_REMOTE_CACHE would name). */
  remoteCacheDir: string;
  /** Cancels pilots still running, closes the service, removes both homes, restores the env. */
  close(pilots: (Pilot | undefined)[]): Promise<void>;
}

/**
 * Sets PILOT_STREAMING_SSH_KNOWN_HOSTS / _IDENTITY to the login sshd's files (as a user would
 * configure them; child processes inherit them) and makes a service with fresh homes under the
 * testbed's directory. The resource's cache is this machine's (the cluster shares it, so Kafka
 * is there and the library's bundle is staged once a run) unless `remoteCacheDir` names another.
 */
export async function openPilotClient(
  testbed: TestbedInfo,
  ssh: SshdInfo,
  options: { remoteCacheDir?: string } = {}
): Promise<PilotClient> {
  const cacheDir = process.env.PILOT_STREAMING_CACHE;
  if (cacheDir === undefined) throw new Error('PILOT_STREAMING_CACHE must name the Kafka cache');
  const saved = {
    PILOT_STREAMING_SSH_KNOWN_HOSTS: process.env.PILOT_STREAMING_SSH_KNOWN_HOSTS,
    PILOT_STREAMING_SSH_IDENTITY: process.env.PILOT_STREAMING_SSH_IDENTITY
  };
  process.env.PILOT_STREAMING_SSH_KNOWN_HOSTS = ssh.knownHostsPath;
  process.env.PILOT_STREAMING_SSH_IDENTITY = ssh.identityPath;
  const home = await mkdtemp(join(testbed.dir, 'client-'));
  const resourceHome = await mkdtemp(join(testbed.dir, 'resource-'));
  const remoteCacheDir = options.remoteCacheDir ?? cacheDir;
  const service = new PilotComputeService({
    home,
    cacheDir,
    remote: { home: resourceHome, cacheDir: remoteCacheDir }
  });
  return {
    service,
    resource: `slurm+ssh://${ssh.user}@${ssh.host}:${ssh.port}`,
    home,
    resourceHome,
    cacheDir,
    remoteCacheDir,
    async close(pilots) {
      try {
        for (const pilot of pilots) {
          if (pilot !== undefined && !isTerminal((await pilot.refresh()).state)) {
            await pilot.cancel();
          }
        }
        await service.close();
      } finally {
        for (const [key, value] of Object.entries(saved)) {
          if (value === undefined) delete process.env[key];
          else process.env[key] = value;
        }
        await rm(home, { recursive: true, force: true });
        await rm(resourceHome, { recursive: true, force: true });
      }
    }
  };
}
