import type { KafkaDetails } from '../../protocol/index.js';
import type { ProgressListener } from '../plugin.js';
import type { KafkaDistribution } from './distribution.js';
import type { ClusterAccess } from './membership.js';
import { drainBrokers, liveBrokerIds, spreadPartitions, unregisterBrokers } from './membership.js';

/** A child pilot's brokers inside its parent's cluster, and what acting on the cluster needs. */
export interface ClusterExtension {
  /** The child's own brokers. */
  ours: KafkaDetails['brokers'];
  distribution: KafkaDistribution;
  /** A private directory of the child for the tools' temporary files. */
  workDir: string;
  onProgress: ProgressListener;
  log: (message: string) => void;
  /** The child's TLS files, unless the cluster listens PLAINTEXT. */
  tls?: ClusterAccess['tls'];
}

/** How long stopped brokers may stay listed (Kafka fences them after 9 s by default). */
const FENCE_TIMEOUT_MS = 30_000;
/** How long moving a child's partitions away may take before its brokers stop anyway. */
const DRAIN_TIMEOUT_MS = 120_000;

/** The `tls` of a ClusterAccess, present only when the extension has one. */
function tlsOf(extension: ClusterExtension): Pick<ClusterAccess, 'tls'> {
  return extension.tls !== undefined ? { tls: extension.tls } : {};
}

function bootstrapOf(brokers: KafkaDetails['brokers']): string[] {
  return brokers.map(broker => `${broker.host}:${broker.port}`);
}

/** Once the child's brokers have joined: spreads the existing topics over all live brokers. */
export async function spreadOntoNewBrokers(extension: ClusterExtension): Promise<void> {
  const bootstrapServers = bootstrapOf(extension.ours);
  const brokerIds = await liveBrokerIds({ bootstrapServers, ...tlsOf(extension) });
  extension.onProgress({ stage: `Spreading partitions over brokers ${brokerIds.join(', ')}` });
  const { moves, durationMs } = await spreadPartitions({
    bootstrapServers,
    ...tlsOf(extension),
    brokerIds,
    distribution: extension.distribution,
    workDir: extension.workDir,
    onProgress: extension.onProgress
  });
  extension.log(
    `spread partitions over brokers ${brokerIds.join(', ')}: ${moves.length} moved in ${durationMs} ms`
  );
}

/**
 * Before the child's brokers stop: moves every replica they hold onto the cluster's other live
 * brokers, so nothing is lost when they go.
 */
export async function drainOurBrokers(extension: ClusterExtension): Promise<void> {
  const ours = extension.ours.map(broker => broker.nodeId);
  const live = await liveBrokerIds({
    bootstrapServers: bootstrapOf(extension.ours),
    ...tlsOf(extension)
  });
  const keep = live.filter(id => !ours.includes(id));
  if (keep.length === 0) {
    throw new Error(
      `No broker of the parent cluster is live (metadata lists ${live.join(', ')}): the partitions of brokers ${ours.join(', ')} have nowhere to go`
    );
  }
  const { moves, durationMs } = await drainBrokers({
    bootstrapServers: bootstrapOf(extension.ours),
    ...tlsOf(extension),
    remove: ours,
    keep,
    distribution: extension.distribution,
    workDir: extension.workDir,
    onProgress: extension.onProgress,
    timeoutMs: DRAIN_TIMEOUT_MS
  });
  extension.log(
    `moved ${moves.length} partitions off brokers ${ours.join(', ')} onto ${keep.join(', ')} in ${durationMs} ms`
  );
}

/** After the child's brokers stopped: removes their registrations from the parent's cluster. */
export async function unregisterOurBrokers(
  extension: ClusterExtension,
  parentBootstrap: string[]
): Promise<void> {
  const ids = extension.ours.map(broker => broker.nodeId);
  // A broker that could not shut down in a controlled way stays listed until its session with
  // the controller times out (broker.session.timeout.ms); it can only be unregistered after.
  const deadline = Date.now() + FENCE_TIMEOUT_MS;
  for (;;) {
    const live = await liveBrokerIds({ bootstrapServers: parentBootstrap, ...tlsOf(extension) });
    const listed = ids.filter(id => live.includes(id));
    if (listed.length === 0) break;
    if (Date.now() > deadline) {
      throw new Error(
        `brokers ${listed.join(', ')} are still in the metadata ${FENCE_TIMEOUT_MS / 1000} s after they stopped`
      );
    }
    await new Promise(resolve => setTimeout(resolve, 500));
  }
  const { unregistered } = await unregisterBrokers({
    bootstrapServers: parentBootstrap,
    ...tlsOf(extension),
    ids,
    distribution: extension.distribution,
    workDir: extension.workDir,
    timeoutMs: 60_000
  });
  extension.log(`unregistered brokers ${unregistered.join(', ')} from the cluster`);
}

/** The parent's details with a child's brokers added (the parent's details list every node). */
export function withChildBrokers(parent: KafkaDetails, child: KafkaDetails): KafkaDetails {
  const known = new Set(parent.brokers.map(broker => broker.nodeId));
  const added = child.brokers.filter(broker => !known.has(broker.nodeId));
  return {
    ...parent,
    brokers: [...parent.brokers, ...added],
    bootstrapServers: [...parent.bootstrapServers, ...bootstrapOf(added)]
  };
}

/** The parent's details without the brokers of child pilot `childId`. */
export function withoutChildBrokers(parent: KafkaDetails, childId: string): KafkaDetails {
  const leaving = parent.brokers.filter(broker => broker.pilotId === childId);
  const gone = new Set(bootstrapOf(leaving));
  return {
    ...parent,
    brokers: parent.brokers.filter(broker => broker.pilotId !== childId),
    bootstrapServers: parent.bootstrapServers.filter(server => !gone.has(server))
  };
}
