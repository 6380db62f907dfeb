import { LIMITS } from '../config/limits.js';

/** Claims of an access token, whatever its format (RFC 9068 names). Times in seconds. */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  client_id: string;
  scope: string;
  jti: string;
  iat: number;
  exp: number;
  /** The session (token family) the token belongs to; absent for client_credentials tokens. */
  sid?: string;
  roles?: string[];
  cnf?: { jkt: string };
}

/**
 * An access-token format. A custom format is a module implementing this interface:
 * the server calls `issue` for every access token and `verify` for introspection, revocation
 * and logout.
 */
export interface TokenFormat {
  /** A short name (`jwt`, `opaque`, `paseto`, ...), unique per server. */
  readonly name: string;
  /** Makes the token string for `claims`. */
  issue(claims: AccessTokenClaims): Promise<string>;
  /**
   * The claims of a token this format issued and whose integrity holds, or `undefined` when the
   * token is not this format's or is forged. Expiry and revocation are the caller's business.
   */
  verify(token: string): Promise<AccessTokenClaims | undefined>;
  /** Fields this format adds to the server metadata (RFC 8414). */
  metadata?(): Record<string, unknown>;
}

/** The most bytes any access token may have; checked before any parsing. */
export const MAX_ACCESS_TOKEN_BYTES = LIMITS.maxAccessTokenBytes;
