import type { TokenResponse } from '@tessera/protocol';
import { LIMITS } from '../config/limits.js';
import { hashToken, mintRefreshToken, newFamilyId } from '../crypto/refresh-token.js';
import type { ClientRecord, FamilyRecord, RefreshTokenRecord, UserRecord } from '../ports/index.js';
import { clientPolicy, type TesseraContext } from './context.js';
import { issueSessionAccessToken } from './issue-access-token.js';
import { toTokenResponse } from './token-response.js';

export interface SessionInput {
  client: ClientRecord;
  user: UserRecord;
  scope: string;
  userAgent?: string | undefined;
  ip?: string | undefined;
  /** The grant that started the session (`login`, `password`), for events and metrics. */
  grant: string;
  /** Thumbprint of the DPoP key the sign-in proved: the session is bound to it. */
  dpopJkt?: string | undefined;
}

/** Starts a session: a new token family with its first refresh token, and an access token. */
export async function issueSession(
  ctx: TesseraContext<'sessions'>,
  input: SessionInput,
): Promise<TokenResponse> {
  const { client, user, scope } = input;
  const policy = clientPolicy(ctx.config, client);
  const now = ctx.clock.now();
  const familyId = newFamilyId();
  const refreshToken = mintRefreshToken(ctx.keys, familyId);
  const family: FamilyRecord = {
    id: familyId,
    clientId: client.id,
    userId: user.id,
    scope,
    status: 'active',
    createdAt: now,
    expiresAt: now + policy.absoluteMs,
    generation: 0,
    lastRefreshAt: null,
    endedAt: null,
    endReason: null,
    endedBy: null,
    endNote: null,
    userAgent: input.userAgent?.slice(0, LIMITS.maxUserAgentLength) ?? null,
    ip: input.ip ?? null,
    dpopJkt: input.dpopJkt ?? null,
  };
  const token: RefreshTokenRecord = {
    hash: hashToken(ctx.keys, refreshToken),
    familyId,
    generation: 0,
    parentHash: null,
    status: 'active',
    issuedAt: now,
    expiresAt: Math.min(now + policy.idleMs, family.expiresAt),
    rotatedAt: null,
    graceResponse: null,
  };
  const access = await issueSessionAccessToken(ctx, {
    client,
    user,
    sid: familyId,
    scope,
    now,
    ttlMs: policy.accessTokenTtlMs,
    jkt: input.dpopJkt,
  });
  await ctx.stores.sessions.createFamily(family, token, [
    {
      at: now,
      type: 'token.issued',
      familyId,
      userId: user.id,
      clientId: client.id,
      reason: input.grant,
      data: { jti: access.claims.jti, generation: 0 },
    },
  ]);
  ctx.metrics.tokensIssued.inc({ grant: input.grant });
  return toTokenResponse(
    ctx,
    {
      accessToken: access.token,
      accessExpiresAt: access.expiresAt,
      refreshToken,
      refreshExpiresAt: token.expiresAt,
      scope,
      dpop: input.dpopJkt !== undefined,
    },
    now,
  );
}
