import { createHmac } from 'node:crypto';
import { open, seal } from '../crypto/seal.js';
import type { ServerKeys } from '../crypto/secrets.js';
import type { RefreshTokenRecord } from '../ports/index.js';
import type { IssuedTokens } from './token-response.js';

// The grace-period box: the answer of a rotation, sealed (AES-256-GCM) under a key that only the
// holder of the parent token can derive (an HMAC of the parent token under a server key), and
// bound to the parent's hash. The database alone never yields a usable token: nothing of the
// answer is stored in plaintext, yet a retry with the parent gets the very same tokens.

function graceKey(keys: ServerKeys, parentToken: string): Buffer {
  return createHmac('sha256', keys.grace).update(parentToken).digest();
}

/** Seals the answer of the rotation of `parentToken` (stored hashed as `parentHash`). */
export function sealGraceBox(
  keys: ServerKeys,
  parentToken: string,
  parentHash: string,
  issued: IssuedTokens,
): Buffer {
  return seal(graceKey(keys, parentToken), Buffer.from(JSON.stringify(issued)), `grace:${parentHash}`);
}

/** Opens the box kept with `parent`, presented as `parentToken`; `undefined` when there is none or it does not open. */
export function openGraceBox(
  keys: ServerKeys,
  parentToken: string,
  parent: RefreshTokenRecord,
): IssuedTokens | undefined {
  if (!parent.graceResponse) return undefined;
  const plain = open(graceKey(keys, parentToken), parent.graceResponse, `grace:${parent.hash}`);
  return plain ? (JSON.parse(plain.toString('utf8')) as IssuedTokens) : undefined;
}
