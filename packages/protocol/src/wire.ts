/** Wire types shared by the server, the middleware, the SDK and the dashboard. */

/** The token endpoint's success answer (RFC 6749 §5.1). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer' | 'DPoP';
  /** Seconds until the access token expires, counted from when the answer was sent. */
  expires_in: number;
  /** Absent for grants that issue no refresh token, and in browser cookie mode. */
  refresh_token?: string;
  /** Seconds until the refresh token expires (idle lifetime, capped by the session's absolute lifetime). */
  refresh_token_expires_in?: number;
  scope: string;
  revocation_endpoint: string;
}

/** RFC 7662 introspection answer. An inactive token is exactly `{ active: false }`. */
export type IntrospectionResponse =
  | { active: false }
  | {
      active: true;
      token_type: 'Bearer' | 'DPoP' | 'refresh_token';
      scope: string;
      client_id: string;
      sub: string;
      username?: string;
      exp: number;
      iat: number;
      iss: string;
      aud?: string | string[];
      jti?: string;
      sid?: string;
      /** Tessera extension: the user's roles, as in the JWT `roles` claim. */
      roles?: string[];
      cnf?: { jkt: string };
    };

/** The lifecycle event types recorded by the server. */
export const EVENT_TYPES = [
  'login.succeeded',
  'login.failed',
  'token.issued',
  'token.refreshed',
  'token.refresh_failed',
  'token.grace_reuse',
  'token.reuse.detected',
  'token.revoked',
  'session.ended',
  'key.rotated',
  'admin.action',
  'dpop.key_mismatch',
  'admin.session_revoked',
  'admin.signed_in',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** One entry of the append-only event record. Never holds a token value. */
export interface LifecycleEvent {
  id: number;
  /** Milliseconds since the epoch. */
  at: number;
  type: EventType;
  familyId?: string | null;
  userId?: string | null;
  clientId?: string | null;
  /** A short, plain reason code (`token_reused`, `logout`, `admin`, ...). */
  reason?: string | null;
  data?: Record<string, unknown>;
}

/** What the revocation feed (`GET /oauth/revocations`) publishes for resource servers. */
export interface RevocationNotice {
  /** Monotonic sequence number, usable as the SSE `id` to resume a stream. */
  seq: number;
  kind: 'family' | 'jti';
  /** The family (session) id, as in the access token's `sid` claim, or the token's `jti`. */
  value: string;
  /** Seconds since the epoch after which the notice no longer matters (every affected token has expired). */
  exp: number;
}
