import { createHmac, timingSafeEqual } from 'node:crypto';
import { REFRESH_TOKEN_PREFIX } from '@tessera/protocol';
import { randomBytesFast } from './random.js';
import { hmac, type ServerKeys } from './secrets.js';

/**
 * Refresh tokens: `REFRESH_TOKEN_PREFIX` (`tsr_`) + base64url(family id (16 bytes) || secret (32 bytes) || tag (16 bytes)).
 *
 * The prefix lets secret scanners find leaked tokens. The 256-bit secret is what makes the token
 * unguessable. The family id and the HMAC tag let the server recognise one of its own tokens
 * after cleanup has pruned its row (a replayed pruned token is still reuse),
 * while a forged token naming a family cannot revoke it: its tag does not verify.
 */
const FAMILY_BYTES = 16;
const SECRET_BYTES = 32;
const TAG_BYTES = 16;
const RAW_BYTES = FAMILY_BYTES + SECRET_BYTES + TAG_BYTES;
const ENCODED_LENGTH = REFRESH_TOKEN_PREFIX.length + Math.ceil((RAW_BYTES * 4) / 3);
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** A new family (session) id: 128 random bits, base64url. */
export function newFamilyId(): string {
  return randomBytesFast(FAMILY_BYTES).toString('base64url');
}

export function mintRefreshToken(keys: ServerKeys, familyId: string): string {
  const family = Buffer.from(familyId, 'base64url');
  if (family.length !== FAMILY_BYTES) throw new Error('bad family id');
  const body = Buffer.concat([family, randomBytesFast(SECRET_BYTES)]);
  const tag = tagOf(keys, body);
  return REFRESH_TOKEN_PREFIX + Buffer.concat([body, tag]).toString('base64url');
}

/** The family id inside a refresh token, or `undefined` when the token is not one of ours. */
export function parseRefreshToken(keys: ServerKeys, token: string): { familyId: string } | undefined {
  const shape = refreshTokenShape(token);
  return shape && hasValidTag(keys, shape) ? { familyId: shape.familyId } : undefined;
}

/** A token's parts as its spelling gives them, before its tag is checked. */
export interface RefreshTokenShape {
  familyId: string;
  /** The decoded token: family id, secret, tag. */
  raw: Buffer;
}

/**
 * The family id a string in refresh-token form names, its tag unchecked: `undefined` for any
 * other string (wrong length or prefix, not canonical base64url). Whether the token is one of
 * ours is `hasValidTag`'s to say, or the store's: a token whose hash is stored is one we issued
 * (the hash is an HMAC of the whole token), which is how a rotation learns it without the tag.
 */
export function refreshTokenShape(token: string): RefreshTokenShape | undefined {
  if (token.length !== ENCODED_LENGTH || !token.startsWith(REFRESH_TOKEN_PREFIX)) return undefined;
  const encoded = token.slice(REFRESH_TOKEN_PREFIX.length);
  if (!BASE64URL.test(encoded)) return undefined;
  const raw = Buffer.from(encoded, 'base64url');
  // Reject non-canonical spellings: one token, one string.
  if (raw.length !== RAW_BYTES || raw.toString('base64url') !== encoded) return undefined;
  return { familyId: raw.subarray(0, FAMILY_BYTES).toString('base64url'), raw };
}

/** True when the token's tag is the one this server's key gives its family id and secret. */
export function hasValidTag(keys: ServerKeys, shape: RefreshTokenShape): boolean {
  const body = shape.raw.subarray(0, FAMILY_BYTES + SECRET_BYTES);
  return timingSafeEqual(tagOf(keys, body), shape.raw.subarray(FAMILY_BYTES + SECRET_BYTES));
}

/** The value stored instead of the token. */
export function hashToken(keys: ServerKeys, token: string): string {
  return hmac(keys.tokenHash, token);
}

/** True when the string looks like a Tessera refresh token (for routing, not for trust). */
export function looksLikeRefreshToken(token: string): boolean {
  return token.startsWith(REFRESH_TOKEN_PREFIX);
}

function tagOf(keys: ServerKeys, body: Uint8Array): Buffer {
  return createHmac('sha256', keys.tokenTag).update(body).digest().subarray(0, TAG_BYTES);
}
