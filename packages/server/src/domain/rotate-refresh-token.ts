import { type SessionEndReason, TesseraError, type TokenResponse } from '@tessera/protocol';
import { LIMITS } from '../config/limits.js';
import {
  hashToken,
  hasValidTag,
  mintRefreshToken,
  type RefreshTokenShape,
  refreshTokenShape,
} from '../crypto/refresh-token.js';
import { hmac } from '../crypto/secrets.js';
import type { ClientRecord, RefreshTokenRecord, TokenAndFamily } from '../ports/index.js';
import { checkDpopBinding } from './check-dpop-binding.js';
import { type ClientPolicy, clientPolicy, recordEvents, type TesseraContext } from './context.js';
import { decideRefresh } from './decide-refresh.js';
import { openGraceBox, sealGraceBox } from './grace-box.js';
import { issueSessionAccessToken } from './issue-access-token.js';
import { narrowScope } from './resolve-scope.js';
import { revokeFamily } from './revoke-family.js';
import { type IssuedTokens, toTokenResponse } from './token-response.js';

export interface RefreshInput {
  refreshToken: string;
  /** The client making the request, already authenticated as its type requires. */
  client: ClientRecord;
  nonce?: string | undefined;
  scope?: string | undefined;
  /** Where the request came from, kept in the lineage's events (never a token). */
  ip?: string | undefined;
  userAgent?: string | undefined;
  /**
   * Thumbprint of the key of the request's DPoP proof, already verified (its `jti` recorded, so a
   * captured proof is refused before the grace path can answer it). A bound session requires its
   * key. An unbound (bearer) session stays unbound: its new access token is bound to the proof's
   * key, but the family is not, so a stolen bearer refresh token cannot be used to take the
   * session over and reuse detection keeps protecting its owner. Sessions are bound at sign-in.
   */
  dpopJkt?: string | undefined;
}

/** The ports a refresh reaches. */
type RefreshContext = TesseraContext<'sessions' | 'replay' | 'directory' | 'events'>;

/** One refresh, as parsed once: the request, its token's family and hash, the client's policy. */
interface Refresh extends RefreshInput {
  familyId: string;
  /** The token's parts; its tag is checked only when the store does not know its hash. */
  shape: RefreshTokenShape;
  hash: string;
  policy: ClientPolicy;
}

/**
 * The refresh grant: rotate, or hand back the same child within the grace period, or detect reuse
 * and revoke the family (the rules are `decideRefresh`'s). Concurrent refreshes of one token in
 * this process share one rotation; across processes the store's atomic `rotate` and the grace
 * period give every caller the same child.
 *
 * The path, top to bottom: parse → nonce → single flight → find → decide → rotate | grace | reuse | fail.
 */
export async function refreshTokens(ctx: RefreshContext, input: RefreshInput): Promise<TokenResponse> {
  const shape = refreshTokenShape(input.refreshToken);
  if (!shape) throw invalidToken(ctx);
  await checkNonce(ctx, input.client, input.nonce);
  const refresh: Refresh = {
    ...input,
    familyId: shape.familyId,
    shape,
    hash: hashToken(ctx.keys, input.refreshToken),
    policy: clientPolicy(ctx.config, input.client),
  };
  return singleFlight(ctx, refresh);
}

/**
 * A string that is not one of our refresh tokens: malformed, or its tag does not verify. The tag
 * is checked only when the store does not know the token's hash (a known hash is an HMAC of the
 * whole token we issued, so it already proves the token ours): before anything reads the family
 * a forged token names, so a made-up token naming a real family never revokes it.
 */
function invalidToken(ctx: RefreshContext): TesseraError {
  ctx.metrics.refreshes.inc({ result: 'invalid_token' });
  return new TesseraError('invalid_token', 'The refresh token is malformed or was not issued by this server');
}

async function checkNonce(
  ctx: RefreshContext,
  client: ClientRecord,
  nonce: string | undefined,
): Promise<void> {
  if (nonce === undefined) {
    if (client.requireNonce)
      throw new TesseraError('invalid_request', 'This client must send a nonce with each refresh');
    return;
  }
  if (nonce.length < LIMITS.nonceMinLength || nonce.length > LIMITS.nonceMaxLength) {
    throw new TesseraError(
      'invalid_request',
      `The nonce must be ${LIMITS.nonceMinLength} to ${LIMITS.nonceMaxLength} characters`,
    );
  }
  const now = ctx.clock.now();
  const fresh = await ctx.stores.replay.insertIfAbsent(
    `nonce:${hmac(ctx.keys.misc, nonce)}`,
    now + ctx.config.nonceTtl * 1000,
    now,
  );
  if (!fresh) {
    ctx.metrics.refreshes.inc({ result: 'replay_detected' });
    throw new TesseraError('replay_detected');
  }
}

/**
 * Concurrent refreshes of one token, by one client, for one scope, share one answer. The token
 * counts as a recent refresh by this client (exempt from the rate limit) while it is rotated and,
 * once it is, for the grace period.
 */
async function singleFlight(ctx: RefreshContext, refresh: Refresh): Promise<TokenResponse> {
  // Requests proving different keys never share an answer: each is checked against the binding.
  const key = `${refresh.hash}|${refresh.client.id}|${refresh.scope ?? ''}|${refresh.dpopJkt ?? ''}`;
  const coalesceMs = ctx.config.coalesceTimeout * 1000;
  const now = ctx.clock.now();
  // A failure forgets only its own key's mark: another key's failed attempt (a thief's) leaves
  // the owner's rotation, and its grace period, exempt.
  ctx.recentRefreshes.mark(refresh.hash, refresh.client, now + coalesceMs, now, refresh.dpopJkt);
  let response: TokenResponse;
  try {
    response = await ctx.refreshFlights.run(key, () => findAndDecide(ctx, refresh), coalesceMs);
  } catch (err) {
    ctx.recentRefreshes.forget(refresh.hash, refresh.client.id, refresh.dpopJkt);
    throw err;
  }
  ctx.recentRefreshes.settle(refresh.hash, refresh.client, now + refresh.policy.graceMs);
  return response;
}

/** Reads the token's state and acts on the decision; a rotation that lost a race reads again. */
async function findAndDecide(ctx: RefreshContext, refresh: Refresh): Promise<TokenResponse> {
  for (let attempt = 0; attempt < LIMITS.rotationAttempts; attempt++) {
    const now = ctx.clock.now();
    const state = await ctx.stores.sessions.findToken(refresh.familyId, refresh.hash);
    if (!state) return failUnknownToken(ctx, refresh);
    await checkDpopBinding(ctx, state.family, refresh.dpopJkt);
    const decision = decideRefresh(state, refresh.client.id, now, refresh.policy.graceMs);
    switch (decision.kind) {
      case 'rotate': {
        const response = await rotate(ctx, refresh, state, now);
        if (response) return response;
        // Another process rotated first: read again, which lands in the grace path.
        break;
      }
      case 'grace':
        return answerFromGrace(ctx, refresh, state, now);
      case 'reuse':
        return failReuse(ctx, state, refresh);
      case 'fail':
        return fail(ctx, state, decision.code, decision.endReason);
    }
  }
  throw new TesseraError('rotation_in_progress');
}

/** Issues the child and its access token, and rotates; `undefined` when another rotation won. */
async function rotate(
  ctx: RefreshContext,
  refresh: Refresh,
  state: TokenAndFamily,
  now: number,
): Promise<TokenResponse | undefined> {
  const { token, family } = state;
  const { client, policy } = refresh;
  const user = await ctx.stores.directory.findUserById(family.userId);
  if (!user || user.disabled) {
    await revokeFamily(ctx, family, 'user_disabled', 'system', { client });
    ctx.metrics.refreshes.inc({ result: 'session_expired' });
    throw new TesseraError('session_expired', 'The account of this session is disabled or gone', {
      sessionEndReason: 'user_disabled',
    });
  }
  const scope = narrowScope(family.scope, refresh.scope);
  // A bound family has the same key (checked). An unbound one is never bound on refresh (a thief
  // with a stolen bearer token would bind it to their key); only its access token is.
  const jkt = family.dpopJkt ?? refresh.dpopJkt;
  const childToken = mintRefreshToken(ctx.keys, family.id);
  const child: RefreshTokenRecord = {
    hash: hashToken(ctx.keys, childToken),
    familyId: family.id,
    generation: token.generation + 1,
    parentHash: token.hash,
    status: 'active',
    issuedAt: now,
    expiresAt: Math.min(now + policy.idleMs, family.expiresAt),
    rotatedAt: null,
    graceResponse: null,
  };
  const access = await issueSessionAccessToken(ctx, {
    client,
    user,
    sid: family.id,
    scope,
    now,
    ttlMs: policy.accessTokenTtlMs,
    jkt,
  });
  const issued: IssuedTokens = {
    accessToken: access.token,
    accessExpiresAt: access.expiresAt,
    refreshToken: childToken,
    refreshExpiresAt: child.expiresAt,
    scope,
    ...(jkt === undefined ? {} : { dpop: true }),
  };
  const result = await ctx.stores.sessions.rotate({
    parentHash: token.hash,
    parentGeneration: token.generation,
    child,
    graceResponse: sealGraceBox(ctx.keys, refresh.refreshToken, token.hash, issued),
    now,
    events: [
      {
        at: now,
        type: 'token.refreshed',
        familyId: family.id,
        userId: family.userId,
        clientId: family.clientId,
        data: { generation: child.generation, jti: access.claims.jti, ...origin(refresh) },
      },
    ],
  });
  if (result.outcome === 'conflict') return undefined;
  ctx.metrics.refreshes.inc({ result: 'rotated' });
  ctx.metrics.tokensIssued.inc({ grant: 'refresh_token' });
  return toTokenResponse(ctx, issued, now);
}

/** The immediate parent again, within grace: the same answer as the first time, from the sealed box. */
async function answerFromGrace(
  ctx: RefreshContext,
  refresh: Refresh,
  state: TokenAndFamily,
  now: number,
): Promise<TokenResponse> {
  const issued = openGraceBox(ctx.keys, refresh.refreshToken, state.token);
  if (!issued) {
    // Only a holder of the parent token can open the box; failing to is a state we never write.
    throw new TesseraError('invalid_token_state', 'The grace-period response cannot be recovered');
  }
  ctx.metrics.refreshes.inc({ result: 'grace' });
  ctx.metrics.graceReuses.inc();
  await recordEvents(ctx, [
    {
      at: now,
      type: 'token.grace_reuse',
      familyId: state.family.id,
      userId: state.family.userId,
      clientId: state.family.clientId,
      data: { generation: state.token.generation, ...origin(refresh) },
    },
  ]);
  return toTokenResponse(ctx, issued, now);
}

/** A rotated token presented again outside the rules: the whole family ends. */
async function failReuse(ctx: RefreshContext, state: TokenAndFamily, refresh?: Refresh): Promise<never> {
  const { family, token } = state;
  const now = ctx.clock.now();
  ctx.metrics.refreshes.inc({ result: 'token_reused' });
  ctx.metrics.reuseDetected.inc();
  await recordEvents(ctx, [
    {
      at: now,
      type: 'token.reuse.detected',
      familyId: family.id,
      userId: family.userId,
      clientId: family.clientId,
      reason: 'token_reused',
      data: {
        presentedGeneration: token.generation,
        currentGeneration: family.generation,
        ...(refresh ? origin(refresh) : {}),
      },
    },
  ]);
  await revokeFamily(ctx, family, 'reuse_detected', 'system');
  throw new TesseraError('token_reused', undefined, { sessionEndReason: 'reuse_detected' });
}

/** A refusal that changes nothing (revoked, expired, another client's), recorded with its reason. */
async function fail(
  ctx: RefreshContext,
  state: TokenAndFamily,
  code: TesseraError['code'],
  endReason: SessionEndReason | undefined,
): Promise<never> {
  ctx.metrics.refreshes.inc({ result: code });
  await recordEvents(ctx, [
    {
      at: ctx.clock.now(),
      type: 'token.refresh_failed',
      familyId: state.family.id,
      userId: state.family.userId,
      clientId: state.family.clientId,
      reason: code,
      data: endReason === undefined ? {} : { endReason },
    },
  ]);
  throw new TesseraError(code, failureDescription(code, endReason), { sessionEndReason: endReason });
}

/** No row for this token: cleanup pruned it, or its family is gone, or it is not ours. */
async function failUnknownToken(ctx: RefreshContext, refresh: Refresh): Promise<never> {
  if (!hasValidTag(ctx.keys, refresh.shape)) throw invalidToken(ctx);
  const family = await ctx.stores.sessions.findFamily(refresh.familyId);
  if (!family) {
    // The tag proves we issued it; its family outlived its absolute lifetime and was deleted.
    ctx.metrics.refreshes.inc({ result: 'token_expired' });
    throw new TesseraError('token_expired', 'The session this token belongs to has expired');
  }
  await checkDpopBinding(ctx, family, refresh.dpopJkt);
  if (family.clientId !== refresh.client.id) {
    ctx.metrics.refreshes.inc({ result: 'client_mismatch' });
    throw new TesseraError('client_mismatch');
  }
  if (family.status === 'revoked')
    return fail(ctx, tombstone(family), 'token_revoked', family.endReason ?? 'admin_revoked');
  if (family.status === 'expired' || ctx.clock.now() >= family.expiresAt) {
    return fail(ctx, tombstone(family), 'token_expired', family.endReason ?? 'absolute_expired');
  }
  // The family lives on with a newer token, so this pruned one is an ancestor: reuse.
  return failReuse(ctx, tombstone(family), refresh);
}

/** A pruned token, as far as its family row still tells. */
function tombstone(family: TokenAndFamily['family']): TokenAndFamily {
  return {
    family,
    token: {
      hash: '',
      familyId: family.id,
      generation: -1,
      parentHash: null,
      status: 'rotated',
      issuedAt: 0,
      expiresAt: 0,
      rotatedAt: null,
      graceResponse: null,
    },
  };
}

function failureDescription(code: string, reason: SessionEndReason | undefined): string | undefined {
  if (code === 'token_expired') {
    return reason === 'idle_expired'
      ? 'The refresh token expired after a period of inactivity'
      : 'The session reached its maximum lifetime';
  }
  if (code === 'token_revoked') return `The session was ended (${reason ?? 'revoked'})`;
  return undefined;
}

/** The request's IP and user agent, for the lineage (what the dashboard shows per rotation). */
function origin(refresh: Refresh): { ip?: string; userAgent?: string } {
  return {
    ...(refresh.ip === undefined ? {} : { ip: refresh.ip }),
    ...(refresh.userAgent === undefined
      ? {}
      : { userAgent: refresh.userAgent.slice(0, LIMITS.maxUserAgentLength) }),
  };
}
