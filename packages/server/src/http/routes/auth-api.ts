import { ENDPOINTS, isTesseraError, TesseraError } from '@tessera/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LIMITS } from '../../config/limits.js';
import { parseRefreshToken } from '../../crypto/refresh-token.js';
import { authenticateClient } from '../../domain/authenticate-client.js';
import { authenticateUser, type LoginThrottle } from '../../domain/authenticate-user.js';
import type { TesseraContext } from '../../domain/context.js';
import { issueSession } from '../../domain/issue-session.js';
import { readAccessToken } from '../../domain/read-access-token.js';
import { resolveScope } from '../../domain/resolve-scope.js';
import { revokeFamily } from '../../domain/revoke-family.js';
import { revokeToken } from '../../domain/revoke-token.js';
import { refreshTokens } from '../../domain/rotate-refresh-token.js';
import type { ClientRecord } from '../../ports/index.js';
import { bodyOf, type Params, required } from '../parse-body.js';
import type { RateLimits } from '../rate-limits.js';
import {
  assertCookieUsable,
  checkCsrf,
  clearRefreshCookie,
  handOverInCookie,
  isCookieRequest,
  refreshCookieFor,
  refuseOutsideCookie,
} from '../refresh-cookie.js';

/** First-party JSON endpoints (SPEC §2): login, refresh and logout, with browser cookie mode (SPEC §3.5). */
export function authApiRoutes(
  app: FastifyInstance,
  ctx: TesseraContext,
  throttle: LoginThrottle,
  limits: RateLimits,
) {
  const cookie = refreshCookieFor(ctx.config.issuer);

  app.post(ENDPOINTS.login, { config: { rateLimit: limits.login } }, async (request, reply) => {
    const params = jsonBody(request);
    const username = required(params, 'username');
    const password = required(params, 'password');
    if (username.length > LIMITS.maxUsernameLength || password.length > LIMITS.maxPasswordLength)
      throw new TesseraError('invalid_credentials');
    const client = await loginClient(ctx, request, params);
    if (!client.grantTypes.includes('refresh_token')) {
      throw new TesseraError('unauthorized_client', 'This client may not start sessions');
    }
    if (client.cookieMode) {
      // Checked before the password: a forged cross-site login must not even reach it.
      assertCookieUsable(cookie);
      checkCsrf(request, cookie);
    }
    const scope = resolveScope(client, params.scope);
    const user = await authenticateUser(ctx, throttle, {
      username,
      password,
      clientId: client.id,
      ip: request.ip,
    });
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    const tokens = await issueSession(ctx, {
      client,
      user,
      scope,
      grant: 'login',
      userAgent: request.headers['user-agent'],
      ip: request.ip,
    });
    return client.cookieMode ? handOverInCookie(reply, cookie, tokens) : tokens;
  });

  app.post(ENDPOINTS.refresh, { config: { rateLimit: limits.refresh } }, async (request, reply) => {
    const cookieMode = isCookieRequest(request, cookie);
    const params = cookieMode && request.body === undefined ? {} : jsonBody(request);
    if (cookieMode && params.refresh_token === undefined) return refreshFromCookie(request, reply, params);
    const refreshToken = required(params, 'refresh_token');
    const client = await refreshClient(ctx, request, params, refreshToken);
    refuseOutsideCookie(client);
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    return refreshTokens(ctx, { refreshToken, client, nonce: params.nonce, scope: params.scope });
  });

  /** SPEC §3.5: the refresh token comes from the cookie and goes back only in the cookie. */
  async function refreshFromCookie(request: FastifyRequest, reply: FastifyReply, params: Params) {
    checkCsrf(request, cookie);
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    const refreshToken = request.cookies[cookie.name];
    try {
      if (refreshToken === undefined) {
        throw new TesseraError('session_expired', 'No session cookie; sign in again');
      }
      const client = await refreshClient(ctx, request, params, refreshToken);
      if (!client.cookieMode)
        throw new TesseraError('invalid_client', 'This client does not use cookie mode');
      assertCookieUsable(cookie);
      // The same domain operation as every refresh: coalescing, grace period and reuse detection hold.
      const tokens = await refreshTokens(ctx, {
        refreshToken,
        client,
        nonce: params.nonce,
        scope: params.scope,
      });
      return handOverInCookie(reply, cookie, tokens);
    } catch (err) {
      // A session that can never recover takes its cookie with it.
      if (isTesseraError(err) && err.endsSession && refreshToken !== undefined)
        clearRefreshCookie(reply, cookie);
      throw err;
    }
  }

  app.post(ENDPOINTS.logout, async (request, reply) => {
    const cookieMode = isCookieRequest(request, cookie);
    const params = cookieMode && request.body === undefined ? {} : jsonBody(request);
    reply.header('cache-control', 'no-store');
    if (cookieMode && params.refresh_token === undefined) {
      checkCsrf(request, cookie);
      const token = request.cookies[cookie.name];
      if (token !== undefined) {
        const client = await refreshClient(ctx, request, params, token).catch(refusedOnly);
        if (client) await revokeToken(ctx, { token, client, initiator: 'user' }).catch(refusedOnly);
      }
      // Cleared only once the session is ended: a 503 above leaves the cookie for a retry.
      clearRefreshCookie(reply, cookie);
      return reply.code(204).send();
    }
    if (params.refresh_token !== undefined) {
      // A token we refuse (unknown, malformed, another client's) still logs out quietly; a store that
      // cannot revoke must not: 503, so the client knows the session was not ended (SPEC §2).
      const client = await refreshClient(ctx, request, params, params.refresh_token).catch(refusedOnly);
      if (client)
        await revokeToken(ctx, { token: params.refresh_token, client, initiator: 'user' }).catch(refusedOnly);
      return reply.code(204).send();
    }
    const bearer = request.headers.authorization?.match(/^Bearer ([\x21-\x7E]+)$/)?.[1];
    if (bearer === undefined)
      throw new TesseraError('invalid_request', 'Send the refresh_token, or the access token as Bearer');
    const verified = await readAccessToken(ctx, bearer);
    if (verified?.claims.sid !== undefined && verified.claims.exp * 1000 > ctx.clock.now()) {
      const family = await ctx.stores.tokens.findFamily(verified.claims.sid);
      if (family && family.userId === verified.claims.sub) await revokeFamily(ctx, family, 'logout', 'user');
    }
    return reply.code(204).send();
  });
}

/** Swallows a refusal of the request (a 4xx TesseraError); anything else, such as a store failure, propagates. */
function refusedOnly(err: unknown): undefined {
  if (isTesseraError(err) && err.status < 500) return undefined;
  throw err;
}

function jsonBody(request: FastifyRequest): Params {
  if (!request.headers['content-type']?.startsWith('application/json')) {
    throw new TesseraError('unsupported_media_type', 'This endpoint takes application/json');
  }
  return bodyOf(request.body);
}

function credentials(request: FastifyRequest, params: Params) {
  const authorization = request.headers.authorization;
  return {
    authorization: authorization?.startsWith('Basic ') ? authorization : undefined,
    clientId: params.client_id,
    clientSecret: params.client_secret,
  };
}

async function loginClient(
  ctx: TesseraContext,
  request: FastifyRequest,
  params: Params,
): Promise<ClientRecord> {
  const authenticated = await authenticateClient(ctx, credentials(request, params));
  if (authenticated) return authenticated.client;
  const fallback = ctx.config.loginDefaultClientId;
  if (fallback === undefined)
    throw new TesseraError('invalid_request', 'The parameter "client_id" is required');
  const client = await ctx.stores.directory.findClient(fallback);
  if (!client?.public)
    throw new TesseraError('invalid_client', 'The default login client is missing or not public');
  return client;
}

/** The client of a refresh: as authenticated, or, when none is named, the session's own public client. */
async function refreshClient(
  ctx: TesseraContext,
  request: FastifyRequest,
  params: Params,
  refreshToken: string,
): Promise<ClientRecord> {
  const authenticated = await authenticateClient(ctx, credentials(request, params));
  if (authenticated) return authenticated.client;
  const parsed = parseRefreshToken(ctx.keys, refreshToken);
  if (!parsed)
    throw new TesseraError(
      'invalid_token',
      'The refresh token is malformed or was not issued by this server',
    );
  const family = await ctx.stores.tokens.findFamily(parsed.familyId);
  if (!family) throw new TesseraError('token_expired', 'The session this token belongs to has expired');
  const client = await ctx.stores.directory.findClient(family.clientId);
  if (!client) throw new TesseraError('invalid_client', 'The client of this session no longer exists');
  if (!client.public) throw new TesseraError('invalid_client', 'This client must authenticate');
  return client;
}
