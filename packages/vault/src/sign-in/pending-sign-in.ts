import { createHash } from 'node:crypto';
import { seal, unseal } from '../crypto/seal.js';
import type { VaultKeys } from '../crypto/vault-keys.js';

/**
 * A sign-in between `startSignIn` and `finishSignIn`: stored under the hash of its `state`
 * (the state itself is never stored) and sealed like the tokens, bound to that hash.
 */
export interface PendingSignIn {
  userId: string;
  connection: string;
  /** The PKCE code verifier. */
  verifier: string;
  nonce?: string;
  redirectUri: string;
  /** Whether an ID token is expected (the scope had `openid`). */
  openid: boolean;
}

export const stateHash = (state: string): string => createHash('sha256').update(state).digest('base64url');

const context = (hash: string) => ({ userId: '(sign-in)', connection: hash, column: 'signin' });

export function sealSignIn(keys: VaultKeys, hash: string, tx: PendingSignIn): string {
  return seal(keys, context(hash), JSON.stringify(tx));
}

/** Opens a stored sign-in; throws `DecryptionFailed` (or a JSON error) when it cannot. */
export function unsealSignIn(keys: VaultKeys, hash: string, sealed: string): PendingSignIn {
  return JSON.parse(unseal(keys, context(hash), sealed)) as PendingSignIn;
}
