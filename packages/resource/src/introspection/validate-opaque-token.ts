import type { Clock } from '@tessera/protocol';
import { TesseraError } from '@tessera/protocol';
import type { AuthInfo } from '../core/auth-result.js';
import { deepFreeze } from '../core/deep-freeze.js';
import type { Logger } from '../core/logger.js';
import { LruCache } from '../core/lru-cache.js';
import { type FetchLike, readJsonCapped, upstreamUnavailable } from '../metadata/fetch-json.js';
import { buildIntrospectionRequest, processIntrospectionBody } from './introspect-token.js';

export interface OpaqueValidatorOptions {
  issuer: string;
  audiences: readonly string[];
  endpoint: () => Promise<string | undefined>;
  clientId: string;
  clientSecret: string;
  fetch: FetchLike;
  clock: Clock;
  logger: Logger;
  cacheSize: number;
  cacheTtlMs: number;
  negativeTtlMs: number;
  timeoutMs: number;
  maxBytes: number;
  onIntrospect: () => void;
  onCacheHit: () => void;
}

type CacheEntry = { active: true; auth: AuthInfo } | { active: false };

/**
 * Validates opaque access tokens by introspection, with a cache keyed by the token's SHA-256
 * (the secret itself is never kept). An active entry lives at most `cacheTtlMs` and never past
 * the token's `exp`; concurrent requests for one token share one call.
 */
export class OpaqueTokenValidator {
  readonly #o: OpaqueValidatorOptions;
  readonly #cache: LruCache<CacheEntry>;
  readonly #inflight = new Map<string, Promise<CacheEntry>>();

  constructor(opts: OpaqueValidatorOptions) {
    this.#o = opts;
    this.#cache = new LruCache(opts.cacheSize);
  }

  /** The caller's identity, or a thrown `TesseraError` (401 invalid, 503 unavailable). */
  async validate(token: string): Promise<AuthInfo> {
    const key = await sha256(token);
    const cached = this.#cache.get(key, this.#o.clock.now());
    let entry: CacheEntry;
    if (cached !== undefined) {
      this.#o.onCacheHit();
      entry = cached;
    } else {
      let pending = this.#inflight.get(key);
      if (pending === undefined) {
        pending = this.#introspect(token, key).finally(() => this.#inflight.delete(key));
        this.#inflight.set(key, pending);
      }
      entry = await pending;
    }
    if (!entry.active) throw new TesseraError('access_token_invalid', 'The access token is not active');
    // The cache never outlives exp, but a hit in the token's last second must still be refused.
    if (entry.auth.exp * 1000 <= this.#o.clock.now()) throw new TesseraError('access_token_expired');
    return entry.auth;
  }

  async #introspect(token: string, key: string): Promise<CacheEntry> {
    const o = this.#o;
    const endpoint = await o.endpoint();
    if (endpoint === undefined) {
      throw new TesseraError('access_token_invalid', 'Opaque access tokens are not accepted here');
    }
    o.onIntrospect();
    let body: unknown;
    try {
      const res = await o.fetch(
        buildIntrospectionRequest(endpoint, token, o.clientId, o.clientSecret, o.timeoutMs),
      );
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      body = processIntrospectionBody(await readJsonCapped(res, o.maxBytes));
    } catch (cause) {
      o.logger.warn({ err: String(cause) }, 'tessera-resource: introspection failed');
      throw upstreamUnavailable('introspection endpoint', cause);
    }
    const now = o.clock.now();
    const entry = toEntry(body as Record<string, unknown>, o, now);
    const expiresAt = entry.active
      ? Math.min(now + o.cacheTtlMs, entry.auth.exp * 1000)
      : now + o.negativeTtlMs;
    this.#cache.set(key, entry, expiresAt, now);
    return entry;
  }
}

function toEntry(b: Record<string, unknown>, o: OpaqueValidatorOptions, now: number): CacheEntry {
  if (b.active !== true) return { active: false };
  // A refresh token is not an access token, however active it is.
  if (b.token_type === 'refresh_token') return { active: false };
  if (b.iss !== o.issuer) return { active: false };
  // The configured audience is required for opaque tokens as for JWTs: an answer without `aud`
  // does not say the token is for this API, so it is not accepted for any.
  const aud = b.aud;
  const list = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? (aud as string[]) : [];
  if (!list.some((a) => o.audiences.includes(a))) return { active: false };
  const exp = b.exp as number;
  if (exp * 1000 <= now) return { active: false };
  if (b.cnf !== undefined) return { active: false };
  const scope = typeof b.scope === 'string' ? b.scope : '';
  const roles =
    Array.isArray(b.roles) && b.roles.every((r) => typeof r === 'string') ? (b.roles as string[]) : [];
  const sid = typeof b.sid === 'string' ? b.sid : undefined;
  const jti = typeof b.jti === 'string' ? b.jti : undefined;
  const claims = { ...b };
  return {
    active: true,
    auth: deepFreeze({
      sub: b.sub as string,
      clientId: b.client_id as string,
      scope: scope.split(' ').filter((s) => s !== ''),
      roles,
      ...(sid === undefined ? {} : { sid }),
      ...(jti === undefined ? {} : { jti }),
      exp,
      claims,
      format: 'opaque',
    } satisfies AuthInfo),
  };
}

async function sha256(value: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value));
  let hex = '';
  for (const b of new Uint8Array(digest)) hex += b.toString(16).padStart(2, '0');
  return hex;
}
