import * as grpc from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ANONYMOUS,
  AuthError,
  tokenFromMetadata,
  type Identity,
  type TokenVerifier
} from '../auth/token-verifier.js';
import { GATEWAY_PROTOCOL_VERSION } from '../proto/control-proto.js';
import {
  ControlService,
  GatewayService,
  type AppResponse,
  type ControlRequest,
  type ControlResponse,
  type HelloRequest,
  type ReleaseRequest,
  type SessionKeyMessage,
  type SessionMetrics,
  type SessionQuery,
  type SessionStatus,
  type UpdateTargets,
  type VersionInfo
} from '../proto/services.js';
import {
  BACKENDS,
  RATE_ENFORCING_BACKENDS,
  createDataPlane,
  formatEndpoint,
  parseBackend,
  parseEndpoint,
  type BackendName,
  type DataPlane
} from '../s2ds/index.js';
import { Gateway } from '../s2uc/gateway.js';
import { readServerIdentity } from '../tls/certificates.js';
import { ControlError, denied, invalid, notFound } from './control-error.js';
import { listenFailure, listenProblem } from './listen-address.js';
import { PortPool, type PortRange } from './port-pool.js';
import { SessionStore, validateUid, type SessionRecord } from './session-store.js';
import { StateDirectory, stateDirFor } from './state-directory.js';

export interface ControlServerOptions {
  /** Address the gRPC server binds (port 0: any free port). */
  bindHost: string;
  port: number;
  /** Address of this gateway as the other side reaches its data ports (the original's listener_ip). */
  listenerHost: string;
  portRange: PortRange;
  /**
   * Private directory for session records and generated proxy configurations, locked while the
   * gateway runs. Without it, the gateway uses one of its own under `stateRoot`.
   */
  stateDir?: string;
  /**
   * Where gateways without a `stateDir` keep theirs: one per control address bound
   * (`s2cs-<bind host>-<port>`), removed again when the gateway stops with no session left.
   */
  stateRoot?: string;
  tls: { certFile: string; keyFile: string };
  /** Token verifier; `null` only when auth was disabled explicitly. */
  auth: TokenVerifier | null;
  defaultBackend?: BackendName;
  /** How long a producer-side `req` waits for the producer's `hello` (the original waits 180 s). */
  helloTimeoutMs?: number;
  /** Producer gateway's S2CS for consumer sessions whose `update` names none (original clients). */
  peerControl?: string;
  /** CA that the producer gateway's S2CS certificate chains to; defaults to our own certificate. */
  peerCaFile?: string;
  log?: (line: string) => void;
  /**
   * Called if another process took the state directory over while this gateway ran (it stalled
   * for longer than the lock's stale time); the gateway must then stop without touching it.
   * Default: log it.
   */
  onStateLost?: (error: Error) => void;
}

const DEFAULT_NUM_CONN = 5;
const MAX_NUM_CONN = 64;
const MAX_PENDING_HELLOS = 1024;
const ORPHAN_STOP_MS = 5000;

/** Whether `pid` is a live process (a zombie awaiting its reaper counts as gone). */
async function isRunning(pid: number): Promise<boolean> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  // Field 3, after the parenthesised command name, is the state.
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

interface LiveSession {
  record: SessionRecord;
  dataPlane?: DataPlane;
  helloWaiter?: { resolve: (listeners: string[]) => void; reject: (error: Error) => void };
  /** Serialises update/release/restore of this session; other sessions never wait for it. */
  queue: Promise<unknown>;
}

interface PendingHello {
  listeners: string[];
  owner: string;
  atMs: number;
}

function metadataValue(metadata: grpc.Metadata, key: string): string | undefined {
  const values = metadata.get(key);
  return values.length > 0 ? String(values[0]) : undefined;
}

/**
 * S2CS: the control server of one facility's gateway. Implements scistream.Control wire-compatibly
 * and our Gateway service. Every session is its own record and data plane; calls for one session
 * are serialised on that session only, and a `req` waiting for `hello` is just a pending promise.
 */
export class ControlServer {
  private readonly server = new grpc.Server();
  private readonly sessions = new Map<string, LiveSession>();
  private readonly pendingHellos = new Map<string, PendingHello>();
  private store?: SessionStore;
  private stateDirectory?: StateDirectory;
  private readonly pool: PortPool;
  private readonly log: (line: string) => void;
  private boundPort = 0;
  private closed = false;
  private starting?: Promise<number>;
  /** Settles when start-up is over; calls wait for it, so none sees a half-restored gateway. */
  private ready: Promise<void>;
  private markReady!: (error?: Error) => void;

  constructor(private readonly options: ControlServerOptions) {
    if ((options.stateDir === undefined) === (options.stateRoot === undefined)) {
      throw new Error('ControlServer: give exactly one of stateDir and stateRoot');
    }
    if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
      throw new Error(`port: ${options.port} is not a port; expected 0-65535 (0: any free port)`);
    }
    this.pool = new PortPool(options.portRange, options.listenerHost);
    this.log = options.log ?? (line => console.error(line));
    this.ready = new Promise<void>((resolve, reject) => {
      this.markReady = error => (error ? reject(error) : resolve());
    });
    // A failed start is reported by start() and to each waiting call (refused): with no call
    // waiting, it must not also count as an unhandled rejection.
    this.ready.catch(() => undefined);
  }

  /** The gateway's state directory (known once started). */
  get stateDir(): string | undefined {
    return this.stateDirectory?.path;
  }

  private get sessionStore(): SessionStore {
    if (!this.store) throw new Error('ControlServer: not started');
    return this.store;
  }

  private get statePath(): string {
    if (!this.stateDirectory) throw new Error('ControlServer: not started');
    return this.stateDirectory.path;
  }

  get port(): number {
    return this.boundPort;
  }

  get address(): string {
    return formatEndpoint({ host: this.options.bindHost, port: this.boundPort });
  }

  /** Ports currently held by sessions (for leak checks). */
  get portsInUse(): number {
    return this.pool.inUse;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /**
   * Starts serving and returns the bound port (0 if close() came first). The certificate and
   * the issuer are checked first, then the port is bound, and only then is the state directory
   * claimed: with no --state-dir it is named after the bound address, which no other running
   * gateway can hold.
   */
  start(): Promise<number> {
    this.starting ??= this.startServing().then(
      port => {
        this.markReady();
        return port;
      },
      async (error: Error) => {
        this.markReady(error);
        this.server.forceShutdown();
        await this.stateDirectory?.release({ remove: false });
        this.stateDirectory = undefined;
        throw error;
      }
    );
    return this.starting;
  }

  private async startServing(): Promise<number> {
    if (this.options.auth === null) {
      this.log(
        'WARNING: S2CS auth is disabled: any client that reaches this port controls sessions'
      );
    }
    const identity = await readServerIdentity(this.options.tls, {
      cert: 'TLS certificate',
      key: 'TLS key'
    });
    // An issuer that cannot be asked now would fail every call later: refuse to start.
    await this.options.auth?.check();
    this.server.addService(ControlService.service, {
      req: this.unary(this.req),
      update: this.unary(this.update),
      release: this.unary(this.release),
      hello: this.unary(this.hello)
    });
    this.server.addService(GatewayService.service, {
      status: this.unary(this.status),
      list: this.unary(this.list),
      metrics: this.unary(this.metrics),
      version: this.unary(this.version),
      sessionKey: this.unary(this.sessionKey)
    });
    const credentials = grpc.ServerCredentials.createSsl(
      null,
      [{ cert_chain: identity.cert, private_key: identity.key }],
      false
    );
    // Closed (SIGTERM) while starting: nothing to serve.
    if (this.closed) return 0;
    const { bindHost, port } = this.options;
    // Asked first, because gRPC logs and reports a failed bind without its reason.
    const problem = port === 0 ? undefined : await listenProblem(bindHost, port);
    if (problem !== undefined) throw listenFailure(bindHost, port, problem, undefined);
    this.boundPort = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(
        formatEndpoint({ host: bindHost, port }),
        credentials,
        (error, bound) => (error ? reject(error) : resolve(bound))
      )
    ).catch(async (error: unknown) => {
      throw listenFailure(bindHost, port, await listenProblem(bindHost, port), error);
    });
    if (this.closed) return 0;
    const stateDir =
      this.options.stateDir ?? stateDirFor(this.options.stateRoot!, bindHost, this.boundPort);
    this.stateDirectory = await StateDirectory.claim(stateDir, this.log, error => {
      const lost = new Error(`lost the lock of state directory ${stateDir}: ${error.message}`, {
        cause: error
      });
      if (this.options.onStateLost) this.options.onStateLost(lost);
      else this.log(`ERROR: ${lost.message}`);
    });
    this.store = new SessionStore(stateDir);
    await this.sessionStore.init();
    await this.restore();
    this.log(
      `S2CS listening on ${this.address} (TLS), data ports ${this.portRangeText}, state in ${stateDir}`
    );
    return this.boundPort;
  }

  private get portRangeText(): string {
    return `${this.options.portRange.low}-${this.options.portRange.high} on ${this.options.listenerHost}`;
  }

  /** Releases every session (data planes stopped, ports freed, records removed) and stops serving. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A start in progress finishes first; one that failed (or none) has nothing to close.
    const started = await this.starting?.then(
      () => true,
      () => false
    );
    if (!started) return;
    for (const uid of [...this.sessions.keys()]) {
      await this.withSession(uid, session => this.drop(session, 'gateway shutting down'));
    }
    await new Promise<void>(resolve => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 2000);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    // A directory named after this gateway's address is its alone: nothing left, nothing kept.
    await this.stateDirectory?.release({
      remove: this.options.stateDir === undefined && this.sessions.size === 0
    });
    this.stateDirectory = undefined;
  }

  /** Adapts an async handler to grpc-js, mapping refusals onto statuses with clear messages. */
  private unary<Req, Res>(
    handler: (request: Req, identity: Identity, metadata: grpc.Metadata) => Promise<Res>
  ): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      this.ready
        .then(
          () => this.authenticate(call.metadata),
          (error: Error) => {
            throw new ControlError(
              grpc.status.UNAVAILABLE,
              `gateway failed to start: ${error.message}`
            );
          }
        )
        .then(identity => handler.call(this, call.request, identity, call.metadata))
        .then(
          response => callback(null, response),
          (error: unknown) => {
            const code =
              error instanceof ControlError || error instanceof AuthError
                ? error.code
                : grpc.status.INTERNAL;
            const message = error instanceof Error ? error.message : String(error);
            if (code === grpc.status.INTERNAL) this.log(`S2CS internal error: ${message}`);
            callback({ code, details: message, metadata: new grpc.Metadata() });
          }
        );
    };
  }

  private async authenticate(metadata: grpc.Metadata): Promise<Identity> {
    const auth = this.options.auth;
    if (auth === null) return ANONYMOUS;
    try {
      return await auth.verify(tokenFromMetadata(metadata));
    } catch (error) {
      // The user is told which issuer's tokens this gateway takes.
      throw error instanceof AuthError ? error.accepting(auth.description) : error;
    }
  }

  private async withSession<T>(uid: string, fn: (session: LiveSession) => Promise<T>): Promise<T> {
    const session = this.sessions.get(uid);
    if (!session) throw notFound(uid);
    const run = session.queue.then(() => fn(session));
    session.queue = run.catch(() => undefined);
    return run;
  }

  private owned(uid: string, identity: Identity): LiveSession {
    const session = this.sessions.get(uid);
    if (!session) throw notFound(uid);
    if (session.record.owner !== identity.subject) {
      throw denied(`session "${uid}" belongs to another identity; only its creator may change it`);
    }
    return session;
  }

  private listeners(record: SessionRecord): string[] {
    return record.ports.map(port => formatEndpoint({ host: this.options.listenerHost, port }));
  }

  private response(record: SessionRecord): ControlResponse {
    return { listeners: this.listeners(record), prod_listeners: record.prodListeners };
  }

  private parseRole(role: string): 'PROD' | 'CONS' {
    if (role === 'PROD' || role === 'CONS') return role;
    throw invalid(`role: "${role}" is not a role; expected PROD or CONS`);
  }

  private parseListeners(values: string[], key: string): string[] {
    if (values.length === 0) throw invalid(`${key}: empty; expected at least one host:port`);
    try {
      return values.map(value => formatEndpoint(parseEndpoint(value, key)));
    } catch (error) {
      throw invalid((error as Error).message);
    }
  }

  private checkedUid(uid: string): string {
    try {
      return validateUid(uid);
    } catch (error) {
      throw invalid((error as Error).message);
    }
  }

  private async req(
    request: ControlRequest,
    identity: Identity,
    metadata: grpc.Metadata
  ): Promise<ControlResponse> {
    const uid = this.checkedUid(request.uid);
    const role = this.parseRole(request.role);
    const numConn = request.num_conn === 0 ? DEFAULT_NUM_CONN : request.num_conn;
    if (!Number.isInteger(request.rate) || request.rate < 0) {
      throw invalid(`rate: ${request.rate} is not a rate; expected Mbit/s >= 0 (0: unlimited)`);
    }
    if (!Number.isInteger(numConn) || numConn < 1 || numConn > MAX_NUM_CONN) {
      throw invalid(`num_conn: ${request.num_conn} is out of range; expected 1-${MAX_NUM_CONN}`);
    }
    let backend: BackendName;
    try {
      backend = parseBackend(
        metadataValue(metadata, 'x-scistream-backend') ?? this.options.defaultBackend ?? 'native'
      );
    } catch (error) {
      throw invalid((error as Error).message);
    }
    // The original accepted and ignored `rate`; a rate we cannot enforce is refused, not dropped.
    if (request.rate > 0 && !RATE_ENFORCING_BACKENDS.includes(backend)) {
      throw invalid(
        `rate: ${request.rate} Mbit/s cannot be enforced by the "${backend}" S2DS backend; ` +
          `expected rate 0 (unlimited) with ${backend}, or a backend that enforces it ` +
          `(${RATE_ENFORCING_BACKENDS.join(', ')})`
      );
    }
    if (this.closed) throw new ControlError(grpc.status.UNAVAILABLE, 'gateway is shutting down');
    if (this.sessions.has(uid)) {
      throw new ControlError(grpc.status.ALREADY_EXISTS, `session "${uid}" already exists here`);
    }
    let ports: number[];
    try {
      ports = await this.pool.allocate(numConn);
    } catch (error) {
      throw new ControlError(grpc.status.RESOURCE_EXHAUSTED, (error as Error).message);
    }
    const record: SessionRecord = {
      version: 1,
      uid,
      role,
      side: role === 'PROD' ? 'producer' : 'consumer',
      owner: identity.subject,
      numConn,
      rate: request.rate,
      backend,
      state: role === 'PROD' ? 'waiting-hello' : 'reserved',
      ports,
      targets: [],
      prodListeners: [],
      psk: role === 'PROD' ? randomBytes(32).toString('hex') : '',
      pids: [],
      createdMs: Date.now()
    };
    const session: LiveSession = { record, queue: Promise.resolve() };
    // Checked again: another req for this uid, or close(), may have come while ports were found.
    if (this.sessions.has(uid) || this.closed) {
      this.pool.release(ports);
      throw this.closed
        ? new ControlError(grpc.status.UNAVAILABLE, 'gateway is shutting down')
        : new ControlError(grpc.status.ALREADY_EXISTS, `session "${uid}" already exists here`);
    }
    this.sessions.set(uid, session);
    if (backend === 'haproxy') {
      this.log(`WARNING: session ${uid} uses the haproxy backend: its data is NOT encrypted`);
    }
    try {
      await this.sessionStore.save(record);
      if (role === 'PROD') {
        record.prodListeners = await this.awaitHello(session, identity);
        record.state = 'reserved';
        await this.sessionStore.save(record);
      }
    } catch (error) {
      if (this.sessions.get(uid) === session) await this.drop(session, 'request failed');
      throw error;
    }
    this.log(`session ${uid}: ${role} reserved ${this.listeners(record).join(' ')} (${backend})`);
    return this.response(record);
  }

  private awaitHello(session: LiveSession, identity: Identity): Promise<string[]> {
    const uid = session.record.uid;
    const early = this.pendingHellos.get(uid);
    if (early && early.owner === identity.subject) {
      this.pendingHellos.delete(uid);
      return Promise.resolve(early.listeners);
    }
    const timeoutMs = this.options.helloTimeoutMs ?? 180_000;
    return new Promise<string[]>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new ControlError(
              grpc.status.DEADLINE_EXCEEDED,
              `no hello for session "${uid}" within ${timeoutMs} ms`
            )
          ),
        timeoutMs
      );
      session.helloWaiter = {
        resolve: listeners => {
          clearTimeout(timer);
          session.helloWaiter = undefined;
          resolve(listeners);
        },
        reject: error => {
          clearTimeout(timer);
          session.helloWaiter = undefined;
          reject(error);
        }
      };
    });
  }

  private async hello(request: HelloRequest, identity: Identity): Promise<AppResponse> {
    const uid = this.checkedUid(request.uid);
    const session = this.sessions.get(uid);
    if (request.role === 'CONS') {
      return {
        message: 'consumer hello acknowledged',
        listeners: session ? this.listeners(session.record) : []
      };
    }
    const listeners = this.parseListeners(request.prod_listeners, 'prod_listeners');
    if (session) {
      this.owned(uid, identity);
      if (session.helloWaiter) {
        session.helloWaiter.resolve(listeners);
        return { message: 'producer listeners received', listeners };
      }
      if (session.record.state !== 'waiting-hello') {
        throw new ControlError(
          grpc.status.FAILED_PRECONDITION,
          `session "${uid}" is not waiting for a hello (state ${session.record.state})`
        );
      }
    }
    // The hello came before its req (or before the req started waiting): keep it for a while (bounded), for the same identity only.
    this.expirePendingHellos();
    if (this.pendingHellos.size >= MAX_PENDING_HELLOS) {
      throw new ControlError(grpc.status.RESOURCE_EXHAUSTED, 'too many hellos without a request');
    }
    this.pendingHellos.set(uid, { listeners, owner: identity.subject, atMs: Date.now() });
    return { message: 'producer listeners stored until the request arrives', listeners };
  }

  private expirePendingHellos(): void {
    const oldest = Date.now() - (this.options.helloTimeoutMs ?? 180_000);
    for (const [uid, pending] of this.pendingHellos) {
      if (pending.atMs < oldest) this.pendingHellos.delete(uid);
    }
  }

  private async update(
    request: UpdateTargets,
    identity: Identity,
    metadata: grpc.Metadata
  ): Promise<ControlResponse> {
    const uid = this.checkedUid(request.uid);
    this.owned(uid, identity);
    const targets = this.parseListeners(request.remote_listeners, 'remote_listeners');
    return this.withSession(uid, async session => {
      const { record } = session;
      if (request.role !== '' && request.role !== record.role) {
        throw invalid(`role: "${request.role}" does not match session "${uid}" (${record.role})`);
      }
      if (record.state === 'waiting-hello') {
        throw new ControlError(
          grpc.status.FAILED_PRECONDITION,
          `session "${uid}" is still waiting for the producer's hello`
        );
      }
      if (record.side === 'consumer') {
        const key = await this.fetchPeerKey(uid, metadata);
        record.psk = key.psk.toString('hex');
        record.backend = parseBackend(key.backend);
      } else {
        record.prodListeners = targets;
      }
      await session.dataPlane?.stop();
      session.dataPlane = undefined;
      record.targets = targets;
      await this.startDataPlane(session);
      this.log(
        `session ${uid}: ${record.role} streaming ${this.listeners(record).join(' ')} -> ${targets.join(' ')}`
      );
      return this.response(record);
    });
  }

  /** The consumer gateway gets the session key from the producer gateway, as the session owner. */
  private async fetchPeerKey(uid: string, metadata: grpc.Metadata): Promise<SessionKeyMessage> {
    const peer = metadataValue(metadata, 'x-scistream-peer') ?? this.options.peerControl;
    if (peer === undefined) {
      throw new ControlError(
        grpc.status.FAILED_PRECONDITION,
        'no producer gateway control address: send x-scistream-peer metadata or start s2cs with --peer-control'
      );
    }
    const caCert = await readFile(this.options.peerCaFile ?? this.options.tls.certFile);
    let gateway: Gateway;
    try {
      gateway = new Gateway({ address: peer, caCert, deadlineMs: 15_000 });
    } catch (error) {
      throw invalid(`producer gateway control address: ${(error as Error).message}`);
    }
    const token = this.options.auth === null ? undefined : tokenFromMetadata(metadata);
    try {
      const key = await gateway.sessionKey(uid, { token });
      if (key.psk.length < 32) throw new Error(`producer gateway ${peer} sent a short session key`);
      return key;
    } catch (error) {
      throw new ControlError(
        grpc.status.FAILED_PRECONDITION,
        `cannot get the session key from the producer gateway: ${(error as Error).message}`
      );
    } finally {
      gateway.close();
    }
  }

  private async startDataPlane(session: LiveSession): Promise<void> {
    const { record } = session;
    const workDir = join(this.statePath, 'run', record.uid);
    await mkdir(workDir, { recursive: true, mode: 0o700 });
    const dataPlane = createDataPlane(record.backend, {
      uid: record.uid,
      side: record.side,
      listenHost: this.options.listenerHost,
      channels: record.ports.map((listenPort, index) => ({
        listenPort,
        target: parseEndpoint(record.targets[index % record.targets.length], 'target')
      })),
      psk: Buffer.from(record.psk, 'hex'),
      rateMbps: record.rate,
      workDir
    });
    await dataPlane.start();
    session.dataPlane = dataPlane;
    record.state = 'streaming';
    record.pids = dataPlane.pids();
    await this.sessionStore.save(record);
  }

  private async release(request: ReleaseRequest, identity: Identity): Promise<ControlResponse> {
    const uid = this.checkedUid(request.uid);
    this.owned(uid, identity);
    const released = await this.withSession(uid, async session => {
      const response = this.response(session.record);
      await this.drop(session, 'released');
      return response;
    });
    this.log(`session ${uid}: released`);
    return released;
  }

  /** Ends a session: waiter refused, data plane stopped, ports freed, record and files removed. */
  private async drop(session: LiveSession, reason: string): Promise<void> {
    const { record } = session;
    if (this.sessions.get(record.uid) !== session) return;
    this.sessions.delete(record.uid);
    session.helloWaiter?.reject(
      new ControlError(grpc.status.ABORTED, `session "${record.uid}" ended: ${reason}`)
    );
    try {
      await session.dataPlane?.stop();
    } finally {
      this.pool.release(record.ports);
      await this.sessionStore.remove(record.uid);
      await rm(join(this.statePath, 'run', record.uid), { recursive: true, force: true });
    }
  }

  /**
   * After a restart: sessions that were streaming get their data plane back on the same ports
   * with the same key; reserved ones keep their ports; a `req` that was waiting for `hello` died
   * with the old process, so its session is closed. Orphaned proxy subprocesses are stopped.
   */
  private async restore(): Promise<void> {
    const { records, damaged } = await this.sessionStore.loadAll();
    for (const { path, keptAs, problem } of damaged) {
      this.log(
        `WARNING: session file ${path} is damaged (${problem}); kept as ${keptAs}, not restored`
      );
    }
    for (const record of records) {
      for (const pid of record.pids) await this.stopOrphan(pid, record.uid);
      record.pids = [];
      const session: LiveSession = { record, queue: Promise.resolve() };
      this.pool.claim(record.ports);
      this.sessions.set(record.uid, session);
      if (record.state === 'waiting-hello') {
        await this.drop(session, 'restarted while waiting for hello');
        continue;
      }
      if (record.state === 'streaming') {
        try {
          await this.startDataPlane(session);
        } catch (error) {
          this.log(`session ${record.uid}: cannot restore data plane: ${(error as Error).message}`);
          await this.drop(session, 'restore failed');
          continue;
        }
      }
      this.log(`session ${record.uid}: restored (${record.state})`);
    }
  }

  private async stopOrphan(pid: number, uid: string): Promise<void> {
    if (!(await isRunning(pid))) return;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    // Only a proxy started for this session (its configuration path names the session).
    if (!cmdline.includes(join('run', uid))) return;
    process.kill(pid, 'SIGTERM');
    // Its ports must be free before the session's data plane starts again.
    for (let waited = 0; await isRunning(pid); waited += 50) {
      if (waited >= ORPHAN_STOP_MS) process.kill(pid, 'SIGKILL');
      await new Promise(resolve => setTimeout(resolve, 50));
    }
    this.log(`session ${uid}: stopped orphaned proxy ${pid}`);
  }

  private statusOf(record: SessionRecord): SessionStatus {
    return {
      uid: record.uid,
      role: record.role,
      state: record.state,
      num_conn: record.numConn,
      backend: record.backend,
      listeners: this.listeners(record),
      targets: record.targets,
      owner: record.owner,
      created_ms: record.createdMs,
      reason: ''
    };
  }

  private async status(request: SessionQuery, identity: Identity): Promise<SessionStatus> {
    return this.statusOf(this.owned(this.checkedUid(request.uid), identity).record);
  }

  private async list(_request: object, identity: Identity): Promise<{ sessions: SessionStatus[] }> {
    const mine = [...this.sessions.values()].filter(
      session => this.options.auth === null || session.record.owner === identity.subject
    );
    return { sessions: mine.map(session => this.statusOf(session.record)) };
  }

  private async metrics(request: SessionQuery, identity: Identity): Promise<SessionMetrics> {
    const session = this.owned(this.checkedUid(request.uid), identity);
    const channels = (await session.dataPlane?.counters()) ?? [];
    return {
      uid: session.record.uid,
      channels,
      bytes_in: channels.reduce((sum, channel) => sum + channel.bytes_in, 0),
      bytes_out: channels.reduce((sum, channel) => sum + channel.bytes_out, 0),
      throughput_bps: channels.reduce((sum, channel) => sum + channel.throughput_bps, 0)
    };
  }

  private async version(): Promise<VersionInfo> {
    return {
      protocol_version: GATEWAY_PROTOCOL_VERSION,
      server: 'pilot-streaming s2cs',
      backends: [...BACKENDS],
      auth_required: this.options.auth !== null
    };
  }

  private async sessionKey(request: SessionQuery, identity: Identity): Promise<SessionKeyMessage> {
    const session = this.owned(this.checkedUid(request.uid), identity);
    if (session.record.role !== 'PROD' || session.record.psk === '') {
      throw new ControlError(
        grpc.status.FAILED_PRECONDITION,
        `session "${request.uid}" is not a producer session; keys come from the producer gateway`
      );
    }
    return {
      uid: session.record.uid,
      psk: Buffer.from(session.record.psk, 'hex'),
      backend: session.record.backend
    };
  }
}
