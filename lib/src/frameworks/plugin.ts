import type { Duplex } from 'node:stream';
import type { ISocketFactory } from 'kafkajs';
import type { PilotNode } from '../allocation/nodes.js';
import type {
  FrameworkDetails,
  PilotDescription,
  PilotType,
  ValidationProblem
} from '../protocol/index.js';

/** Progress of a long step, for CLI bars and panel spinners. */
export interface Progress {
  stage: string;
  /** 0..1 when known. */
  fraction?: number;
}
export type ProgressListener = (progress: Progress) => void;

/** What a framework's start gets from the pilot's supervisor. */
export interface BootstrapOptions {
  pilotId: string;
  description: PilotDescription;
  workDir: string;
  onProgress: ProgressListener;
  signal: AbortSignal;
  /** The allocation's nodes, the supervisor's own first; the framework runs on all of them. */
  nodes: PilotNode[];
  /** Set when this pilot extends a running parent's cluster instead of starting its own. */
  parent?: ParentCluster;
  /** The supervisor's log, for what the framework does on its own (e.g. moving partitions). */
  log: (message: string) => void;
}

/** Runs on the resource, inside the pilot's supervisor process. */
export interface FrameworkBootstrap {
  /** Starts the framework and resolves once it really serves requests. */
  start(options: BootstrapOptions): Promise<RunningFramework>;
}

/** The running cluster a child pilot joins, and the node ids reserved for the child. */
export interface ParentCluster<Details extends FrameworkDetails = FrameworkDetails> {
  pilotId: string;
  details: Details;
  /** The child's nodes get the ids firstNodeId, firstNodeId + 1, ... */
  firstNodeId: number;
  /** The parent's work directory (same resource): a child's brokers use its TLS authority. */
  workDir?: string;
}

export interface RunningFramework {
  details: FrameworkDetails;
  /** Resolves (or rejects with a reason) when the framework ends on its own. */
  exited: Promise<string>;
  /** Graceful stop: SIGTERM, then SIGKILL after graceMs; resolves once nothing is left. */
  stop(graceMs: number): Promise<void>;
}

/** A program a context keeps running on the pilot's resource (e.g. a Dask bridge). */
export interface ResourceProcess {
  stdin: NodeJS.WritableStream;
  stdout: NodeJS.ReadableStream;
  stderr: NodeJS.ReadableStream;
  /** Resolves when it has ended, with its exit code or signal. */
  exited: Promise<{ code: number | null; signal: string | null }>;
  kill: () => void;
  /** Whether it keeps this process's event loop alive (a child process here; omitted remotely). */
  hold?: (hold: boolean) => void;
}

/** How a context reaches the framework. */
export interface ContextOptions {
  /**
   * Starts a program on the resource (over its ssh connection); without it, programs start on
   * this machine, which is the resource.
   */
  startProcess?: (argv: readonly string[]) => Promise<ResourceProcess>;
  /** Opens the client's connections (e.g. through an ssh connection to the resource). */
  socketFactory?: ISocketFactory;
  /**
   * Reads a file of the pilot's work directory where it is (locally, or over the resource's
   * connection): e.g. the client credentials of a Kafka pilot that listens TLS only.
   */
  readPilotFile?: (path: string) => Promise<Buffer>;
  /** The pilot's work directory on its resource. */
  workDir?: string;
}

/** Client side of a framework: preparation on the client and the native client ("context"). */
/** A framework's distribution in a cache, as copied to a resource's cache (see staging). */
export interface CachedDistribution {
  /** e.g. "Kafka 4.3.1". */
  what: string;
  /** Its directory on this machine. */
  localDir: string;
  /** Its directory relative to a cache (posix), the same in every cache. */
  directory: string;
  /** Its files, relative to the directory (posix), without the marker. */
  files: string[];
  /** Written last: a copy whose marker `matches` is complete and is reused. */
  marker: { name: string; content: string; matches: (existing: string) => boolean };
}

export interface FrameworkManager<Context = unknown> {
  readonly type: PilotType;
  /** Framework-specific checks of a description (e.g. configuration keys); empty when fine. */
  validate(description: PilotDescription): ValidationProblem[];
  /** Fetches/caches what the framework needs (e.g. the Kafka distribution). Idempotent. */
  prepare(onProgress: ProgressListener): Promise<void>;
  /** The prepared distribution, for resources whose cache lacks it. */
  distribution(onProgress: ProgressListener): Promise<CachedDistribution>;
  /** A ready native client for a Running pilot. */
  getContext(details: FrameworkDetails, options?: ContextOptions): Promise<Context>;
  /** The framework's web dashboard of a Running pilot; undefined when it shows none. */
  dashboard?(
    details: FrameworkDetails,
    options: ContextOptions
  ): Promise<DashboardTarget | undefined>;
}

/** A framework's web dashboard as this machine reaches it (what the dashboard proxy forwards to). */
export interface DashboardTarget {
  /** As recorded, e.g. "https://node-1:40123". */
  address: string;
  /**
   * A TLS connection to it that presents the pilot's client certificate (made through the
   * resource's ssh connection for a remote pilot); `onConnect` once the handshake is done.
   */
  connect(onConnect: () => void): Duplex;
}
