import { createHash } from 'node:crypto';
import {
  checkDpopClaims,
  checkDpopHeader,
  DPOP_NONCE_HEADER,
  type DpopPublicJwk,
  TesseraError,
} from '@tessera/protocol';
import { calculateJwkThumbprint, compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { LIMITS } from '../config/limits.js';
import { hmac } from '../crypto/secrets.js';
import type { TesseraContext } from '../domain/context.js';

/** A proof that passed every check: the key's RFC 7638 thumbprint, the key, the proof's `jti`. */
export interface VerifiedDpopProof {
  jkt: string;
  jwk: DpopPublicJwk;
  jti: string;
}

export interface DpopProofInput {
  /** The request's `DPoP` header(s) as received: absent, one value, or (refused) several. */
  header: string | string[] | undefined;
  /** The request's method. */
  htm: string;
  /** The request's public URL: the issuer's origin and path, never a client-supplied Host. */
  htu: string;
  /** The access token presented with the proof, if any: the proof must then carry its `ath`. */
  accessToken?: string | undefined;
  /** Whether the proof must carry a server nonce (the client was added with `--dpop-nonce`). */
  requireNonce?: boolean;
}

const invalid = (description: string) => new TesseraError('invalid_dpop_proof', description);
const decoder = new TextDecoder();

/**
 * Imported keys and their thumbprints, by the `jwk` as it was sent: a client proves the same key
 * on every request, and importing it and hashing its members cost about as much as the signature
 * check itself. Bounded; started over when full (a client sending a new key each time only
 * fills it).
 */
const imported = new Map<string, Promise<{ key: CryptoKey | Uint8Array; jkt: string }>>();
const IMPORTED_MAX = 1000;

function importOnce(jwk: DpopPublicJwk, alg: string) {
  const id = `${alg} ${JSON.stringify(jwk)}`;
  let entry = imported.get(id);
  if (entry === undefined) {
    if (imported.size >= IMPORTED_MAX) imported.clear();
    entry = Promise.all([importJWK(jwk as JWK, alg), calculateJwkThumbprint(jwk as JWK, 'sha256')]).then(
      ([key, jkt]) => ({ key, jkt }),
    );
    // A key that does not import is not kept: the next proof tries again (and fails again).
    entry.catch(() => imported.delete(id));
    imported.set(id, entry);
  }
  return entry;
}

/**
 * Verifies a DPoP proof (RFC 9449 §4.3), every check in turn: exactly one header; its size
 * before any parsing; a compact JWS; `typ`, the algorithm allow-list, a public `jwk` that fits
 * `alg`, no `crit` (`checkDpopHeader`); the signature by that `jwk`; `jti`, `htm`, `htu`
 * (normalised), `iat` within `dpopProofWindow` and `ath` (`checkDpopClaims`); the server nonce
 * when required; and last, once everything else holds, the `jti` through the replay store,
 * keyed by the thumbprint with the normalised `htm` and `htu`, kept for as long as the window
 * could still accept the proof. The replay store fails closed: when it cannot answer, this
 * throws and the request fails 503.
 *
 * @returns `undefined` when the request carries no proof.
 * @throws TesseraError `invalid_dpop_proof`, `use_dpop_nonce`, `invalid_request` (two headers)
 */
export async function verifyDpopProof(
  ctx: TesseraContext<'replay'>,
  input: DpopProofInput,
): Promise<VerifiedDpopProof | undefined> {
  const { header } = input;
  if (header === undefined) return undefined;
  const values = typeof header === 'string' ? [header] : header;
  if (values.length === 0) return undefined;
  // A comma is not in the alphabet of a compact JWS: a value with one is two headers that a
  // proxy (or Node, for a header it does not know) joined.
  const [proof, ...more] = values;
  if (proof === undefined) return undefined;
  if (more.length > 0 || proof.includes(',')) {
    throw new TesseraError('invalid_request', 'The DPoP header was sent more than once');
  }
  if (proof.length > LIMITS.dpopProofMaxBytes) throw invalid('The DPoP proof is too large');
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(proof)) {
    throw invalid('The DPoP proof is not a compact JWS');
  }
  let protectedHeader: Record<string, unknown>;
  try {
    protectedHeader = decodeProtectedHeader(proof) as Record<string, unknown>;
  } catch {
    throw invalid('The DPoP proof header is not valid JSON');
  }
  const { alg, jwk } = checkDpopHeader(protectedHeader);
  let payload: Record<string, unknown>;
  let jkt: string;
  try {
    const { key, jkt: thumbprint } = await importOnce(jwk, alg);
    jkt = thumbprint;
    const verified = await compactVerify(proof, key, { algorithms: [alg] });
    payload = JSON.parse(decoder.decode(verified.payload)) as Record<string, unknown>;
  } catch {
    throw invalid('The DPoP proof signature does not verify with its jwk');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw invalid('The DPoP proof payload is not a JSON object');
  }
  const now = ctx.clock.now();
  const windowSeconds = ctx.config.dpopProofWindow;
  const claims = checkDpopClaims(payload, {
    htm: input.htm,
    htu: input.htu,
    now,
    windowSeconds,
    ath: input.accessToken === undefined ? undefined : accessTokenHash(input.accessToken),
    maxJtiLength: LIMITS.dpopJtiMaxLength,
  });
  if (input.requireNonce === true) {
    if (claims.nonce === undefined) throw new TesseraError('use_dpop_nonce');
    if (!ctx.dpopNonces.accepts(claims.nonce, now)) {
      throw new TesseraError(
        'use_dpop_nonce',
        'The DPoP nonce is stale; use the one in the DPoP-Nonce header',
      );
    }
  }
  // The key is built from the same normalised htu that was compared: two spellings of one URL
  // are one key (a raw htu would let a proof be replayed under another spelling).
  const replayKey = `dpop:${hmac(ctx.keys.misc, `${jkt} ${claims.htm} ${claims.htu} ${claims.jti}`)}`;
  const keepUntil = Math.ceil((claims.iat + windowSeconds) * 1000) + 1000;
  const fresh = await ctx.stores.replay.insertIfAbsent(replayKey, Math.max(keepUntil, now + 1000), now);
  if (!fresh) throw invalid('The DPoP proof was already used (replayed jti)');
  return { jkt, jwk, jti: claims.jti };
}

/** `ath` (RFC 9449 §4.2): base64url of the SHA-256 of the access token's ASCII. */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

/**
 * Every `DPoP` header of a request as it arrived, from Node's `rawHeaders`: Node joins repeated
 * headers it does not know into one `a, b` in `headers`, which would be refused as a malformed
 * proof instead of as two headers. `undefined` when there is none.
 */
export function dpopHeaderValues(rawHeaders: readonly string[]): string[] | undefined {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === 'dpop') values.push(rawHeaders[i + 1] ?? '');
  }
  return values.length === 0 ? undefined : values;
}

/** The `DPoP-Nonce` header name, lower case, as Fastify sets it. */
export const DPOP_NONCE_REPLY_HEADER = DPOP_NONCE_HEADER.toLowerCase();
