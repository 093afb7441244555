import { chmod } from 'node:fs/promises';
import {
  Agent,
  createServer,
  request as httpRequest,
  STATUS_CODES,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse
} from 'node:http';
import type { Duplex } from 'node:stream';
import type { DashboardTarget } from '../frameworks/plugin.js';
import type { Pilot } from '../pilot/pilot.js';
import { PilotNotFoundError, PilotStateError } from '../pilot/errors.js';
import { DASHBOARD_PREFIX, pilotIdSchema } from '../protocol/index.js';

/**
 * The pilots' dashboards for a browser, behind the Jupyter server: jupyter-server-proxy starts
 * this server on a Unix socket in a directory of its own (0700) and forwards
 * `<base>/pilot-dashboards/<pilot id>/<path>` to it only for users the Jupyter server has
 * authenticated. The dashboards themselves take mutual TLS only (a browser has no pilot
 * certificate): requests and websockets go on with the pilot's client certificate, through the
 * resource's ssh connection for a remote pilot.
 */

/** What the proxy needs of the pilot service. */
export interface DashboardPilots {
  getPilot(id: string): Promise<Pilot>;
}

export interface DashboardProxy {
  close(): Promise<void>;
}

/** An answer of the proxy itself: a status and a sentence saying why. */
class ProxyAnswer extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message);
  }
}

interface Route {
  pilotId: string;
  /** The path (and query) on the dashboard. */
  path: string;
}

/** `/<pilot id>/<path>` of a request, or undefined for the proxy's own root. */
export function routeOf(url: string | undefined): Route | undefined {
  const match = /^\/([^/?#]+)(.*)$/.exec(url ?? '/');
  if (match === null) return undefined;
  let pilotId: string;
  try {
    pilotId = decodeURIComponent(match[1]!);
  } catch {
    pilotId = match[1]!;
  }
  if (!pilotIdSchema.safeParse(pilotId).success) {
    throw new ProxyAnswer(
      404,
      `"${pilotId}" is not a pilot id: dashboards are at ${DASHBOARD_PREFIX}/<pilot id>/`
    );
  }
  const rest = match[2]!;
  return { pilotId, path: rest.startsWith('/') ? rest : `/${rest}` };
}

/**
 * A dashboard's absolute redirect ("/status") stays under the pilot's prefix: the Jupyter
 * side adds its own prefix, this adds the pilot's.
 */
export function locationUnder(pilotId: string, location: string): string {
  return location.startsWith('/') && !location.startsWith('//')
    ? `/${pilotId}${location}`
    : location;
}

/** The HTTP status of the proxy's own answer to a request that failed with `error`. */
function statusOf(error: unknown): number {
  if (error instanceof ProxyAnswer) return error.status;
  if (error instanceof PilotNotFoundError) return 404;
  if (error instanceof PilotStateError) return 409;
  return 502;
}

/** Headers of one hop that are not passed on (RFC 9110 §7.6.1). */
const HOP_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding'
]);

/**
 * Headers in which jupyter-server-proxy tells an application the path it is served under
 * (Spark's UI prefixes its links with X-Forwarded-Context).
 */
const CONTEXT_HEADERS = ['x-forwarded-context', 'x-proxycontextpath', 'x-forwarded-prefix'];

/** The path the browser reaches the pilot's dashboard under: the proxy's own, and its id. */
export function contextUnder(pilotId: string, context: string | string[] | undefined): string {
  const outer = (Array.isArray(context) ? context[0] : context) ?? '';
  return `${outer.replace(/\/+$/, '')}/${pilotId}`;
}

function forwardedHeaders(
  request: IncomingMessage,
  host: string,
  pilotId: string
): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (!HOP_HEADERS.has(name) && value !== undefined) headers[name] = value;
  }
  headers.host = host;
  const context = contextUnder(pilotId, request.headers['x-forwarded-context']);
  for (const name of CONTEXT_HEADERS) headers[name] = context;
  return headers;
}

export async function startDashboardProxy(options: {
  pilots: DashboardPilots;
  socketPath: string;
  log?: (line: string) => void;
}): Promise<DashboardProxy> {
  const { pilots, socketPath } = options;
  const log = options.log ?? (() => undefined);
  /** Per pilot: its dashboard and a keep-alive pool of connections to it. */
  const targets = new Map<string, Promise<{ target: DashboardTarget; agent: Agent }>>();

  const targetOf = (pilotId: string): Promise<{ target: DashboardTarget; agent: Agent }> => {
    let made = targets.get(pilotId);
    if (made === undefined) {
      made = (async () => {
        const pilot = await pilots.getPilot(pilotId);
        const target = await pilot.dashboard();
        const agent = new Agent({ keepAlive: true, maxSockets: 16 });
        agent.createConnection = (_options, onCreate) => {
          const socket = target.connect(() => onCreate?.(null, socket));
          socket.once('error', (error: Error) => {
            // A refused connection means the dashboard moved or ended: look again next time.
            forget(pilotId);
            onCreate?.(error, socket);
          });
          return socket;
        };
        return { target, agent };
      })();
      targets.set(pilotId, made);
      made.catch(() => forget(pilotId));
    }
    return made;
  };
  const forget = (pilotId: string): void => {
    const made = targets.get(pilotId);
    targets.delete(pilotId);
    void made?.then(({ agent }) => agent.destroy()).catch(() => undefined);
  };

  /**
   * Why a dashboard did not answer: most often its pilot ended, and then its state says so
   * better than a socket error does.
   */
  const whyUnreachable = async (
    pilotId: string,
    target: DashboardTarget,
    error: Error
  ): Promise<unknown> => {
    forget(pilotId);
    try {
      await targetOf(pilotId);
    } catch (why) {
      return why;
    }
    return new Error(`its dashboard at ${target.address} cannot be reached: ${error.message}`);
  };

  const answer = (response: ServerResponse, error: unknown, pilotId?: string): void => {
    const status = statusOf(error);
    const message = (error as Error).message;
    if (status === 502) log(`dashboard of ${pilotId ?? '?'}: ${message}`);
    if (response.headersSent) {
      response.destroy(error as Error);
      return;
    }
    response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
    response.end(`${STATUS_CODES[status] ?? status}: ${message}\n`);
  };

  /** Websockets in flight, which closing the server does not end by itself. */
  const upgraded = new Set<Duplex>();
  const server = createServer((request, response) => {
    let route: Route | undefined;
    try {
      route = routeOf(request.url);
    } catch (error) {
      answer(response, error);
      return;
    }
    if (route === undefined) {
      // The root: jupyter-server-proxy's readiness check, and a hint for a person.
      response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(`Pilot-Streaming dashboards: open ${DASHBOARD_PREFIX}/<pilot id>/\n`);
      return;
    }
    const { pilotId, path } = route;
    targetOf(pilotId).then(
      ({ target, agent }) => {
        const upstream = httpRequest(
          {
            agent,
            method: request.method,
            path,
            headers: forwardedHeaders(request, new URL(target.address).host, pilotId)
          },
          reply => {
            const headers = { ...reply.headers };
            for (const name of HOP_HEADERS) delete headers[name];
            if (typeof headers.location === 'string') {
              headers.location = locationUnder(pilotId, headers.location);
            }
            response.writeHead(reply.statusCode ?? 502, headers);
            reply.pipe(response);
          }
        );
        upstream.on(
          'error',
          error =>
            void whyUnreachable(pilotId, target, error).then(why => answer(response, why, pilotId))
        );
        request.pipe(upstream);
      },
      (error: unknown) => answer(response, error, pilotId)
    );
  });

  // Websockets (Bokeh's live plots): the upgrade request goes on as it came, then bytes flow.
  server.on('upgrade', (request: IncomingMessage, client: Duplex, head: Buffer) => {
    const refuse = (status: number, message: string): void => {
      client.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${message}\n`
      );
    };
    let route: Route | undefined;
    try {
      route = routeOf(request.url);
    } catch (error) {
      refuse(statusOf(error), (error as Error).message);
      return;
    }
    if (route === undefined) {
      refuse(404, 'no websocket here');
      return;
    }
    const { pilotId, path } = route;
    upgraded.add(client);
    client.on('close', () => upgraded.delete(client));
    client.on('error', () => client.destroy());
    targetOf(pilotId).then(
      ({ target }) => {
        const upstream = target.connect(() => {
          const headers = Object.entries({
            ...request.headers,
            host: new URL(target.address).host
          }).flatMap(([name, value]) =>
            (Array.isArray(value) ? value : [value]).map(one => `${name}: ${one ?? ''}`)
          );
          upstream.write(
            `${request.method ?? 'GET'} ${path} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`
          );
          if (head.length > 0) upstream.write(head);
          upstream.pipe(client);
          client.pipe(upstream);
        });
        upstream.on('error', (error: Error) => {
          if (!client.writable) {
            client.destroy();
            return;
          }
          void whyUnreachable(pilotId, target, error).then(why =>
            refuse(statusOf(why), (why as Error).message)
          );
        });
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      },
      (error: unknown) => refuse(statusOf(error), (error as Error).message)
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Its directory already keeps others out; the socket itself does too.
  await chmod(socketPath, 0o600);
  return {
    close: async () => {
      await new Promise<void>(resolve => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const client of upgraded) client.destroy();
      });
      for (const pilotId of [...targets.keys()]) forget(pilotId);
    }
  };
}
