import * as grpc from '@grpc/grpc-js';
import { isIP } from 'node:net';
import { checkServerIdentity } from 'node:tls';
import {
  ControlService,
  GatewayService,
  type AppResponse,
  type ControlResponse,
  type SessionKeyMessage,
  type SessionMetrics,
  type SessionStatus,
  type VersionInfo
} from '../proto/services.js';
import { parseEndpoint } from '../s2ds/data-plane.js';

export interface GatewayOptions {
  /** host:port of the gateway's S2CS. */
  address: string;
  /** PEM of the CA (or self-signed certificate) that the S2CS certificate must chain to. */
  caCert: Buffer;
  /** Access token, or a function returning a fresh one; omitted when the S2CS runs without auth. */
  token?: string | (() => Promise<string>);
  /** Name to verify in the server certificate when it differs from the address's host. */
  serverName?: string;
  /** Per-call deadline; the producer-side `req` waits for `hello`, so keep it generous. */
  deadlineMs?: number;
}

/** TLS server name sent when the gateway is addressed by IP (.invalid never resolves: RFC 2606). */
const NO_SERVER_NAME = 'gateway-addressed-by-ip.invalid';

/** Extra per-call metadata our S2CS understands and the original ignores. */
export interface CallExtras {
  /** S2DS backend for a new session (`req`). */
  backend?: string;
  /** Producer gateway's S2CS address, as reachable from the consumer gateway (`update`, CONS). */
  peer?: string;
  /** Forward this raw token instead of our own (gateway-to-gateway calls). */
  token?: string;
}

type Unary<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response?: Res) => void
) => grpc.ClientUnaryCall;

/** A connection to one gateway's S2CS: both the scistream.Control and our Gateway service. */
export class Gateway {
  private readonly control: grpc.Client;
  private readonly gateway: grpc.Client;

  constructor(readonly options: GatewayOptions) {
    const host = parseEndpoint(options.address, 'gateway address').host;
    let credentials = grpc.credentials.createSsl(options.caCert);
    let channelOptions: grpc.ChannelOptions = {};
    if (options.serverName) {
      channelOptions = { 'grpc.ssl_target_name_override': options.serverName };
    } else if (isIP(host)) {
      // grpc-js would send the IP as TLS server name, which RFC 6066 forbids (Node warns,
      // DEP0123): send a name that cannot exist instead, and check the IP in the certificate.
      channelOptions = { 'grpc.ssl_target_name_override': NO_SERVER_NAME };
      credentials = grpc.credentials.createSsl(options.caCert, null, null, {
        checkServerIdentity: (_name, certificate) => checkServerIdentity(host, certificate)
      });
    }
    this.control = new ControlService(options.address, credentials, channelOptions);
    // Both services share the channel (same address, credentials and options).
    this.gateway = new GatewayService(options.address, credentials, {
      ...channelOptions,
      channelOverride: this.control.getChannel()
    });
  }

  get address(): string {
    return this.options.address;
  }

  private async metadata(extras: CallExtras): Promise<grpc.Metadata> {
    const metadata = new grpc.Metadata();
    const token =
      extras.token ??
      (typeof this.options.token === 'function' ? await this.options.token() : this.options.token);
    if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
    if (extras.backend !== undefined) metadata.set('x-scistream-backend', extras.backend);
    if (extras.peer !== undefined) metadata.set('x-scistream-peer', extras.peer);
    return metadata;
  }

  private async call<Req, Res>(
    client: grpc.Client,
    method: string,
    request: Req,
    extras: CallExtras = {}
  ): Promise<Res> {
    const metadata = await this.metadata(extras);
    const fn = (client as unknown as Record<string, Unary<Req, Res>>)[method].bind(client);
    const deadline = Date.now() + (this.options.deadlineMs ?? 300_000);
    return new Promise((resolve, reject) => {
      fn(request, metadata, { deadline }, (error, response) => {
        if (error)
          reject(
            new Error(`${this.address} ${method}: ${error.details || error.message}`, {
              cause: error
            })
          );
        else resolve(response as Res);
      });
    });
  }

  req(uid: string, role: 'PROD' | 'CONS', numConn: number, rate = 0, extras: CallExtras = {}) {
    return this.call<object, ControlResponse>(
      this.control,
      'req',
      { uid, role, num_conn: numConn, rate },
      extras
    );
  }

  hello(uid: string, prodListeners: string[], role: 'PROD' | 'CONS' = 'PROD') {
    return this.call<object, AppResponse>(this.control, 'hello', {
      uid,
      prod_listeners: prodListeners,
      role
    });
  }

  update(uid: string, remoteListeners: string[], role: 'PROD' | 'CONS', extras: CallExtras = {}) {
    return this.call<object, ControlResponse>(
      this.control,
      'update',
      { uid, remote_listeners: remoteListeners, role },
      extras
    );
  }

  release(uid: string) {
    return this.call<object, ControlResponse>(this.control, 'release', { uid });
  }

  status(uid: string) {
    return this.call<object, SessionStatus>(this.gateway, 'status', { uid });
  }

  async list(): Promise<SessionStatus[]> {
    const list = await this.call<object, { sessions: SessionStatus[] }>(this.gateway, 'list', {});
    return list.sessions;
  }

  metrics(uid: string) {
    return this.call<object, SessionMetrics>(this.gateway, 'metrics', { uid });
  }

  version() {
    return this.call<object, VersionInfo>(this.gateway, 'version', {});
  }

  sessionKey(uid: string, extras: CallExtras = {}) {
    return this.call<object, SessionKeyMessage>(this.gateway, 'sessionKey', { uid }, extras);
  }

  close(): void {
    this.gateway.close();
    this.control.close();
  }
}
