import { sealTokenSet, unsealTokenSet } from '../crypto/seal-token-set.js';
import { DecryptionFailed, UnsupportedTokenType } from '../errors.js';
import type { ConnectionOptions, ConnectionStatus } from '../token-vault.js';
import { classifyUpstreamError } from '../upstream/upstream-failure.js';
import { checkIds, connectionOf, parseError, stateChanged, type VaultContext } from '../vault-context.js';
import { tombstone } from './stored-sets.js';
import { purgeAt, type TokenEndpointJson, type TokenSet, toTokenSet } from './token-set.js';

/** A connection's life outside refresh: saved, listed with its state, signed out. */

/** Stores the token endpoint's JSON as received (expiry = now + `expires_in`). */
export async function saveSet(
  ctx: VaultContext,
  userId: string,
  tokenResponse: TokenEndpointJson,
  o?: ConnectionOptions,
): Promise<void> {
  const { keys, store, clock } = ctx;
  const connection = connectionOf(ctx, o);
  checkIds(userId, connection);
  const now = clock.now();
  const set = toTokenSet(tokenResponse, now);
  if (set.tokenType === 'DPoP') throw new UnsupportedTokenType(userId, connection, set.tokenType);
  const before = await store.get(userId, connection);
  await store.put({
    userId,
    connection,
    issuer: ctx.issuer,
    sealed: sealTokenSet(keys, userId, connection, set),
    keyId: keys.current,
    refreshedAt: now,
    updatedAt: now,
    purgeAt: purgeAt(set),
  });
  stateChanged(ctx, { userId, connection }, before?.state ?? 'none', 'active');
  ctx.emitter.emit('saved', { userId, connection, expiresAt: set.expiresAt });
}

/** Revokes the refresh token at the upstream (RFC 7009, best effort) and leaves a `revoked` tombstone. */
export async function signOut(
  ctx: VaultContext,
  userId: string,
  o?: ConnectionOptions,
): Promise<{ revokedUpstream: boolean }> {
  const { keys, store, log, metrics } = ctx;
  const connection = connectionOf(ctx, o);
  checkIds(userId, connection);
  let revokedUpstream = false;
  for (let attempt = 0; attempt < 10; attempt++) {
    const row = await store.get(userId, connection);
    if (!row || row.sealed === null) return { revokedUpstream };
    let set: TokenSet | undefined;
    try {
      set = unsealTokenSet(keys, userId, connection, row.sealed);
    } catch (err) {
      // An unreadable set cannot be revoked upstream; it is still deleted here.
      log?.warn(
        { userId, connection, error: (err as Error).name },
        'signing out a set that cannot be decrypted',
      );
    }
    // An upstream not discovered (down since start) cannot revoke: the set is deleted here only.
    const upstream = set && !revokedUpstream ? await ctx.discovery.get().catch(() => undefined) : undefined;
    if (set && upstream?.metadata.revocation_endpoint) {
      try {
        await upstream.revoke(
          set.refreshToken ?? set.accessToken,
          set.refreshToken ? 'refresh_token' : 'access_token',
        );
        revokedUpstream = true;
      } catch (err) {
        log?.warn(
          { userId, connection, error: classifyUpstreamError(err, ctx.clock.now()).error },
          'upstream revocation failed',
        );
      }
    }
    if (
      await tombstone(ctx, row, 'revoked', { error: 'signed_out', error_description: 'The user signed out' })
    ) {
      metrics.revocations.inc({ result: revokedUpstream ? 'revoked' : 'local_only' });
      ctx.emitter.emit('revoked', { userId, connection, revokedUpstream });
      return { revokedUpstream };
    }
  }
  throw new Error(`signOut: connection "${connection}" of user "${userId}" kept changing; try again`);
}

/** Every connection of a user with its state; never a token. */
export async function connectionStatus(ctx: VaultContext, userId: string): Promise<ConnectionStatus[]> {
  const rows = await ctx.store.listUser(userId);
  return rows.map((row) => {
    const out: ConnectionStatus = {
      connection: row.connection,
      state: row.state,
      issuer: row.issuer,
      refreshedAt: row.refreshedAt,
      retryAt: row.retryAt,
      failures: row.failures,
      lastError: parseError(row.lastError),
    };
    if (row.sealed) {
      try {
        const set = unsealTokenSet(ctx.keys, userId, row.connection, row.sealed);
        out.expiresAt = set.expiresAt;
        if (set.refreshExpiresAt !== undefined) out.refreshExpiresAt = set.refreshExpiresAt;
        if (set.scope !== undefined) out.scope = set.scope;
        out.hasRefreshToken = set.refreshToken !== undefined;
      } catch (err) {
        out.decryption = err instanceof DecryptionFailed ? err.reason : 'malformed';
      }
    }
    return out;
  });
}
