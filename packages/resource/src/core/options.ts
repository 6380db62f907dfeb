import type { Clock, RevocationNotice } from '@tessera/protocol';
import type { FetchLike } from '../metadata/fetch-json.js';
import type { RevocationFeedStatus } from '../revocations/revocation-feed.js';
import type { Logger } from './logger.js';

/**
 * Options of `createResourceServer`. Validated once at creation, then frozen. Every default is in
 * `DEFAULTS` (`defaults.ts`), with the reason for its value; it is not repeated here.
 */
export interface ResourceServerOptions {
  /** The authorization server's issuer identifier; `iss` must equal it exactly. */
  issuer: string;
  /** This API's identifier(s); a token's `aud` must name at least one. */
  audience: string | readonly string[];
  /** This resource server's own client id at the issuer (introspection and revocation feed). */
  clientId?: string;
  clientSecret?: string;
  /** Allowed JWS algorithms (default `DEFAULTS.algorithms`); `none` and HS* are refused. */
  algorithms?: readonly string[];
  /** Leeway in seconds for `exp`, `nbf` and `iat` (default `DEFAULTS.clockTolerance`). */
  clockTolerance?: number;
  /** Largest accepted token in bytes, checked before any parsing (default `DEFAULTS.maxTokenBytes`). */
  maxTokenBytes?: number;
  /** Claims required in addition to `DEFAULTS.requiredClaims`. */
  requiredClaims?: readonly string[];
  /** Subscribe to the revocation feed. Default: on when client credentials are given. */
  revocations?: boolean;
  /** Accept opaque tokens through introspection. Default: on when client credentials are given. */
  introspection?: boolean;
  /** Realm for `WWW-Authenticate` challenges. */
  realm?: string;
  /** RFC 6750 §2.3 query-string tokens. Default false (they leak into logs). */
  allowQueryToken?: boolean;
  /** RFC 6750 §2.2 form-body tokens. Default false. */
  allowBodyToken?: boolean;
  /**
   * This API's public origin (`https://api.example.com`), from which a DPoP proof's `htu` is
   * expected (origin + the request's path). Without it the request's own URL (its `Host` header)
   * is used, which behind a reverse proxy is not the URL the client called: set it there.
   */
  origin?: string;
  /** Seconds a DPoP proof's `iat` may be off, either way (default `DEFAULTS.dpopProofWindow`). */
  dpopProofWindow?: number;
  /** Proof `jti`s remembered for replay detection (default `DEFAULTS.dpopReplayCacheSize`). */
  dpopReplayCacheSize?: number;
  /**
   * Require a server nonce in every DPoP proof (RFC 9449 §9): nonces are an HMAC of the time step
   * under this secret (32+ bytes; the same on every instance that should accept each other's).
   */
  dpopNonceSecret?: Uint8Array;
  /** How often the nonce changes, ms (default `DEFAULTS.dpopNoncePeriodMs`). */
  dpopNoncePeriodMs?: number;
  /** Skip discovery for any of these. */
  metadataUrl?: string;
  jwksUri?: string;
  introspectionEndpoint?: string;
  revocationsEndpoint?: string;
  /** Verified-token cache entries, 0 turns it off (default `DEFAULTS.verifiedCacheSize`). */
  cacheSize?: number;
  /** Unknown-`kid` refetch cooldown in ms (default `DEFAULTS.jwksCooldownMs`). */
  jwksCooldownMs?: number;
  /** Max age of an active introspection answer in the cache, ms, never past `exp` (default `DEFAULTS.introspectionCacheTtlMs`). */
  introspectionCacheTtlMs?: number;
  /** First and maximum reconnect delay of the revocation feed, ms (defaults `DEFAULTS.reconnectInitialMs`, `DEFAULTS.reconnectMaxMs`). */
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  /** Reopen the revocation stream after this much silence, ms, 0: never (default `DEFAULTS.feedIdleTimeoutMs`). */
  feedIdleTimeoutMs?: number;
  /** Called for every revocation notice applied (snapshot or stream), e.g. to drop sessions. */
  onRevocation?: (notice: RevocationNotice) => void;
  /** Called on every change of the revocation feed's state. */
  onStatus?: (status: RevocationFeedStatus) => void;
  logger?: Logger;
  clock?: Clock;
  fetch?: FetchLike;
  /** Jitter source in [0, 1). Default `Math.random`. */
  random?: () => number;
}
