import type { Clock } from '@tessera/protocol';
import { TesseraError } from '@tessera/protocol';
import { type CryptoKey, importJWK, type JWK } from 'jose';
import type { Logger } from '../core/logger.js';
import { type FetchLike, readJsonCapped, upstreamUnavailable } from '../metadata/fetch-json.js';

export interface JwksCacheOptions {
  /** Resolves the JWKS URL (from metadata, or configured). */
  jwksUri: () => Promise<string>;
  fetch: FetchLike;
  clock: Clock;
  logger: Logger;
  cooldownMs: number;
  maxAgeMs: number;
  retryAfterFailureMs: number;
  timeoutMs: number;
  maxBytes: number;
  onFetch: () => void;
}

/** Members that only a private or symmetric key has: such a JWK never verifies here. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'priv'];

/** `alg` → the key type and curve it needs; blocks key/algorithm confusion before jose sees it. */
const KEY_SHAPE: Record<string, { kty: string; crv?: string }> = {
  ES256: { kty: 'EC', crv: 'P-256' },
  ES384: { kty: 'EC', crv: 'P-384' },
  ES512: { kty: 'EC', crv: 'P-521' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  Ed25519: { kty: 'OKP', crv: 'Ed25519' },
  RS256: { kty: 'RSA' },
  RS384: { kty: 'RSA' },
  RS512: { kty: 'RSA' },
  PS256: { kty: 'RSA' },
  PS384: { kty: 'RSA' },
  PS512: { kty: 'RSA' },
};

/** The algorithms this module knows how to match to a key. */
export const SUPPORTED_ALGORITHMS: readonly string[] = Object.keys(KEY_SHAPE);

/**
 * The issuer's signing keys. Fetched on first use and when older than `maxAgeMs`; an unknown
 * `kid` triggers a refetch at most once per `cooldownMs` (single flight), so a flood of
 * tokens with random `kid`s costs one fetch, not one each.
 */
export class JwksCache {
  readonly #o: JwksCacheOptions;
  #keys: JWK[] | undefined;
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #attemptAt = Number.NEGATIVE_INFINITY;
  #failedAt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<void> | undefined;
  #imported = new Map<string, Promise<CryptoKey>>();

  constructor(opts: JwksCacheOptions) {
    this.#o = opts;
  }

  /**
   * The verification key for `kid` and `alg`. Throws a 401 `TesseraError` when no such key
   * exists, a 503 when the keys could not be loaded at all.
   */
  async getKey(kid: string, alg: string): Promise<CryptoKey> {
    const now = this.#o.clock.now();
    if (this.#keys === undefined) {
      if (now - this.#failedAt < this.#o.retryAfterFailureMs) throw upstreamUnavailable('key set');
      await this.#refresh();
    } else if (now - this.#fetchedAt > this.#o.maxAgeMs && now - this.#attemptAt >= this.#o.cooldownMs) {
      // Stale keys: refresh, but keep serving the old set if the refresh fails.
      await this.#refresh().catch(() => {});
    }
    let jwk = this.#find(kid, alg);
    if (jwk === undefined && this.#o.clock.now() - this.#attemptAt >= this.#o.cooldownMs) {
      await this.#refresh().catch(() => {});
      jwk = this.#find(kid, alg);
    } else if (jwk === undefined && this.#inflight) {
      // A refresh started by another request may bring the key: wait for it, do not start one.
      await this.#inflight.catch(() => {});
      jwk = this.#find(kid, alg);
    }
    if (jwk === undefined) {
      throw new TesseraError('access_token_invalid', 'The access token is signed with an unknown key');
    }
    const cacheKey = `${kid}\u0000${alg}`;
    let key = this.#imported.get(cacheKey);
    if (key === undefined) {
      key = importJWK(jwk, alg) as Promise<CryptoKey>;
      this.#imported.set(cacheKey, key);
      key.catch(() => this.#imported.delete(cacheKey));
    }
    try {
      return await key;
    } catch {
      throw new TesseraError('access_token_invalid', 'The signing key cannot be used with this algorithm');
    }
  }

  #find(kid: string, alg: string): JWK | undefined {
    const shape = KEY_SHAPE[alg];
    if (shape === undefined || this.#keys === undefined) return undefined;
    return this.#keys.find(
      (k) =>
        k.kid === kid &&
        k.kty === shape.kty &&
        (shape.crv === undefined || k.crv === shape.crv) &&
        (k.alg === undefined || k.alg === alg) &&
        (k.use === undefined || k.use === 'sig') &&
        (k.key_ops === undefined || k.key_ops.includes('verify')),
    );
  }

  #refresh(): Promise<void> {
    if (this.#inflight) return this.#inflight;
    this.#attemptAt = this.#o.clock.now();
    this.#inflight = this.#load().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #load(): Promise<void> {
    const o = this.#o;
    let url: string;
    try {
      url = await o.jwksUri();
    } catch (e) {
      this.#failedAt = o.clock.now();
      throw e;
    }
    o.onFetch();
    try {
      const res = await o.fetch(url, {
        headers: { accept: 'application/jwk-set+json, application/json' },
        signal: AbortSignal.timeout(o.timeoutMs),
        redirect: 'error',
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const body = await readJsonCapped(res, o.maxBytes);
      const keys = parseJwks(body);
      this.#keys = keys;
      this.#fetchedAt = o.clock.now();
      this.#imported = new Map();
      o.logger.debug?.({ keys: keys.length }, 'tessera-resource: JWKS loaded');
    } catch (cause) {
      this.#failedAt = o.clock.now();
      o.logger.warn({ err: String(cause) }, 'tessera-resource: JWKS fetch failed');
      throw upstreamUnavailable('key set', cause);
    }
  }
}

function parseJwks(body: unknown): JWK[] {
  if (typeof body !== 'object' || body === null) throw new Error('JWKS is not an object');
  const keys = (body as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) throw new Error('JWKS has no keys array');
  return keys.filter(
    (k): k is JWK =>
      typeof k === 'object' &&
      k !== null &&
      typeof (k as JWK).kid === 'string' &&
      typeof (k as JWK).kty === 'string' &&
      (k as JWK).kty !== 'oct' &&
      !PRIVATE_MEMBERS.some((m) => m in k),
  );
}
