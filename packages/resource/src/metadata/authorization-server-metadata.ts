import { type Clock, REVOCATION_FEED_METADATA } from '@tessera/protocol';
import type { Logger } from '../core/logger.js';
import { type FetchLike, readJsonCapped, upstreamUnavailable } from './fetch-json.js';

/** The RFC 8414 fields the middleware reads, plus Tessera's revocation feed. */
export interface AuthorizationServerMetadata {
  issuer: string;
  jwks_uri?: string;
  introspection_endpoint?: string;
  revocation_endpoint?: string;
  token_endpoint?: string;
  /** Tessera extension: the revocation feed (SSE and JSON snapshot). */
  [REVOCATION_FEED_METADATA]?: string;
}

export interface MetadataSourceOptions {
  issuer: string;
  metadataUrl: string;
  fetch: FetchLike;
  clock: Clock;
  logger: Logger;
  timeoutMs: number;
  maxBytes: number;
  retryAfterFailureMs: number;
  /** Counts network fetches (for stats). */
  onFetch: () => void;
}

/**
 * Loads the issuer's metadata once (single flight), keeps it for the life of the process,
 * and after a failure waits before trying again, so an outage does not turn every request
 * into a fetch.
 */
export class MetadataSource {
  readonly #opts: MetadataSourceOptions;
  #value: AuthorizationServerMetadata | undefined;
  #inflight: Promise<AuthorizationServerMetadata> | undefined;
  #failedAt = Number.NEGATIVE_INFINITY;

  constructor(opts: MetadataSourceOptions) {
    this.#opts = opts;
  }

  /** The metadata, fetching it on first use. Throws a 503 `TesseraError` when unavailable. */
  get(): Promise<AuthorizationServerMetadata> {
    if (this.#value) return Promise.resolve(this.#value);
    if (this.#inflight) return this.#inflight;
    if (this.#opts.clock.now() - this.#failedAt < this.#opts.retryAfterFailureMs) {
      return Promise.reject(upstreamUnavailable('metadata'));
    }
    this.#inflight = this.#load().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #load(): Promise<AuthorizationServerMetadata> {
    const o = this.#opts;
    o.onFetch();
    try {
      const res = await o.fetch(o.metadataUrl, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(o.timeoutMs),
        redirect: 'error',
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const body = await readJsonCapped(res, o.maxBytes);
      const metadata = parseMetadata(body);
      // RFC 8414 §3.3: the issuer in the document must be exactly the one we asked about.
      if (metadata.issuer !== o.issuer)
        throw new Error('metadata issuer does not match the configured issuer');
      this.#value = metadata;
      return metadata;
    } catch (cause) {
      this.#failedAt = o.clock.now();
      o.logger.warn({ err: String(cause), url: o.metadataUrl }, 'tessera-resource: metadata fetch failed');
      throw upstreamUnavailable('metadata', cause);
    }
  }
}

function optionalUrl(obj: Record<string, unknown>, key: string): string | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new Error(`metadata ${key} is not a string`);
  new URL(v);
  return v;
}

function parseMetadata(body: unknown): AuthorizationServerMetadata {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new Error('metadata is not an object');
  const obj = body as Record<string, unknown>;
  if (typeof obj.issuer !== 'string') throw new Error('metadata has no issuer');
  const out: AuthorizationServerMetadata = { issuer: obj.issuer };
  for (const key of [
    'jwks_uri',
    'introspection_endpoint',
    'revocation_endpoint',
    'token_endpoint',
    REVOCATION_FEED_METADATA,
  ] as const) {
    const v = optionalUrl(obj, key);
    if (v !== undefined) out[key] = v;
  }
  return out;
}
