import { z } from 'zod';
import { PILOT_TYPES, pilotIdSchema, type PilotDescription } from './description.js';
import { PILOT_STATES, type PilotState } from './states.js';
import type { AgentEndpoint } from './units.js';

/** One transition in a pilot's life. */
export interface StateChange {
  state: PilotState;
  /** ISO-8601 time of the transition. */
  at: string;
  /** Why, for Failed and Canceled (and anything else worth saying). */
  reason?: string;
}

/** Connection details a framework publishes once it is Running. */
export interface KafkaDetails {
  type: 'kafka';
  /** host:port list, as kafkajs `brokers` wants it. */
  bootstrapServers: string[];
  /** Every live broker of the cluster, with the node it runs on (children's nodes included). */
  brokers: { nodeId: number; host: string; port: number; node?: string; pilotId?: string }[];
  /** The KRaft controller quorum (node id, controller listener). */
  controllers?: { nodeId: number; host: string; port: number }[];
  /** The next free node id: extending pilots reserve theirs from here. */
  nextNodeId?: number;
  clusterId: string;
  kafkaVersion: string;
  /**
   * How the listeners are secured: "tls" (mutual TLS; clients need the pilot's certificate,
   * which is read from the pilot's work directory and never put in a record) or "plaintext"
   * (only on explicit request). Records from before this field had plaintext listeners.
   */
  security?: 'tls' | 'plaintext';
}

/** A Dask cluster: a scheduler and a worker process group per node, mutual TLS throughout. */
export interface DaskDetails {
  type: 'dask';
  /** The scheduler's address as a distributed.Client takes it ("tls://host:port"). */
  schedulerAddress: string;
  /**
   * The scheduler's dashboard ("https://host:port"), mutual TLS like the scheduler: browsers
   * reach it through the Jupyter server's dashboard proxy (see `dashboardPath`).
   */
  dashboardAddress?: string;
  /** The worker process groups, one per node (children's included), by the node they run on. */
  workers: { name: string; node: string; pilotId?: string }[];
  daskVersion: string;
  /**
   * Scheduler, workers and clients authenticate each other with certificates of the pilot's
   * authority, read from the pilot's work directory (never put in a record).
   */
  security: 'tls';
}

/** A Spark standalone cluster: a master, a worker per node and a Spark Connect server. */
export interface SparkDetails {
  type: 'spark';
  /** The master ("spark://host:port"); its RPC takes only peers with the pilot's secret. */
  masterUrl: string;
  /**
   * Spark Connect ("host:port"), through the pilot's mutual-TLS front: clients present the
   * pilot's certificate and its Connect token, both read from the pilot's work directory.
   */
  connectAddress: string;
  /** The master's web UI ("https://host:port"), mutual TLS. */
  masterUiAddress: string;
  /** The worker on each node (children's included). */
  workers: { node: string; address: string; pilotId?: string }[];
  sparkVersion: string;
  /** RPC authenticated and encrypted with a per-pilot secret; UIs and Connect mutual TLS. */
  security: 'tls';
}

/** A Flink session cluster: a JobManager, a TaskManager per node and the SQL Gateway. */
export interface FlinkDetails {
  type: 'flink';
  /** The JobManager's REST API and web UI ("https://host:port"), mutual TLS. */
  restAddress: string;
  /** The SQL Gateway's REST API ("https://host:port"), mutual TLS. */
  sqlGatewayAddress: string;
  /** The JobManager's RPC endpoint ("host:port"), which a child's TaskManagers join. */
  rpcAddress: string;
  /** The TaskManager on each node (children's included), by its resource id. */
  taskManagers: { node: string; address: string; id: string; pilotId?: string }[];
  flinkVersion: string;
  /**
   * RPC, blob and data transfers between the pilot's processes TLS with its authority's
   * certificates; REST endpoints mutual TLS: clients present the pilot's client certificate,
   * read from the pilot's work directory.
   */
  security: 'tls';
}

export type FrameworkDetails = KafkaDetails | DaskDetails | SparkDetails | FlinkDetails;

/**
 * Where clients reach a running framework (Kafka's bootstrap servers, Dask's scheduler, Spark
 * Connect, Flink's SQL Gateway).
 */
export function endpointOf(details: FrameworkDetails): string {
  switch (details.type) {
    case 'kafka':
      return details.bootstrapServers.join(',');
    case 'dask':
      return details.schedulerAddress;
    case 'spark':
      return details.connectAddress;
    case 'flink':
      return details.sqlGatewayAddress;
  }
}

/** Where the Jupyter server shows pilots' dashboards (jupyter-server-proxy's name for it). */
export const DASHBOARD_PREFIX = 'pilot-dashboards';

/**
 * The page of a pilot's dashboard relative to the Jupyter server's base URL, when its framework
 * shows one (a Dask pilot's scheduler, a Spark pilot's master UI, a Flink pilot's JobManager
 * UI); undefined otherwise.
 */
export function dashboardPath(record: Pick<PilotRecord, 'id' | 'details'>): string | undefined {
  const details = record.details;
  if (details?.type === 'dask' && details.dashboardAddress !== undefined) {
    return `${DASHBOARD_PREFIX}/${record.id}/status`;
  }
  if (details?.type === 'spark' || details?.type === 'flink') {
    return `${DASHBOARD_PREFIX}/${record.id}/`;
  }
  return undefined;
}

/** What `endpointOf` gives, in words ("bootstrap servers", "scheduler"). */
export function endpointLabel(details: FrameworkDetails): string {
  switch (details.type) {
    case 'kafka':
      return 'bootstrap servers';
    case 'dask':
      return 'scheduler';
    case 'spark':
      return 'Spark Connect';
    case 'flink':
      return 'SQL Gateway';
  }
}

/** The process (or batch job) that holds the pilot on its resource. */
export interface JobHandle {
  /** Adaptor-specific job id: a pid for fork://, a SLURM job id later. */
  jobId: string;
  /** For fork://: the supervisor's pid and its start time (guards against pid reuse). */
  pid?: number;
  pidStartTime?: string;
  /** Host the job runs on. */
  host: string;
}

/** The durable record of a pilot, as stored in the registry and shown to the browser. */
export interface PilotRecord {
  /** Record format version, raised when the shape changes incompatibly. */
  format: 1;
  id: string;
  description: PilotDescription;
  state: PilotState;
  reason?: string;
  history: StateChange[];
  /** Monotonic counter, raised by every write (optimistic concurrency and change detection). */
  revision: number;
  createdAt: string;
  updatedAt: string;
  /**
   * ISO-8601 time the pilot's job started running on its resource (its supervisor's start, after
   * any time in the scheduler's queue): the walltime counts from here.
   */
  startedAt?: string;
  /** Directory on the resource holding the pilot's config, storage and logs. */
  workDir?: string;
  /**
   * For resources reached over ssh: the pilot home on the resource, where the pilot's supervisor
   * keeps its own copy of this record (registry/<id>.json), which the client mirrors.
   */
  resourceHome?: string;
  /** Revision of the resource's copy last mirrored into this record. */
  mirroredRevision?: number;
  job?: JobHandle;
  details?: FrameworkDetails;
  /** The pilot agents (one per node) that run compute units; set with Running. */
  agents?: AgentEndpoint[];
  /** Latest progress of start-up (stage name and fraction), cleared once Running. */
  progress?: { stage: string; fraction?: number };
}

/** The short form the panel lists. */
export interface PilotSummary {
  id: string;
  name?: string;
  type: PilotDescription['type'];
  resource: string;
  state: PilotState;
  reason?: string;
  createdAt: string;
  updatedAt: string;
  details?: FrameworkDetails;
  progress?: { stage: string; fraction?: number };
}

export function summarize(record: PilotRecord): PilotSummary {
  return {
    id: record.id,
    ...(record.description.name !== undefined ? { name: record.description.name } : {}),
    type: record.description.type,
    resource: record.description.resource,
    state: record.state,
    ...(record.reason !== undefined ? { reason: record.reason } : {}),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    ...(record.details !== undefined ? { details: record.details } : {}),
    ...(record.progress !== undefined ? { progress: record.progress } : {})
  };
}

const stateSchema = z.enum(PILOT_STATES);

/**
 * What every stored pilot record must have for the tools to work with it. Loose: fields added
 * later pass through, and the description is not checked against today's input rules (a record
 * written under older rules stays readable).
 */
export const pilotRecordSchema = z.looseObject({
  format: z.literal(1),
  id: pilotIdSchema,
  description: z.looseObject({
    type: z.enum(PILOT_TYPES),
    resource: z.string(),
    numberOfNodes: z.number().int().min(1),
    walltimeMinutes: z.number().positive()
  }),
  state: stateSchema,
  history: z.array(z.looseObject({ state: stateSchema, at: z.string() })),
  revision: z.number().int().min(1),
  createdAt: z.string(),
  updatedAt: z.string(),
  job: z
    .looseObject({
      jobId: z.string(),
      host: z.string(),
      pid: z.number().int().positive().optional(),
      pidStartTime: z.string().optional()
    })
    .optional()
});
