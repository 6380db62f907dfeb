import type { IntrospectionResponse } from '@tessera/protocol';
import { hashToken, looksLikeRefreshToken, parseRefreshToken } from '../crypto/refresh-token.js';
import type { ClientRecord } from '../ports/index.js';
import type { TesseraContext } from './context.js';
import { readAccessToken } from './read-access-token.js';

const INACTIVE: IntrospectionResponse = Object.freeze({ active: false });

/**
 * RFC 7662 introspection. Unknown, expired, revoked and other clients' tokens all answer exactly
 * `{active: false}`, so the answer reveals nothing. A resource-server client (`introspectAny`)
 * may introspect tokens issued to any client.
 */
export async function introspectToken(
  ctx: TesseraContext<'sessions' | 'accessTokens'>,
  input: { token: string; client: ClientRecord },
): Promise<IntrospectionResponse> {
  const { token, client } = input;
  const now = ctx.clock.now();
  const mayRead = (clientId: string) => client.introspectAny || clientId === client.id;

  if (looksLikeRefreshToken(token)) {
    // A token whose tag does not verify was never issued here.
    const parsed = parseRefreshToken(ctx.keys, token);
    const state =
      parsed && (await ctx.stores.sessions.findToken(parsed.familyId, hashToken(ctx.keys, token)));
    if (!state) return INACTIVE;
    const { token: rt, family } = state;
    if (rt.status !== 'active' || family.status !== 'active') return INACTIVE;
    if (now >= rt.expiresAt || now >= family.expiresAt || !mayRead(family.clientId)) return INACTIVE;
    return {
      active: true,
      token_type: 'refresh_token',
      scope: family.scope,
      client_id: family.clientId,
      sub: family.userId,
      exp: Math.floor(rt.expiresAt / 1000),
      iat: Math.floor(rt.issuedAt / 1000),
      iss: ctx.config.issuer,
      sid: family.id,
    };
  }

  const verified = await readAccessToken(ctx, token);
  if (!verified) return INACTIVE;
  const { claims } = verified;
  if (claims.exp * 1000 <= now || !mayRead(claims.client_id)) return INACTIVE;
  if (await ctx.stores.accessTokens.isJtiRevoked(claims.jti, now)) return INACTIVE;
  if (claims.sid !== undefined) {
    const family = await ctx.stores.sessions.findFamily(claims.sid);
    if (family?.status !== 'active') return INACTIVE;
  }
  return {
    active: true,
    token_type: claims.cnf ? 'DPoP' : 'Bearer',
    scope: claims.scope,
    client_id: claims.client_id,
    sub: claims.sub,
    exp: claims.exp,
    iat: claims.iat,
    iss: claims.iss,
    aud: claims.aud,
    jti: claims.jti,
    ...(claims.sid === undefined ? {} : { sid: claims.sid }),
    ...(claims.roles && claims.roles.length > 0 ? { roles: claims.roles } : {}),
    ...(claims.cnf ? { cnf: claims.cnf } : {}),
  };
}
