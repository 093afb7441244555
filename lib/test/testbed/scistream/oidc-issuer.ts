import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

/** A client of the test issuer: client-credentials grant, tokens carry `sub` = client id. */
export interface IssuerClient {
  id: string;
  secret: string;
  scope: string;
}

export const SCISTREAM_SCOPE = 'scistream';
export const AUDIENCE = 'urn:pilot-streaming:scistream';
/** Resource whose tokens live one second, for expired-token tests. */
const SHORT_LIVED_RESOURCE = 'urn:pilot-streaming:scistream:short';
/** Resource whose tokens are opaque (validated by introspection, as Globus Auth's are). */
const OPAQUE_RESOURCE = 'urn:pilot-streaming:scistream:opaque';
/** Another service of the same issuer: its tokens name it as their audience, not SciStream. */
export const OTHER_SERVICE = 'urn:pilot-streaming:other-service';

/**
 * A real OpenID Connect provider (oidc-provider) on loopback issuing JWT access tokens by the
 * client-credentials grant. Clients get random secrets per run.
 */
export class OidcIssuer {
  readonly clients: Record<'alice' | 'bob' | 'mallory', IssuerClient>;
  private server?: http.Server;
  private socketServer?: http.Server;
  issuer = '';

  constructor() {
    const client = (id: string, scope: string): IssuerClient => ({
      id,
      secret: randomBytes(24).toString('base64url'),
      scope
    });
    this.clients = {
      alice: client('alice', `${SCISTREAM_SCOPE} other`),
      bob: client('bob', `${SCISTREAM_SCOPE} other`),
      // Has a valid token, but not for SciStream.
      mallory: client('mallory', 'other')
    };
  }

  async start(): Promise<string> {
    this.server = http.createServer();
    await new Promise<void>(resolve => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.issuer = `http://127.0.0.1:${port}`;
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'test' };
    const provider = new Provider(this.issuer, {
      clients: Object.values(this.clients).map(c => ({
        client_id: c.id,
        client_secret: c.secret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        scope: c.scope
      })),
      jwks: { keys: [jwk] },
      scopes: [SCISTREAM_SCOPE, 'other'],
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        introspection: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => AUDIENCE,
          getResourceServerInfo: (_ctx, resource) => ({
            scope: `${SCISTREAM_SCOPE} other`,
            audience: resource === OTHER_SERVICE ? OTHER_SERVICE : AUDIENCE,
            accessTokenFormat: resource === OPAQUE_RESOURCE ? 'opaque' : 'jwt',
            accessTokenTTL: resource === SHORT_LIVED_RESOURCE ? 1 : 300
          })
        }
      }
    });
    this.server.on('request', provider.callback());
    return this.issuer;
  }

  /** An access token for `client` (scope: everything the client may have). */
  async token(
    client: IssuerClient,
    options: { shortLived?: boolean; opaque?: boolean; otherService?: boolean } = {}
  ): Promise<string> {
    const body = new URLSearchParams({ grant_type: 'client_credentials', scope: client.scope });
    if (options.shortLived) body.set('resource', SHORT_LIVED_RESOURCE);
    if (options.opaque) body.set('resource', OPAQUE_RESOURCE);
    if (options.otherService) body.set('resource', OTHER_SERVICE);
    const response = await fetch(`${this.issuer}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded'
      },
      body
    });
    const json = (await response.json()) as { access_token?: string; error_description?: string };
    if (!response.ok || json.access_token === undefined) {
      throw new Error(
        `token request for ${client.id} failed: ${response.status} ${json.error_description ?? ''}`
      );
    }
    return json.access_token;
  }

  /**
   * Serves the issuer on a Unix socket too, so processes in network namespaces can reach it
   * through a bridge that listens on their own loopback at the issuer's port (same URLs).
   */
  async listenUnix(path: string): Promise<void> {
    const handler = this.server!.listeners('request')[0] as http.RequestListener;
    this.socketServer = http.createServer(handler);
    await new Promise<void>(resolve => this.socketServer!.listen(path, resolve));
  }

  get port(): number {
    return (this.server!.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const server of [this.socketServer, this.server]) {
      if (!server) continue;
      server.closeAllConnections();
      await new Promise<void>(resolve => server.close(() => resolve()));
    }
  }
}
