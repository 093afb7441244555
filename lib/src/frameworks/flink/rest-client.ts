import { request, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ClientCredentials } from '../certificates.js';
import { tlsDashboardTarget } from '../dashboard-target.js';
import {
  applyChanges,
  parseResultPage,
  rootCauseOf,
  type FlinkColumn,
  type ResultPage
} from './result-pages.js';

/**
 * Thin clients of a Flink pilot's REST APIs: the JobManager's (cluster and jobs) and the SQL
 * Gateway's (v4: sessions, statements, paged results). Every request is HTTPS with the pilot's
 * client certificate, over a connection `connect` opens (through the resource's ssh connection
 * for a remote pilot) or a direct one.
 */

const REQUEST_TIMEOUT_MS = 30_000;
/** The gateway drops a session idle for 10 minutes (sql-gateway.session.idle-timeout). */
const HEARTBEAT_MS = 60_000;
const FIRST_POLL_MS = 100;
const MAX_POLL_MS = 1000;

/** Where a REST API is and how to reach it. */
export interface FlinkRestEndpoint {
  /** "https://host:port", as the pilot's details record it. */
  address: string;
  credentials: ClientCredentials;
  /**
   * A mutual-TLS connection to the endpoint (like DashboardTarget.connect); a direct one
   * with `credentials` when absent.
   */
  connect?: (onConnect: () => void) => Duplex;
}

/** An answer other than 2xx, with what Flink said went wrong. */
export class FlinkRestError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
    /** The root cause Flink reported, when it sent one. */
    readonly rootCause: string | undefined
  ) {
    super(`${url} answered ${status}: ${rootCause ?? 'no error message'}`);
    this.name = 'FlinkRestError';
  }
}

/** Calls one REST API; answers are JSON, errors FlinkRestError. */
export class RestCaller {
  private readonly connect: (onConnect: () => void) => Duplex;

  constructor(private readonly endpoint: FlinkRestEndpoint) {
    this.connect =
      endpoint.connect ?? tlsDashboardTarget(endpoint.address, endpoint.credentials).connect;
  }

  call(method: string, path: string, body?: unknown): Promise<unknown> {
    const url = new URL(path, this.endpoint.address);
    const payload = body !== undefined ? Buffer.from(JSON.stringify(body)) : undefined;
    return new Promise((resolve, reject) => {
      const sent = request(
        {
          method,
          host: url.hostname,
          port: url.port,
          path: `${url.pathname}${url.search}`,
          timeout: REQUEST_TIMEOUT_MS,
          headers: {
            Accept: 'application/json',
            ...(payload !== undefined
              ? { 'Content-Type': 'application/json', 'Content-Length': payload.length }
              : {})
          },
          createConnection: () => this.connect(() => undefined)
        },
        (answer: IncomingMessage) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('error', reject);
          answer.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text === '' ? {} : JSON.parse(text);
            } catch {
              parsed = undefined;
            }
            const status = answer.statusCode ?? 0;
            if (status < 200 || status > 299) {
              reject(
                new FlinkRestError(url.href, status, rootCauseOf(parsed) ?? text.slice(0, 300))
              );
            } else if (parsed === undefined) {
              reject(
                new Error(`${url.href} answered ${status} with no JSON: ${text.slice(0, 200)}`)
              );
            } else {
              resolve(parsed);
            }
          });
        }
      );
      sent.on('timeout', () =>
        sent.destroy(new Error(`${url.href} did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`))
      );
      sent.on('error', reject);
      sent.end(payload);
    });
  }
}

/** The cluster's summary (GET /overview). */
export interface FlinkOverview {
  taskmanagers: number;
  'slots-total': number;
  'slots-available': number;
  'jobs-running': number;
  'jobs-finished': number;
  'jobs-cancelled': number;
  'jobs-failed': number;
  'flink-version': string;
}

/** A registered TaskManager (GET /taskmanagers). */
export interface FlinkTaskManager {
  id: string;
  /** Its RPC address, e.g. "pekko.ssl.tcp://flink@10.0.0.2:40123/user/rpc/taskmanager_0". */
  path: string;
  slotsNumber: number;
  freeSlots: number;
}

/** A job as the job list shows it (GET /jobs/overview). */
export interface FlinkJob {
  jid: string;
  name: string;
  state: string;
  'start-time': number;
  'end-time': number;
  duration: number;
}

/** The JobManager's REST API. */
export class JobManagerClient {
  private readonly rest: RestCaller;

  constructor(endpoint: FlinkRestEndpoint) {
    this.rest = new RestCaller(endpoint);
  }

  async overview(): Promise<FlinkOverview> {
    return (await this.rest.call('GET', '/overview')) as FlinkOverview;
  }

  async taskManagers(): Promise<FlinkTaskManager[]> {
    const answer = (await this.rest.call('GET', '/taskmanagers')) as {
      taskmanagers?: FlinkTaskManager[];
    };
    return answer.taskmanagers ?? [];
  }

  /** The JobManager's effective configuration; Flink shows secrets' values as "******". */
  async configuration(): Promise<{ key: string; value: string }[]> {
    return (await this.rest.call('GET', '/jobmanager/config')) as { key: string; value: string }[];
  }

  async jobs(): Promise<FlinkJob[]> {
    const answer = (await this.rest.call('GET', '/jobs/overview')) as { jobs?: FlinkJob[] };
    return answer.jobs ?? [];
  }

  /** Asks the job to cancel; resolves once the JobManager has taken the request. */
  async cancelJob(jobId: string): Promise<void> {
    await this.rest.call('PATCH', `/jobs/${encodeURIComponent(jobId)}?mode=cancel`);
  }
}

/** A statement's result: the rows once its changelog is applied. */
export interface SqlResult {
  columns: FlinkColumn[];
  rows: unknown[][];
  /** "SUCCESS" (DDL and the like) or "SUCCESS_WITH_CONTENT". */
  resultKind?: string;
  /** The job the statement made (a query, an INSERT). */
  jobId?: string;
  /** True when `maxRows` stopped the reading before the end (the job was cancelled). */
  truncated: boolean;
}

export interface SqlOptions {
  /** Stops reading (and cancels the statement's job) once the result holds this many rows. */
  maxRows?: number;
  /** Aborting stops reading and cancels the statement's job. */
  signal?: AbortSignal;
  /** Flink options for this statement only. */
  executionConfig?: Record<string, string>;
}

/** The SQL Gateway's REST API. */
export class SqlGatewayClient {
  private readonly rest: RestCaller;

  constructor(endpoint: FlinkRestEndpoint) {
    this.rest = new RestCaller(endpoint);
  }

  /** {productName, version}. */
  async info(): Promise<{ productName: string; version: string }> {
    return (await this.rest.call('GET', '/v1/info')) as { productName: string; version: string };
  }

  /** A session, kept alive by a heartbeat until it is closed. */
  async openSession(
    options: { name?: string; properties?: Record<string, string> } = {}
  ): Promise<SqlSession> {
    const answer = (await this.rest.call('POST', '/v4/sessions', {
      ...(options.name !== undefined ? { sessionName: options.name } : {}),
      ...(options.properties !== undefined ? { properties: options.properties } : {})
    })) as { sessionHandle?: string };
    if (typeof answer.sessionHandle !== 'string') {
      throw new Error(`The SQL Gateway opened no session: it answered ${JSON.stringify(answer)}`);
    }
    return new SqlSession(this.rest, answer.sessionHandle);
  }
}

/** One session of the SQL Gateway: its catalog state (tables, views, settings) lasts with it. */
export class SqlSession {
  private readonly heartbeat: NodeJS.Timeout;
  private heartbeatFailure: Error | undefined;

  constructor(
    private readonly rest: RestCaller,
    readonly handle: string
  ) {
    this.heartbeat = setInterval(() => {
      this.rest.call('POST', `${this.path}/heartbeat`).then(
        () => (this.heartbeatFailure = undefined),
        (error: unknown) => (this.heartbeatFailure = error as Error)
      );
    }, HEARTBEAT_MS);
    // A session left open does not keep the process alive.
    this.heartbeat.unref();
  }

  private get path(): string {
    return `/v4/sessions/${encodeURIComponent(this.handle)}`;
  }

  /** Submits a statement; its operation handle. */
  async submit(statement: string, executionConfig?: Record<string, string>): Promise<string> {
    if (this.heartbeatFailure !== undefined) {
      throw new Error(
        `The SQL Gateway session ${this.handle} may have expired: its heartbeat failed (${this.heartbeatFailure.message})`
      );
    }
    const answer = (await this.rest.call('POST', `${this.path}/statements`, {
      statement,
      ...(executionConfig !== undefined ? { executionConfig } : {})
    })) as { operationHandle?: string };
    if (typeof answer.operationHandle !== 'string') {
      throw new Error(`The SQL Gateway took no statement: it answered ${JSON.stringify(answer)}`);
    }
    return answer.operationHandle;
  }

  /** Runs a statement and reads its result to the end (or until it holds `maxRows` rows). */
  async sql(statement: string, options: SqlOptions = {}): Promise<SqlResult> {
    options.signal?.throwIfAborted();
    const operation = await this.submit(statement, options.executionConfig);
    let failure: unknown;
    try {
      return await this.readResult(operation, options);
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      // A result read to its end or given up: its job is cancelled and its state released.
      await this.closeOperation(operation).catch((error: unknown) => {
        // After a failed statement, its own error is the one to report (closing it may fail too).
        if (failure === undefined) throw error;
      });
    }
  }

  /**
   * Runs a statement that returns no rows of interest (DDL, SET, INSERT INTO, which submits a
   * job and returns its id).
   */
  async execute(
    statement: string,
    options: Omit<SqlOptions, 'maxRows'> = {}
  ): Promise<{ resultKind?: string; jobId?: string }> {
    const { resultKind, jobId } = await this.sql(statement, options);
    return { ...(resultKind !== undefined ? { resultKind } : {}), ...(jobId ? { jobId } : {}) };
  }

  private async readResult(operation: string, options: SqlOptions): Promise<SqlResult> {
    const rows: unknown[][] = [];
    let columns: FlinkColumn[] = [];
    let last: ResultPage | undefined;
    let next = `${this.path}/operations/${encodeURIComponent(operation)}/result/0?rowFormat=JSON`;
    let pollMs = FIRST_POLL_MS;
    for (;;) {
      // Given up: the caller's `finally` closes the operation, which cancels its job.
      options.signal?.throwIfAborted();
      const page = parseResultPage(await this.rest.call('GET', next));
      last = page;
      if (page.columns !== undefined) columns = page.columns;
      applyChanges(rows, page.changes);
      const full = options.maxRows !== undefined && rows.length >= options.maxRows;
      if (page.resultType === 'EOS' || full) {
        if (full) rows.length = options.maxRows!;
        return {
          columns,
          rows,
          ...(last.resultKind !== undefined ? { resultKind: last.resultKind } : {}),
          ...(last.jobId !== undefined ? { jobId: last.jobId } : {}),
          truncated: page.resultType !== 'EOS'
        };
      }
      if (page.nextResultUri === undefined) {
        throw new Error(
          `The SQL Gateway's ${page.resultType} page for ${operation} names no next page`
        );
      }
      next = page.nextResultUri;
      // Pages without rows are normal while a job runs: ask again, a little later each time.
      if (page.changes.length === 0) {
        await new Promise(resolve => setTimeout(resolve, pollMs));
        pollMs = Math.min(MAX_POLL_MS, pollMs * 2);
      } else {
        pollMs = FIRST_POLL_MS;
      }
    }
  }

  /**
   * Cancels a statement the gateway still runs (a query whose results are being fetched is
   * FINISHED for the gateway: closing it cancels its job).
   */
  async cancelOperation(operation: string): Promise<void> {
    await this.rest.call('POST', `${this.path}/operations/${encodeURIComponent(operation)}/cancel`);
  }

  /** Releases a statement's state (cancelling it first if it still runs). */
  async closeOperation(operation: string): Promise<void> {
    await this.rest.call(
      'DELETE',
      `${this.path}/operations/${encodeURIComponent(operation)}/close`
    );
  }

  /** Closes the session on the gateway and stops its heartbeat. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.rest.call('DELETE', this.path);
  }
}
