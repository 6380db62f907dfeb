import {
  type Clock,
  checkDpopClaims,
  checkDpopHeader,
  DPOP_SIGNING_ALGS,
  equalStrings,
  TesseraError,
} from '@tessera/protocol';
import {
  base64url,
  calculateJwkThumbprint,
  compactVerify,
  decodeProtectedHeader,
  importJWK,
  type JWK,
} from 'jose';
import type { DpopNonceSource } from './dpop-nonces.js';
import { ReplayCache, replayKey } from './replay-cache.js';

/** What the proof of one request is checked against. */
export interface DpopRequest {
  /** Every `DPoP` header value of the request (exactly one is accepted). */
  proofs: readonly string[];
  /** The access token that came with it (`Authorization: DPoP <token>`). */
  token: string;
  /** `cnf.jkt` of that token, already validated. */
  jkt: string;
  method: string;
  /** The request's URL as this resource server is reached: the configured origin plus the path, or the request's own URL. */
  url: string;
}

export interface DpopVerifierOptions {
  clock: Clock;
  /** `iat` may be this many seconds before or after now; a `jti` is remembered as long. */
  windowSeconds: number;
  /** Proof `jti`s remembered at most (LRU); each is dropped once its window has passed. */
  replayCacheSize: number;
  maxProofBytes: number;
  maxJtiLength: number;
  /** When set, every proof must carry a nonce this source accepts. */
  nonces?: DpopNonceSource | undefined;
}

const invalid = (description: string) => new TesseraError('invalid_dpop_proof', description);

/** Imported keys and thumbprints by the `jwk` as sent (a client proves one key again and again); bounded. */
const imported = new Map<string, Promise<{ key: CryptoKey | Uint8Array; jkt: string }>>();
const IMPORTED_MAX = 1000;

function importOnce(jwk: Record<string, unknown>, alg: string) {
  const id = `${alg} ${JSON.stringify(jwk)}`;
  let entry = imported.get(id);
  if (entry === undefined) {
    if (imported.size >= IMPORTED_MAX) imported.clear();
    entry = Promise.all([importJWK(jwk as JWK, alg), calculateJwkThumbprint(jwk as JWK, 'sha256')]).then(
      ([key, jkt]) => ({ key, jkt }),
    );
    entry.catch(() => imported.delete(id));
    imported.set(id, entry);
  }
  return entry;
}
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** The `algs` parameter of a DPoP challenge. */
export const DPOP_ALGS_PARAM = DPOP_SIGNING_ALGS.join(' ');

/**
 * The resource server's check of a DPoP proof (RFC 9449 §4.3 and §7): one header, its size, a
 * compact JWS, the header checks (`typ`, algorithm, a public `jwk` fitting `alg`, no `crit`),
 * the signature, `htm`, `htu`, `iat`, `ath` for the presented token, the key's thumbprint equal to
 * the token's `cnf.jkt`, the nonce when configured, and last the `jti` in this resource server's
 * replay cache (bounded, each entry kept for as long as the window could accept its proof).
 */
export class DpopVerifier {
  readonly #opts: DpopVerifierOptions;
  readonly #seen: ReplayCache;

  constructor(opts: DpopVerifierOptions) {
    this.#opts = opts;
    this.#seen = new ReplayCache(opts.replayCacheSize);
  }

  /** @throws TesseraError `invalid_dpop_proof` or `use_dpop_nonce` */
  async verify(request: DpopRequest): Promise<void> {
    // A comma is not in the alphabet of a compact JWS: a value with one is two headers joined (by
    // Fetch's Headers, or a proxy), so each part counts as a header of its own.
    const [proof, ...more] = request.proofs.flatMap((value) => value.split(','));
    if (proof === undefined) throw invalid('A DPoP-bound access token needs a DPoP proof');
    if (more.length > 0) throw invalid('The DPoP header was sent more than once');
    if (proof.length > this.#opts.maxProofBytes) throw invalid('The DPoP proof is too large');
    if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(proof)) {
      throw invalid('The DPoP proof is not a compact JWS');
    }
    let header: Record<string, unknown>;
    try {
      header = decodeProtectedHeader(proof) as Record<string, unknown>;
    } catch {
      throw invalid('The DPoP proof header is not valid JSON');
    }
    const { alg, jwk } = checkDpopHeader(header);
    let payload: unknown;
    let jkt: string;
    try {
      const { key, jkt: thumbprint } = await importOnce(jwk, alg);
      jkt = thumbprint;
      const verified = await compactVerify(proof, key, { algorithms: [alg] });
      payload = JSON.parse(decoder.decode(verified.payload));
    } catch {
      throw invalid('The DPoP proof signature does not verify with its jwk');
    }
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      throw invalid('The DPoP proof payload is not a JSON object');
    }
    const now = this.#opts.clock.now();
    const claims = checkDpopClaims(payload as Record<string, unknown>, {
      htm: request.method,
      htu: request.url,
      now,
      windowSeconds: this.#opts.windowSeconds,
      ath: await accessTokenHash(request.token),
      maxJtiLength: this.#opts.maxJtiLength,
    });
    if (!equalStrings(jkt, request.jkt)) {
      throw invalid('The DPoP proof is signed by another key than the one the access token is bound to');
    }
    const nonces = this.#opts.nonces;
    if (nonces !== undefined) {
      if (claims.nonce === undefined)
        throw new TesseraError('use_dpop_nonce', 'This resource server requires a DPoP nonce');
      if (!(await nonces.accepts(claims.nonce, now))) {
        throw new TesseraError(
          'use_dpop_nonce',
          'The DPoP nonce is stale; use the one in the DPoP-Nonce header',
        );
      }
    }
    // Keyed on the normalised htu the comparison used, hashed to a fixed size; the digest is
    // computed first, so there is no await between the look-up and the insert.
    const key = await replayKey([jkt, claims.htm, claims.htu, claims.jti]);
    const keepUntil = Math.ceil((claims.iat + this.#opts.windowSeconds) * 1000) + 1000;
    const outcome = this.#seen.insert(key, Math.max(keepUntil, now + 1000), now);
    if (outcome === 'seen') throw invalid('The DPoP proof was already used (replayed jti)');
    if (outcome === 'full') {
      throw new TesseraError(
        'temporarily_unavailable',
        'Too many DPoP proofs within the proof window to remember; retry shortly',
        { retryAfter: 1 },
      );
    }
  }

  /** Entries in the replay cache (for tests and stats). */
  get remembered(): number {
    return this.#seen.size;
  }
}

/** `ath` (RFC 9449 §4.2): base64url of the SHA-256 of the access token. */
export async function accessTokenHash(token: string): Promise<string> {
  return base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(token))));
}
