import type { TesseraError } from '@tessera/protocol';

/**
 * How a token was validated: `jwt` verified here against the issuer's keys, `opaque` accepted by
 * the issuer's introspection (which is also how PASETO and custom formats are checked).
 */
export type ValidatedAs = 'jwt' | 'opaque';

/** What a handler learns about the caller. Frozen: cached results are shared between requests. */
export interface AuthInfo {
  /** The subject (`sub`): the user, or the client itself for `client_credentials`. */
  readonly sub: string;
  /** The OAuth client the token was issued to (`client_id`). */
  readonly clientId: string;
  /** Granted scopes, split from the space-separated `scope` claim. */
  readonly scope: readonly string[];
  /** Roles from the `roles` claim; empty when absent. */
  readonly roles: readonly string[];
  /** The session (token family) id, when the token carries `sid`. */
  readonly sid?: string;
  /** The token id (`jti`). */
  readonly jti?: string;
  /** Expiry, seconds since the epoch. */
  readonly exp: number;
  /** Every claim (JWT payload or introspection answer), deep-frozen. */
  readonly claims: Readonly<Record<string, unknown>>;
  readonly format: ValidatedAs;
}

/** A refused request, ready to be written as an RFC 6750 answer. */
export interface AuthFailure {
  readonly ok: false;
  /** 400, 401, 403 or 503. */
  readonly status: number;
  readonly error: TesseraError;
  /** The `WWW-Authenticate` value; absent for 503 (not the caller's fault). */
  readonly wwwAuthenticate: string | undefined;
  /** A fresh DPoP nonce for the `DPoP-Nonce` header (with `use_dpop_nonce`). */
  readonly dpopNonce?: string;
}

export interface AuthSuccess {
  readonly ok: true;
  readonly auth: AuthInfo;
}

/** The answer of `authenticate`: never throws for a bad token. */
export type AuthResult = AuthSuccess | AuthFailure;

/** What a route demands beyond a valid token. */
export interface RequireAuthOptions {
  /** Every one of these scopes must be granted. */
  scopes?: readonly string[];
  /** At least one of these roles must be held. */
  roles?: readonly string[];
}
