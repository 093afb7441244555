/**
 * The endpoints a Flink process reports in its log once it has bound them (it chooses their
 * ports: the pilot configures port 0). Undefined until the line is there.
 */

export interface LoggedEndpoint {
  host: string;
  port: number;
}

/**
 * The JobManager's RPC endpoint, which TaskManagers connect to: its first actor system,
 * "flink" ("flink-metrics" is the metric query service's).
 */
export function loggedRpcEndpoint(log: string): LoggedEndpoint | undefined {
  const found = /Actor system started at pekko(?:\.ssl)?\.tcp:\/\/flink@(\S+):(\d+)\s/.exec(log);
  return found !== null ? { host: found[1]!, port: Number(found[2]) } : undefined;
}

/** A REST endpoint (the JobManager's, or the SQL Gateway's). */
export function loggedRestEndpoint(log: string): LoggedEndpoint | undefined {
  const found = /Rest endpoint listening at (\S+):(\d+)\s/.exec(log);
  return found !== null ? { host: found[1]!, port: Number(found[2]) } : undefined;
}
