/**
 * What a running Flink pilot publishes in its record (to move into the protocol's
 * FrameworkDetails): endpoints only, never a secret.
 */
export interface FlinkDetails {
  type: 'flink';
  /** The JobManager's REST API and web UI ("https://host:port"), mutual TLS. */
  restAddress: string;
  /** The SQL Gateway's REST API ("https://host:port"), mutual TLS. */
  sqlGatewayAddress: string;
  /** The TaskManager on each node (children's included). */
  taskManagers: { node: string; address: string; pilotId?: string }[];
  flinkVersion: string;
  /**
   * RPC, blob and data transfers between the pilot's processes TLS with its authority's
   * certificates; REST endpoints mutual TLS: clients present the pilot's client certificate,
   * read from the pilot's work directory.
   */
  security: 'tls';
}
