import * as grpc from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
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

  /** The same refusal, saying which tokens the gateway accepts (the issuer, for the user). */
  accepting(description: string): AuthError {
    return new AuthError(`${this.message}; this gateway accepts ${description}`, this.code);
  }
}

/** How long the issuer may take to answer one request (discovery, JWKS, introspection). */
const DEFAULT_ISSUER_TIMEOUT_MS = 5000;

/** The issuer cannot be asked (silent, unreachable, or answering nonsense): retry later. */
function issuerUnavailable(message: string, cause?: unknown): AuthError {
  const error = new AuthError(message, grpc.status.UNAVAILABLE);
  if (cause !== undefined) error.cause = cause;
  return error;
}

/**
 * Fetches `url` and reads its JSON body, all within `timeoutMs`; failures name `what` and say
 * what went wrong (no answer in time, unreachable, not JSON) as an `issuerUnavailable`.
 */
async function fetchJson(
  url: string,
  init: RequestInit,
  timeoutMs: number,
  what: string
): Promise<{ status: number; ok: boolean; body: unknown; text: string }> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: response.status, ok: response.ok, body, text };
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') {
      throw issuerUnavailable(`${what} did not answer within ${seconds(timeoutMs)}`, error);
    }
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (error as Error).message;
    throw issuerUnavailable(`${what} cannot be reached (${reason})`, error);
  }
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

export interface TokenVerifier {
  /** Resolves the identity behind a raw access token or rejects with an AuthError. */
  verify(token: string): Promise<Identity>;
  /** Asks the issuer once (at gateway start-up): rejects, naming it, if it cannot be used. */
  check(): Promise<void>;
  /** Which tokens are accepted, naming the issuer (it goes into every refusal). */
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
  /**
   * The audience (`aud`) tokens must name: this gateway, so that a token the issuer gave for
   * another service is refused here. `null` accepts any audience, which a caller must choose.
   */
  audience: string | null;
  requiredScope: string;
  /** How long the issuer may take to answer a discovery or JWKS request (default 5 s). */
  timeoutMs?: number;
}

/** Validates JWT access tokens: signature against the issuer's JWKS, issuer, expiry, audience, scope. */
export class JwksTokenVerifier implements TokenVerifier {
  private keySet?: ReturnType<typeof createRemoteJWKSet>;
  private jwksUri?: string;
  private readonly timeoutMs: number;
  readonly description: string;

  constructor(private readonly options: JwksVerifierOptions) {
    this.description =
      `JWT from issuer ${options.issuer} with scope "${options.requiredScope}"` +
      (options.audience !== null ? ` for audience "${options.audience}"` : ' for any audience');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_ISSUER_TIMEOUT_MS;
  }

  private get issuerName(): string {
    return `issuer ${this.options.issuer}`;
  }

  private async discoverJwksUri(): Promise<string> {
    const discovery = `${this.options.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const what = `${this.issuerName}: OIDC discovery ${discovery}`;
    const { ok, status, body } = await fetchJson(discovery, {}, this.timeoutMs, what);
    if (!ok) throw issuerUnavailable(`${what} answered ${status}`);
    const jwksUri = (body as { jwks_uri?: unknown } | undefined)?.jwks_uri;
    if (typeof jwksUri !== 'string') throw issuerUnavailable(`${what} names no jwks_uri`);
    return jwksUri;
  }

  private async keys(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (this.keySet) return this.keySet;
    const uri = this.options.jwksUri ?? (await this.discoverJwksUri());
    let url: URL;
    try {
      url = new URL(uri);
    } catch (error) {
      throw issuerUnavailable(`${this.issuerName}: JWKS "${uri}" is not a URL`, error);
    }
    this.jwksUri = uri;
    this.keySet = createRemoteJWKSet(url, { timeoutDuration: this.timeoutMs });
    return this.keySet;
  }

  /**
   * A failure to get the keys (discovery or JWKS: silent, unreachable, nonsense) as an
   * `issuerUnavailable` naming the issuer; undefined for anything else (e.g. a bad token).
   */
  private keysFailure(error: unknown): AuthError | undefined {
    if (error instanceof AuthError) return error;
    const what = `${this.issuerName}: JWKS ${this.jwksUri ?? ''}`;
    if (error instanceof joseErrors.JWKSTimeout) {
      return issuerUnavailable(`${what} did not answer within ${seconds(this.timeoutMs)}`, error);
    }
    // jose reports a non-200 answer or a body that is no JSON as its generic error.
    if (
      error instanceof joseErrors.JWKSInvalid ||
      (error instanceof joseErrors.JOSEError && error.code === 'ERR_JOSE_GENERIC')
    ) {
      return issuerUnavailable(`${what} cannot be used (${error.message})`, error);
    }
    if (error instanceof TypeError && error.message === 'fetch failed') {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      return issuerUnavailable(
        `${what} cannot be reached (${cause?.code ?? cause?.message ?? 'fetch failed'})`,
        error
      );
    }
    return undefined;
  }

  async check(): Promise<void> {
    const keySet = await this.keys();
    try {
      await keySet.reload();
    } catch (error) {
      throw this.keysFailure(error) ?? error;
    }
  }

  async verify(token: string): Promise<Identity> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await this.keys(), {
        issuer: this.options.issuer,
        ...(this.options.audience !== null ? { audience: this.options.audience } : {})
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new AuthError('token expired');
      if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'aud') {
        throw new AuthError(
          `token is for audience ${JSON.stringify(error.payload.aud ?? null)}, not "${this.options.audience ?? ''}"`
        );
      }
      const unavailable = this.keysFailure(error);
      if (unavailable !== undefined) throw unavailable;
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
  /** How long the endpoint may take to answer (default 5 s). */
  timeoutMs?: number;
}

/** Validates opaque tokens by asking the issuer (RFC 7662), as Globus Auth requires. */
export class IntrospectionTokenVerifier implements TokenVerifier {
  readonly description: string;

  constructor(private readonly options: IntrospectionVerifierOptions) {
    this.description = `tokens known to introspection at ${options.endpoint} with scope "${options.requiredScope}"`;
  }

  /** The endpoint's claims about `token`; refusals and silence name the endpoint. */
  private async introspect(token: string): Promise<Record<string, unknown>> {
    const basic = Buffer.from(
      `${encodeURIComponent(this.options.clientId)}:${encodeURIComponent(this.options.clientSecret)}`
    ).toString('base64');
    const what = `token introspection at ${this.options.endpoint}`;
    const { ok, status, body, text } = await fetchJson(
      this.options.endpoint,
      {
        method: 'POST',
        headers: {
          authorization: `Basic ${basic}`,
          'content-type': 'application/x-www-form-urlencoded'
        },
        body: new URLSearchParams({ token }).toString()
      },
      this.options.timeoutMs ?? DEFAULT_ISSUER_TIMEOUT_MS,
      what
    );
    if (!ok) throw issuerUnavailable(`${what} answered ${status}: ${text.slice(0, 200)}`);
    if (typeof body !== 'object' || body === null) {
      throw issuerUnavailable(`${what} answered no JSON object: ${text.slice(0, 200)}`);
    }
    return body as Record<string, unknown>;
  }

  /** Asks about a random token: the endpoint must answer and accept our client credentials. */
  async check(): Promise<void> {
    await this.introspect(randomBytes(16).toString('hex'));
  }

  async verify(token: string): Promise<Identity> {
    const claims = await this.introspect(token);
    if (claims.active !== true) throw new AuthError('token inactive or expired (introspection)');
    return identityOf(claims, this.options.requiredScope);
  }
}
