import { TesseraError } from '@tessera/protocol';
import { hashToken, looksLikeRefreshToken, parseRefreshToken } from '../crypto/refresh-token.js';
import type { ClientRecord } from '../ports/index.js';
import { LEEWAY_MS, recordEvents, type TesseraContext } from './context.js';
import { readAccessToken } from './read-access-token.js';
import { revokeFamily } from './revoke-family.js';

/**
 * RFC 7009 revocation. A refresh token ends its whole family (and so the family's access
 * tokens); an access token is revoked by its `jti`. Unknown tokens succeed silently. A token of
 * another client is refused and left alone.
 */
export async function revokeToken(
  ctx: TesseraContext<'sessions' | 'accessTokens' | 'directory' | 'events'>,
  input: { token: string; client: ClientRecord; initiator: 'client' | 'user' },
): Promise<void> {
  const { token, client } = input;
  const reason = input.initiator === 'user' ? 'logout' : 'client_revoked';
  if (looksLikeRefreshToken(token)) {
    const parsed = parseRefreshToken(ctx.keys, token);
    if (!parsed) return;
    const state = await ctx.stores.sessions.findToken(parsed.familyId, hashToken(ctx.keys, token));
    const family = state?.family ?? (await ctx.stores.sessions.findFamily(parsed.familyId));
    if (!family) return;
    if (family.clientId !== client.id) {
      throw new TesseraError('unauthorized_client', 'The token was not issued to this client');
    }
    await revokeFamily(ctx, family, reason, input.initiator, { client });
    return;
  }
  const verified = await readAccessToken(ctx, token);
  if (!verified) return;
  const { claims } = verified;
  if (claims.client_id !== client.id) {
    throw new TesseraError('unauthorized_client', 'The token was not issued to this client');
  }
  const now = ctx.clock.now();
  if (claims.exp * 1000 <= now) return;
  await ctx.stores.accessTokens.revokeJti(claims.jti, claims.exp * 1000 + LEEWAY_MS);
  ctx.metrics.revocations.inc({ reason: 'access_token' });
  await recordEvents(ctx, [
    {
      at: now,
      type: 'token.revoked',
      familyId: claims.sid ?? null,
      userId: claims.sub,
      clientId: claims.client_id,
      reason,
      data: { jti: claims.jti, initiator: input.initiator },
    },
  ]);
}
