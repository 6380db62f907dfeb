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
 *
 * A DPoP-bound token of a public client is revoked only with a proof of its key (`dpopJkt`):
 * for a public client the token is the only credential, and a thief holding a stolen bound token
 * must not be able to end the victim's session with it any more than use it. A confidential
 * client has authenticated with its secret, which a thief of the token alone does not hold, so
 * it may revoke its bound tokens without a proof (from a back office that does not hold the key).
 */
export async function revokeToken(
  ctx: TesseraContext<'sessions' | 'accessTokens' | 'directory' | 'events'>,
  input: {
    token: string;
    client: ClientRecord;
    initiator: 'client' | 'user';
    /** The thumbprint of the request's verified DPoP proof, if it had one. */
    dpopJkt?: string | undefined;
  },
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
    requireHolderProof(client, family.dpopJkt ?? undefined, input.dpopJkt);
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
  requireHolderProof(client, claims.cnf?.jkt, input.dpopJkt);
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

/** A public client's DPoP-bound token is revoked only by a proof of the key it is bound to. */
function requireHolderProof(client: ClientRecord, bound: string | undefined, presented: string | undefined) {
  if (bound === undefined || !client.public || presented === bound) return;
  throw new TesseraError(
    'invalid_dpop_proof',
    presented === undefined
      ? 'This token is bound to a DPoP key: revoking it takes a proof signed with that key'
      : 'The DPoP proof is signed by another key than the one this token is bound to',
  );
}
