/** MIME type of the live Mini-App run widget (reconstruction and KMeans views). */
export const MINIAPP_RUN_MIME_TYPE = 'application/vnd.pilot-streaming.miniapp-run.v1+json';

export type MiniAppRole = 'mass' | 'masa';

/** starting: units submitted; running: a unit has reported; ended/failed: the run is over. */
export type MiniAppRunState = 'starting' | 'running' | 'stopping' | 'ended' | 'failed';

/** One point of the run's time series (one per report interval). */
export interface MiniAppRunSample {
  /** Milliseconds since the epoch (end of the window). */
  t: number;
  producedPerSecond: number;
  processedPerSecond: number;
  /** Latency of the messages processed in this window; null when none was. */
  p50Ms: number | null;
  p99Ms: number | null;
}

/** One producer or consumer unit of the run. */
export interface MiniAppUnitView {
  /** "producer-0", "consumer-3". */
  id: string;
  node?: string;
  /** Messages produced (producers) or processed (consumers). */
  messages: number;
  bytes: number;
  /** Over the latest report interval. */
  messagesPerSecond: number;
  errors: number;
  /** running until its final report arrives; failed when it reported a fatal error. */
  state: 'starting' | 'running' | 'ended' | 'failed';
}

/** The latest reconstructed slice, as an 8-bit greyscale PNG (auto contrast). */
export interface MiniAppSliceView {
  /** data: URL of the PNG. */
  png: string;
  width: number;
  height: number;
  /** Detector row of the slice and the message it came from. */
  row: number;
  producerId: number;
  sequence: number;
  center: number;
  algorithm: string;
}

/** The streaming KMeans model of the most recent consumer report. */
export interface MiniAppKMeansView {
  /** One array of coordinates per centre. */
  centers: number[][];
  weights: number[];
  pointsPerSecond: number;
  /** Points the reporting consumer has trained on. */
  points: number;
}

/** The widget's whole state; every update carries all of it (small, and idempotent to render). */
export interface MiniAppRunView {
  runId: string;
  pilotId: string;
  topic: string;
  role: MiniAppRole;
  /** Source (mass) or processor (masa) name, e.g. "lightsource", "gridrec", "kmeans". */
  kind: string;
  state: MiniAppRunState;
  /** ISO times. */
  startedAt: string;
  updatedAt: string;
  totals: {
    produced: number;
    producedBytes: number;
    processed: number;
    processedBytes: number;
    lost: number;
    duplicated: number;
    errors: number;
  };
  /** Over the whole run so far; null until a message was processed. */
  latency: { p50Ms: number; p95Ms: number; p99Ms: number } | null;
  /** Oldest first, bounded. */
  history: MiniAppRunSample[];
  producers: MiniAppUnitView[];
  consumers: MiniAppUnitView[];
  slice?: MiniAppSliceView;
  kmeans?: MiniAppKMeansView;
  /** The most recent errors, oldest first (bounded); a user function's carry its stack. */
  errors: { at: string; source: string; message: string }[];
  /** Why the run failed or ended early. */
  reason?: string;
}
