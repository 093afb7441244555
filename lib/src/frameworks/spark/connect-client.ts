import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { checkServerIdentity } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Table, tableFromIPC } from 'apache-arrow';

/**
 * A thin Spark Connect client: Spark's own gRPC protocol (the .proto files of the server's jar,
 * loaded at run time, so the client speaks the server's version), results decoded from Arrow.
 * There is no Spark Connect package for Node.js to build on (see docs/decisions.md).
 */

/** Results up to this size arrive in one message (grpc-js accepts 4 MB by default). */
const MAX_MESSAGE_BYTES = 128 * 1024 * 1024;
const CLIENT_TYPE = 'pilot-streaming';
/** Spark's InterruptRequest.InterruptType.INTERRUPT_TYPE_ALL. */
const INTERRUPT_ALL = 1;

export interface SparkConnectOptions {
  /** host:port of the Connect server (or of a local end of a tunnel to it). */
  address: string;
  /** The server's `spark.connect.authenticate.token`, sent as a bearer token with every call. */
  token: string;
  /** Include directory holding spark/connect/*.proto (see sparkConnectProtos). */
  protoDir: string;
  /** Without it the connection is plaintext (a Connect server on loopback behind TLS). */
  /** `servername`: the name the server's certificate is checked against, when not the address's. */
  tls?: { ca: Buffer; cert: Buffer; key: Buffer; servername?: string };
  userId?: string;
}

/** A query's result: its rows as plain objects and the Arrow table they came from. */
export interface SparkResult {
  rows: Record<string, unknown>[];
  table: Table;
}

/** What Spark reads (`spark.read.format(format).options(options).load(...paths)`). */
export interface SparkDataSource {
  format: string;
  options?: Record<string, string>;
  /** A DDL schema, e.g. "id BIGINT, name STRING", where the source does not know its own. */
  schema?: string;
  paths?: string[];
}

/** An error the Spark server reported (its error class leads the message, e.g. [PARSE_SYNTAX_ERROR]). */
export class SparkError extends Error {
  constructor(
    message: string,
    readonly code: grpc.status
  ) {
    super(message);
    this.name = 'SparkError';
  }
}

type Call = (request: object, metadata: grpc.Metadata) => grpc.ClientReadableStream<unknown>;
type Unary = (
  request: object,
  metadata: grpc.Metadata,
  callback: (error: grpc.ServiceError | null, response: unknown) => void
) => void;

interface ServiceClient extends grpc.Client {
  ExecutePlan: Call;
  AnalyzePlan: Unary;
  Interrupt: Unary;
  ReleaseSession: Unary;
}

interface ExecutePlanResponse {
  response_type?: string;
  arrow_batch?: { row_count: string; data: Buffer };
}

/** One Spark session on a Connect server. */
export class SparkConnectClient {
  readonly sessionId = randomUUID();
  private readonly client: ServiceClient;
  private readonly metadata = new grpc.Metadata();
  private readonly userContext: { user_id: string };
  private closed = false;

  constructor(options: SparkConnectOptions) {
    const definition = protoLoader.loadSync(join('spark', 'connect', 'base.proto'), {
      includeDirs: [options.protoDir],
      keepCase: true,
      longs: String,
      defaults: true,
      oneofs: true
    });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      spark: { connect: { SparkConnectService: grpc.ServiceClientConstructor } };
    };
    const servername = options.tls?.servername;
    const credentials =
      options.tls !== undefined
        ? grpc.credentials.createSsl(options.tls.ca, options.tls.key, options.tls.cert, {
            // Through a tunnel the address is a local port: the certificate is the node's.
            ...(servername !== undefined
              ? { checkServerIdentity: (_host, cert) => checkServerIdentity(servername, cert) }
              : {})
          })
        : grpc.credentials.createInsecure();
    this.client = new loaded.spark.connect.SparkConnectService(options.address, credentials, {
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES
    }) as unknown as ServiceClient;
    this.metadata.set('authorization', `Bearer ${options.token}`);
    this.userContext = { user_id: options.userId ?? 'pilot-streaming' };
  }

  private base(): object {
    if (this.closed) throw new Error(`Spark session ${this.sessionId} is closed`);
    return { session_id: this.sessionId, user_context: this.userContext, client_type: CLIENT_TYPE };
  }

  /** Runs a SQL statement; resolves with all its rows. */
  sql(query: string): Promise<SparkResult> {
    return this.collect({ sql: { query } });
  }

  /** The numbers start, start + step, ... below end, as a column `id` (Spark's range). */
  range(start: number, end: number, step = 1): Promise<SparkResult> {
    return this.collect({ range: { start: String(start), end: String(end), step: String(step) } });
  }

  /**
   * Makes `name` a temporary view (this session's) of a data source, e.g. a Kafka topic
   * (`{ format: 'kafka', options: kafkaReadOptions(...) }`), for SQL to query.
   */
  async createView(name: string, source: SparkDataSource): Promise<void> {
    const input = {
      read: {
        data_source: {
          format: source.format,
          options: source.options ?? {},
          ...(source.schema !== undefined ? { schema: source.schema } : {}),
          paths: source.paths ?? []
        }
      }
    };
    await this.execute({
      command: { create_dataframe_view: { input, name, is_global: false, replace: true } }
    });
  }

  /** The server's Spark version. */
  async version(): Promise<string> {
    const response = (await this.unary(this.client.AnalyzePlan, {
      ...this.base(),
      spark_version: {}
    })) as { spark_version?: { version: string } };
    if (response.spark_version === undefined) {
      throw new Error('The Spark Connect server did not say its version');
    }
    return response.spark_version.version;
  }

  /** Stops every operation this session runs now (they fail with an interruption). */
  async interrupt(): Promise<void> {
    await this.unary(this.client.Interrupt, { ...this.base(), interrupt_type: INTERRUPT_ALL });
  }

  /** Ends the session on the server and closes the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.unary(this.client.ReleaseSession, this.base());
    } finally {
      this.closed = true;
      this.client.close();
    }
  }

  /** Executes a relation and gathers its Arrow batches into one table. */
  private collect(relation: object): Promise<SparkResult> {
    return this.execute({ root: relation });
  }

  /** Executes a plan (a relation as `root`, or a `command`); resolves with what it returned. */
  private execute(plan: object): Promise<SparkResult> {
    const request = { ...this.base(), operation_id: randomUUID(), plan };
    return new Promise((resolve, reject) => {
      const tables: Table[] = [];
      const call = this.client.ExecutePlan(request, this.metadata);
      call.on('data', (message: ExecutePlanResponse) => {
        if (message.response_type === 'arrow_batch' && message.arrow_batch !== undefined) {
          tables.push(tableFromIPC(message.arrow_batch.data));
        }
      });
      call.on('error', (error: grpc.ServiceError) => reject(sparkError(error)));
      call.on('end', () => {
        const [first, ...rest] = tables;
        const table = first !== undefined ? first.concat(...rest) : new Table();
        resolve({
          table,
          rows: table.toArray().map((row: { toJSON(): Record<string, unknown> }) => row.toJSON())
        });
      });
    });
  }

  private unary(method: Unary, request: object): Promise<unknown> {
    return new Promise((resolve, reject) => {
      method.call(this.client, request, this.metadata, (error, response) =>
        error !== null ? reject(sparkError(error)) : resolve(response)
      );
    });
  }
}

function sparkError(error: grpc.ServiceError): SparkError {
  return new SparkError(error.details || error.message, error.code);
}
