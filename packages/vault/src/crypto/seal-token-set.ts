import { DecryptionFailed } from '../errors.js';
import type { TokenSet } from '../lifecycle/token-set.js';
import type { SealedColumns } from '../store/vault-store.js';
import { seal, sealedKeyId, unseal } from './seal.js';
import type { VaultKeys } from './vault-keys.js';

/** Encrypts every value of a token set, each bound to its user, connection and column. */
export function sealTokenSet(
  keys: VaultKeys,
  userId: string,
  connection: string,
  set: TokenSet,
): SealedColumns {
  const s = (column: string, value: string) => seal(keys, { userId, connection, column }, value);
  const expiry: Record<string, number> = { receivedAt: set.receivedAt, expiresAt: set.expiresAt };
  if (set.refreshExpiresAt !== undefined) expiry.refreshExpiresAt = set.refreshExpiresAt;
  return {
    access_token: s('access_token', set.accessToken),
    token_type: s('token_type', set.tokenType),
    expiry: s('expiry', JSON.stringify(expiry)),
    refresh_token: set.refreshToken === undefined ? null : s('refresh_token', set.refreshToken),
    id_token: set.idToken === undefined ? null : s('id_token', set.idToken),
    scope: set.scope === undefined ? null : s('scope', set.scope),
  };
}

/** Decrypts a sealed set; any failure (key, tag, format, a value from another row) is `DecryptionFailed`. */
export function unsealTokenSet(
  keys: VaultKeys,
  userId: string,
  connection: string,
  sealed: SealedColumns,
): TokenSet {
  const u = (column: string, value: string) => unseal(keys, { userId, connection, column }, value);
  let expiry: { receivedAt?: unknown; expiresAt?: unknown; refreshExpiresAt?: unknown };
  const expiryText = u('expiry', sealed.expiry);
  try {
    expiry = JSON.parse(expiryText) as typeof expiry;
  } catch {
    throw new DecryptionFailed('malformed', { userId, connection, column: 'expiry' });
  }
  if (typeof expiry.receivedAt !== 'number' || typeof expiry.expiresAt !== 'number') {
    throw new DecryptionFailed('malformed', { userId, connection, column: 'expiry' });
  }
  const set: TokenSet = {
    accessToken: u('access_token', sealed.access_token),
    tokenType: u('token_type', sealed.token_type),
    receivedAt: expiry.receivedAt,
    expiresAt: expiry.expiresAt,
  };
  if (typeof expiry.refreshExpiresAt === 'number') set.refreshExpiresAt = expiry.refreshExpiresAt;
  if (sealed.refresh_token !== null) set.refreshToken = u('refresh_token', sealed.refresh_token);
  if (sealed.id_token !== null) set.idToken = u('id_token', sealed.id_token);
  if (sealed.scope !== null) set.scope = u('scope', sealed.scope);
  return set;
}

/** True when some value of the set is sealed under another key than the current one. */
export function needsRekey(keys: VaultKeys, sealed: SealedColumns): boolean {
  return Object.values(sealed).some((v) => v !== null && sealedKeyId(v) !== keys.current);
}
