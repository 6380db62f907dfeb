import { createHmac } from 'node:crypto';
import { TesseraError, type TokenResponse } from '@tessera/protocol';
import { LIMITS } from '../config/limits.js';
import { hashToken, mintRefreshToken, parseRefreshToken } from '../crypto/refresh-token.js';
import { open, seal } from '../crypto/seal.js';
import { hmac } from '../crypto/secrets.js';
import type { ClientRecord, RefreshTokenRecord, TokenAndFamily } from '../ports/index.js';
import { clientPolicy, recordEvents, type TesseraContext } from './context.js';
import { decideRefresh } from './decide-refresh.js';
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
}

/**
 * The refresh grant (SPEC §3.3): rotate, or hand back the same child within the grace period,
 * or detect reuse and revoke the family. Concurrent refreshes of one token in this process share
 * one rotation; across processes the store's atomic `rotate` and the grace period give every
 * caller the same child.
 */
export async function refreshTokens(ctx: TesseraContext, input: RefreshInput): Promise<TokenResponse> {
  const parsed = parseRefreshToken(ctx.keys, input.refreshToken);
  if (!parsed) {
    ctx.metrics.refreshes.inc({ result: 'invalid_token' });
    throw new TesseraError(
      'invalid_token',
      'The refresh token is malformed or was not issued by this server',
    );
  }
  await checkNonce(ctx, input.client, input.nonce);
  const hash = hashToken(ctx.keys, input.refreshToken);
  const key = `${hash}|${input.client.id}|${input.scope ?? ''}`;
  const now = ctx.clock.now();
  ctx.recentRefreshes.mark(hash, now + ctx.config.coalesceTimeout * 1000);
  let response: TokenResponse;
  try {
    response = await ctx.refreshFlights.run(
      key,
      () => refreshOnce(ctx, input, hash, parsed.familyId),
      ctx.config.coalesceTimeout * 1000,
    );
  } catch (err) {
    ctx.recentRefreshes.forget(hash);
    throw err;
  }
  ctx.recentRefreshes.mark(hash, now + clientPolicy(ctx.config, input.client).graceMs);
  return response;
}

/** True while this token is being rotated or was rotated within its grace period (rate-limit exemption). */
export function isRecentRefresh(ctx: TesseraContext, refreshToken: string): boolean {
  return ctx.recentRefreshes.has(hashToken(ctx.keys, refreshToken), ctx.clock.now());
}

async function checkNonce(
  ctx: TesseraContext,
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

async function refreshOnce(
  ctx: TesseraContext,
  input: RefreshInput,
  hash: string,
  familyId: string,
): Promise<TokenResponse> {
  for (let attempt = 0; attempt < LIMITS.rotationAttempts; attempt++) {
    const now = ctx.clock.now();
    const state = await ctx.stores.sessions.findToken(familyId, hash);
    if (!state) return failUnknownToken(ctx, input, familyId);
    const policy = clientPolicy(ctx.config, input.client);
    const decision = decideRefresh(state, input.client.id, now, policy.graceMs);
    switch (decision.kind) {
      case 'grace':
        return graceResponse(ctx, input, state, now);
      case 'reuse':
        return failReuse(ctx, state);
      case 'fail':
        return fail(ctx, state, decision.code, decision.reason);
      case 'rotate': {
        const response = await rotate(ctx, input, state, now);
        if (response) return response;
        // Another process rotated first: read again, which lands in the grace path.
      }
    }
  }
  throw new TesseraError('rotation_in_progress');
}

async function rotate(
  ctx: TesseraContext,
  input: RefreshInput,
  state: TokenAndFamily,
  now: number,
): Promise<TokenResponse | undefined> {
  const { token, family } = state;
  const user = await ctx.stores.directory.findUserById(family.userId);
  if (!user || user.disabled) {
    await revokeFamily(ctx, family, 'user_disabled', 'system', input.client);
    ctx.metrics.refreshes.inc({ result: 'session_expired' });
    throw new TesseraError('session_expired', 'The account of this session is disabled or gone');
  }
  const policy = clientPolicy(ctx.config, input.client);
  const scope = narrowScope(family.scope, input.scope);
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
    client: input.client,
    user,
    sid: family.id,
    scope,
    now,
  });
  const issued: IssuedTokens = {
    accessToken: access.token,
    accessExpiresAt: access.expiresAt,
    refreshToken: childToken,
    refreshExpiresAt: child.expiresAt,
    scope,
  };
  const result = await ctx.stores.sessions.rotate({
    parentHash: token.hash,
    parentGeneration: token.generation,
    child,
    graceResponse: sealGrace(ctx, input.refreshToken, token.hash, issued),
    now,
    events: [
      {
        at: now,
        type: 'token.refreshed',
        familyId: family.id,
        userId: family.userId,
        clientId: family.clientId,
        data: { generation: child.generation, jti: access.claims.jti },
      },
    ],
  });
  if (result.outcome === 'conflict') return undefined;
  ctx.metrics.refreshes.inc({ result: 'rotated' });
  ctx.metrics.tokensIssued.inc({ grant: 'refresh_token' });
  return toTokenResponse(ctx, issued, now);
}

async function graceResponse(
  ctx: TesseraContext,
  input: RefreshInput,
  state: TokenAndFamily,
  now: number,
): Promise<TokenResponse> {
  const issued = openGrace(ctx, input.refreshToken, state.token);
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
      data: { generation: state.token.generation },
    },
  ]);
  return toTokenResponse(ctx, issued, now);
}

async function failReuse(ctx: TesseraContext, state: TokenAndFamily): Promise<never> {
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
      data: { presentedGeneration: token.generation, currentGeneration: family.generation },
    },
  ]);
  await revokeFamily(ctx, family, 'token_reused', 'system');
  throw new TesseraError('token_reused');
}

async function fail(
  ctx: TesseraContext,
  state: TokenAndFamily,
  code: TesseraError['code'],
  reason: string,
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
      data: { detail: reason },
    },
  ]);
  throw new TesseraError(code, failureDescription(code, reason));
}

/** No row for this token: cleanup pruned it, or its family is gone (SPEC §3.3 rule 7). */
async function failUnknownToken(ctx: TesseraContext, input: RefreshInput, familyId: string): Promise<never> {
  const family = await ctx.stores.sessions.findFamily(familyId);
  if (!family) {
    // The tag proves we issued it; its family outlived its absolute lifetime and was deleted.
    ctx.metrics.refreshes.inc({ result: 'token_expired' });
    throw new TesseraError('token_expired', 'The session this token belongs to has expired');
  }
  if (family.clientId !== input.client.id) {
    ctx.metrics.refreshes.inc({ result: 'client_mismatch' });
    throw new TesseraError('client_mismatch');
  }
  if (family.status === 'revoked')
    return fail(ctx, tombstone(family), 'token_revoked', family.endReason ?? 'revoked');
  if (family.status === 'expired' || ctx.clock.now() >= family.expiresAt) {
    return fail(ctx, tombstone(family), 'token_expired', family.endReason ?? 'expired');
  }
  // The family lives on with a newer token, so this pruned one is an ancestor: reuse.
  return failReuse(ctx, tombstone(family));
}

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

function failureDescription(code: string, reason: string): string | undefined {
  if (code === 'token_expired') {
    return reason === 'idle_timeout'
      ? 'The refresh token expired after a period of inactivity'
      : 'The session reached its maximum lifetime';
  }
  if (code === 'token_revoked') return `The session was ended (${reason})`;
  return undefined;
}

// The grace-period box: the response of a rotation, sealed under a key that only the holder of the
// parent token can derive (HMAC of the parent with a server key), so the database alone never
// yields a usable token (SPEC §3.3 rule 3: nothing stored in plaintext).

function graceKey(ctx: TesseraContext, parentToken: string): Buffer {
  return createHmac('sha256', ctx.keys.grace).update(parentToken).digest();
}

function sealGrace(
  ctx: TesseraContext,
  parentToken: string,
  parentHash: string,
  issued: IssuedTokens,
): Buffer {
  return seal(graceKey(ctx, parentToken), Buffer.from(JSON.stringify(issued)), `grace:${parentHash}`);
}

function openGrace(
  ctx: TesseraContext,
  parentToken: string,
  parent: RefreshTokenRecord,
): IssuedTokens | undefined {
  if (!parent.graceResponse) return undefined;
  const plain = open(graceKey(ctx, parentToken), parent.graceResponse, `grace:${parent.hash}`);
  return plain ? (JSON.parse(plain.toString('utf8')) as IssuedTokens) : undefined;
}
