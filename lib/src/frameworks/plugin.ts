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

/** Runs on the resource, inside the pilot's supervisor process. */
export interface FrameworkBootstrap {
  /** Starts the framework and resolves once it really serves requests. */
  start(options: {
    pilotId: string;
    description: PilotDescription;
    workDir: string;
    onProgress: ProgressListener;
    signal: AbortSignal;
  }): Promise<RunningFramework>;
}

export interface RunningFramework {
  details: FrameworkDetails;
  /** Resolves (or rejects with a reason) when the framework ends on its own. */
  exited: Promise<string>;
  /** Graceful stop: SIGTERM, then SIGKILL after graceMs; resolves once nothing is left. */
  stop(graceMs: number): Promise<void>;
}

/** Client side of a framework: preparation on the client and the native client ("context"). */
export interface FrameworkManager<Context = unknown> {
  readonly type: PilotType;
  /** Framework-specific checks of a description (e.g. configuration keys); empty when fine. */
  validate(description: PilotDescription): ValidationProblem[];
  /** Fetches/caches what the framework needs (e.g. the Kafka distribution). Idempotent. */
  prepare(onProgress: ProgressListener): Promise<void>;
  /** A ready native client for a Running pilot. */
  getContext(details: FrameworkDetails): Promise<Context>;
}
