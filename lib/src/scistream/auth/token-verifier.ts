import * as grpc from '@grpc/grpc-js';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';

/** Who made a control call: the token's subject (or client id for client-credentials tokens). */
export interface Identity {
  subject: string;
  scopes: string[];
}

/** An authentication failure that maps onto a gRPC status; the message never contains the token. */
export class AuthError extends Error {
  constructor(
    message: string,
    readonly code: grpc.status = grpc.status.UNAUTHENTICATED
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

export interface TokenVerifier {
  /** Resolves the identity behind a raw access token or rejects with an AuthError. */
  verify(token: string): Promise<Identity>;
  readonly description: string;
}

/** Identity recorded for sessions when auth is disabled by an explicit flag. */
export const ANONYMOUS: Identity = { subject: 'anonymous', scopes: [] };

/**
 * The token of a call. The original client sends the raw token in `authorization`; standard
 * clients send `Bearer <token>`: both are accepted.
 */
export function tokenFromMetadata(metadata: grpc.Metadata): string {
  const values = metadata.get('authorization');
  if (values.length === 0) throw new AuthError('missing "authorization" metadata (bearer token)');
  const value = String(values[0]).trim();
  const bearer = /^bearer(?:\s+(.*))?$/i.exec(value);
  const token = bearer ? (bearer[1] ?? '').trim() : value;
  if (token.length === 0) throw new AuthError('empty bearer token in "authorization" metadata');
  return token;
}

function scopesOf(claims: Record<string, unknown>): string[] {
  if (typeof claims.scope === 'string') return claims.scope.split(' ').filter(Boolean);
  if (Array.isArray(claims.scp)) return claims.scp.map(String);
  return [];
}

function identityOf(claims: Record<string, unknown>, requiredScope: string): Identity {
  const subject =
    typeof claims.sub === 'string' && claims.sub !== ''
      ? claims.sub
      : typeof claims.client_id === 'string'
        ? claims.client_id
        : '';
  if (subject === '') throw new AuthError('token names no subject (sub or client_id)');
  const scopes = scopesOf(claims);
  if (!scopes.includes(requiredScope)) {
    throw new AuthError(
      `token lacks the required scope "${requiredScope}" (has: ${scopes.join(' ') || 'none'})`,
      grpc.status.PERMISSION_DENIED
    );
  }
  return { subject, scopes };
}

export interface JwksVerifierOptions {
  issuer: string;
  /** Defaults to the issuer's discovery document's jwks_uri. */
  jwksUri?: string;
  audience?: string;
  requiredScope: string;
}

/** Validates JWT access tokens: signature against the issuer's JWKS, issuer, expiry, audience, scope. */
export class JwksTokenVerifier implements TokenVerifier {
  private keySet?: ReturnType<typeof createRemoteJWKSet>;
  readonly description: string;

  constructor(private readonly options: JwksVerifierOptions) {
    this.description = `JWT from ${options.issuer} with scope "${options.requiredScope}"`;
  }

  private async keys(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (this.keySet) return this.keySet;
    let uri = this.options.jwksUri;
    if (uri === undefined) {
      const discovery = `${this.options.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
      const response = await fetch(discovery);
      if (!response.ok) throw new Error(`OIDC discovery ${discovery} answered ${response.status}`);
      const document = (await response.json()) as { jwks_uri?: unknown };
      if (typeof document.jwks_uri !== 'string') {
        throw new Error(`OIDC discovery ${discovery} has no jwks_uri`);
      }
      uri = document.jwks_uri;
    }
    this.keySet = createRemoteJWKSet(new URL(uri));
    return this.keySet;
  }

  async verify(token: string): Promise<Identity> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await this.keys(), {
        issuer: this.options.issuer,
        audience: this.options.audience
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new AuthError('token expired');
      if (error instanceof joseErrors.JOSEError) {
        throw new AuthError(`token rejected: ${error.code}`);
      }
      throw error;
    }
    return identityOf(payload, this.options.requiredScope);
  }
}

export interface IntrospectionVerifierOptions {
  /** RFC 7662 endpoint, e.g. Globus Auth's https://auth.globus.org/v2/oauth2/token/introspect */
  endpoint: string;
  clientId: string;
  clientSecret: string;
  requiredScope: string;
}

/** Validates opaque tokens by asking the issuer (RFC 7662), as Globus Auth requires. */
export class IntrospectionTokenVerifier implements TokenVerifier {
  readonly description: string;

  constructor(private readonly options: IntrospectionVerifierOptions) {
    this.description = `introspection at ${options.endpoint} with scope "${options.requiredScope}"`;
  }

  async verify(token: string): Promise<Identity> {
    const basic = Buffer.from(
      `${encodeURIComponent(this.options.clientId)}:${encodeURIComponent(this.options.clientSecret)}`
    ).toString('base64');
    const response = await fetch(this.options.endpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded'
      },
      body: new URLSearchParams({ token }).toString()
    });
    if (!response.ok) {
      const detail = (await response.text()).slice(0, 200);
      throw new Error(
        `token introspection at ${this.options.endpoint} answered ${response.status}: ${detail}`
      );
    }
    const claims = (await response.json()) as Record<string, unknown>;
    if (claims.active !== true) throw new AuthError('token inactive or expired (introspection)');
    return identityOf(claims, this.options.requiredScope);
  }
}
