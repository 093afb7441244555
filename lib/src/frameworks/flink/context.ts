import { posix } from 'node:path';
import type { ISocketFactory } from 'kafkajs';
import type { FlinkDetails, FrameworkDetails } from '../../protocol/index.js';
import type { ClientCredentials } from '../certificates.js';
import { tlsDashboardTarget } from '../dashboard-target.js';
import { kafkaTableOptions, sqlString, withClause } from './kafka-table.js';
import {
  FlinkRestError,
  JobManagerClient,
  SqlGatewayClient,
  type FlinkJob,
  type FlinkOverview,
  type FlinkTaskManager,
  type SqlOptions,
  type SqlResult,
  type SqlSession
} from './rest-client.js';

/** The pilot's link to the Kafka SQL connector, relative to its work directory. */
export const KAFKA_CONNECTOR_LINK = posix.join('flink', 'connectors', 'kafka.jar');

/** A Kafka topic a table reads, and how its records are laid out. */
export interface KafkaTableSource {
  /** The Running Kafka pilot's record (its id, details and work directory). */
  pilot: { id: string; details?: FrameworkDetails; workDir?: string };
  topic: string;
  /** Flink's format of the records ("raw", "json", "csv"); "raw" when absent. */
  format?: string;
  /** Further table options, e.g. "json.ignore-parse-errors". */
  options?: Record<string, string>;
  /** False: an unbounded table that follows the topic; true (default): up to the latest offsets. */
  bounded?: boolean;
}

/** A SQL identifier, quoted (`…`, backticks doubled). */
function identifier(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/**
 * The context of a Flink pilot: a SQL Gateway session (statements, paged results, cancel) and
 * the JobManager's REST API (cluster, jobs), both mutual TLS with the pilot's client
 * certificate; for a pilot on a resource reached over ssh, connections are made from the far
 * side of its ssh connection and TLS still runs end to end.
 */
export class FlinkContext {
  private connectorAdded = false;

  private constructor(
    private readonly jobManager: JobManagerClient,
    private readonly gateway: SqlGatewayClient,
    /** The session `sql` and `execute` use: its tables, views and settings last with it. */
    readonly session: SqlSession,
    private readonly workDir: string
  ) {}

  static async open(options: {
    details: FlinkDetails;
    credentials: ClientCredentials;
    /** The pilot's work directory on its resource (where the connector link is). */
    workDir: string;
    socketFactory?: ISocketFactory;
  }): Promise<FlinkContext> {
    const { details, credentials, socketFactory } = options;
    const endpoint = (address: string) => ({
      address,
      credentials,
      connect: tlsDashboardTarget(address, credentials, socketFactory).connect
    });
    const gateway = new SqlGatewayClient(endpoint(details.sqlGatewayAddress));
    const session = await gateway.openSession({ name: 'pilot-streaming' });
    return new FlinkContext(
      new JobManagerClient(endpoint(details.restAddress)),
      gateway,
      session,
      options.workDir
    );
  }

  /** Runs a statement in the context's session and reads its result (see SqlOptions). */
  sql(statement: string, options?: SqlOptions): Promise<SqlResult> {
    return this.session.sql(statement, options);
  }

  /** Runs a statement whose rows do not matter (DDL, SET, INSERT INTO: its job id). */
  execute(
    statement: string,
    options?: Omit<SqlOptions, 'maxRows'>
  ): Promise<{ resultKind?: string; jobId?: string }> {
    return this.session.execute(statement, options);
  }

  /** Another session of the gateway, with its own catalog state; the caller closes it. */
  openSession(options?: {
    name?: string;
    properties?: Record<string, string>;
  }): Promise<SqlSession> {
    return this.gateway.openSession(options);
  }

  /**
   * Creates a temporary table of the context's session over a Kafka pilot's topic, e.g.
   * `kafkaTable('readings', 'payload STRING, ts TIMESTAMP_LTZ(3) METADATA FROM \'timestamp\'', …)`.
   * The session gets the pilot's Kafka SQL connector first.
   */
  async kafkaTable(name: string, columns: string, source: KafkaTableSource): Promise<void> {
    const options = {
      ...kafkaTableOptions(source.pilot, source.topic, {
        ...(source.bounded !== undefined ? { bounded: source.bounded } : {})
      }),
      format: source.format ?? 'raw',
      ...source.options
    };
    if (!this.connectorAdded) {
      await this.execute(`ADD JAR ${sqlString(posix.join(this.workDir, KAFKA_CONNECTOR_LINK))}`);
      this.connectorAdded = true;
    }
    await this.execute(
      `CREATE TEMPORARY TABLE ${identifier(name)} (\n  ${columns}\n) ${withClause(options)}`
    );
  }

  /** The Flink release the gateway runs. */
  async version(): Promise<string> {
    return (await this.gateway.info()).version;
  }

  /** Task managers, slots and jobs of the cluster. */
  overview(): Promise<FlinkOverview> {
    return this.jobManager.overview();
  }

  /** The registered TaskManagers (a child pilot's among them while it runs). */
  taskManagers(): Promise<FlinkTaskManager[]> {
    return this.jobManager.taskManagers();
  }

  jobs(): Promise<FlinkJob[]> {
    return this.jobManager.jobs();
  }

  /** Asks a job to cancel (e.g. one an INSERT INTO started). */
  cancelJob(jobId: string): Promise<void> {
    return this.jobManager.cancelJob(jobId);
  }

  /**
   * Closes the session. A gateway that cannot be reached (the pilot is being cancelled, or is
   * gone) has no session left to close, or drops it once idle: that is not a failure; an
   * error the gateway answers is.
   */
  async close(): Promise<void> {
    try {
      await this.session.close();
    } catch (error) {
      if (error instanceof FlinkRestError) throw error;
    }
  }
}
