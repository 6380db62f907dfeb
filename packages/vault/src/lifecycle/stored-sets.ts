import { needsRekey, sealTokenSet, unsealTokenSet } from '../crypto/seal-token-set.js';
import { DEFAULTS } from '../defaults.js';
import {
  DecryptionFailed,
  ReauthenticationRequired,
  type UpstreamError,
  VaultConfigError,
} from '../errors.js';
import type { ConnectionRow } from '../store/vault-store.js';
import { parseError, sameIssuer, stateChanged, type VaultContext } from '../vault-context.js';
import type { TokenSet } from './token-set.js';

/**
 * Decrypts a row's set, re-encrypting it under the current key on the way (lazily, never
 * bumping the version). No row, or a tombstone, is `ReauthenticationRequired`.
 */
export async function readSet(
  ctx: VaultContext,
  row: ConnectionRow | undefined,
  userId: string,
  connection: string,
): Promise<TokenSet> {
  const { keys, store, metrics } = ctx;
  if (!row || row.sealed === null) {
    const error = parseError(row?.lastError ?? null) ?? {
      error: 'no_tokens',
      error_description: 'No token set is stored for this connection',
    };
    throw new ReauthenticationRequired(userId, connection, error);
  }
  if (!sameIssuer(row.issuer, ctx.issuer)) {
    throw new VaultConfigError(
      `connection "${connection}" of user "${userId}" belongs to ${row.issuer}, not ${ctx.issuer}: give each upstream its own connection name`,
    );
  }
  let set: TokenSet;
  try {
    set = unsealTokenSet(keys, userId, connection, row.sealed);
  } catch (err) {
    if (err instanceof DecryptionFailed) metrics.decryptionFailures.inc({ reason: err.reason });
    throw err;
  }
  if (ctx.lazyRekey && needsRekey(keys, row.sealed)) {
    const done = await store.update(
      userId,
      connection,
      row.version,
      { sealed: sealTokenSet(keys, userId, connection, set), keyId: keys.current },
      false,
    );
    if (done !== undefined) metrics.rekeyed.inc();
  }
  return set;
}

/**
 * Replaces a row by a tombstone (no token kept, the reason in `lastError`), by a
 * compare-and-swap on its version. Returns false when the row changed meanwhile.
 */
export async function tombstone(
  ctx: VaultContext,
  row: ConnectionRow,
  state: 'needs_reauthorization' | 'revoked',
  error: UpstreamError,
): Promise<boolean> {
  const now = ctx.clock.now();
  const done = await ctx.store.update(
    row.userId,
    row.connection,
    row.version,
    {
      state,
      sealed: null,
      keyId: null,
      leaseOwner: null,
      leaseUntil: null,
      failures: 0,
      retryAt: null,
      lastError: JSON.stringify(error),
      updatedAt: now,
      purgeAt: now + DEFAULTS.tombstoneTtlMs,
    },
    true,
  );
  if (done !== undefined) stateChanged(ctx, row, row.state, state);
  return done !== undefined;
}
