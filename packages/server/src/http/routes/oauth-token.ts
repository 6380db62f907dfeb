import { ENDPOINTS, TesseraError } from '@tessera/protocol';
import type { FastifyInstance } from 'fastify';
import { requireClient } from '../../domain/authenticate-client.js';
import { authenticateUser, type LoginThrottle } from '../../domain/authenticate-user.js';
import type { TesseraContext } from '../../domain/context.js';
import { clientPolicy } from '../../domain/context.js';
import { issueAccessToken } from '../../domain/issue-access-token.js';
import { issueSession } from '../../domain/issue-session.js';
import { resolveScope } from '../../domain/resolve-scope.js';
import { refreshTokens } from '../../domain/rotate-refresh-token.js';
import { toTokenResponse } from '../../domain/token-response.js';
import { bodyOf, required } from '../parse-body.js';
import type { RateLimits } from '../rate-limits.js';
import { refuseOutsideCookie } from '../refresh-cookie.js';

/** `POST /oauth/token` (RFC 6749): refresh_token, password (opt-in per client) and client_credentials. */
export function oauthTokenRoute(
  app: FastifyInstance,
  ctx: TesseraContext,
  throttle: LoginThrottle,
  limits: RateLimits,
) {
  app.post(ENDPOINTS.token, { config: { rateLimit: limits.refresh } }, async (request, reply) => {
    const params = bodyOf(request.body);
    if (!request.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) {
      throw new TesseraError(
        'unsupported_media_type',
        'The token endpoint takes application/x-www-form-urlencoded',
      );
    }
    const grantType = required(params, 'grant_type');
    const { client } = await requireClient(ctx, {
      authorization: request.headers.authorization,
      clientId: params.client_id,
      clientSecret: params.client_secret,
    });
    if (!['refresh_token', 'password', 'client_credentials'].includes(grantType)) {
      throw new TesseraError(
        'unsupported_grant_type',
        `The grant type "${grantType.slice(0, 64)}" is not supported`,
      );
    }
    if (!client.grantTypes.includes(grantType as 'refresh_token')) {
      throw new TesseraError('unauthorized_client', `This client may not use the ${grantType} grant`);
    }
    // A cookie-mode client's refresh token never leaves the cookie (SPEC §3.5).
    if (grantType !== 'client_credentials') refuseOutsideCookie(client);
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');

    if (grantType === 'refresh_token') {
      return refreshTokens(ctx, {
        refreshToken: required(params, 'refresh_token'),
        client,
        nonce: params.nonce,
        scope: params.scope,
      });
    }
    if (grantType === 'password') {
      const username = required(params, 'username');
      const password = required(params, 'password');
      const scope = resolveScope(client, params.scope);
      const user = await authenticateUser(ctx, throttle, {
        username,
        password,
        clientId: client.id,
        ip: request.ip,
      }).catch((err: unknown) => {
        // RFC 6749 §5.2 answers bad resource-owner credentials with 400 invalid_grant.
        if (err instanceof TesseraError && err.code === 'invalid_credentials') {
          throw new TesseraError('invalid_grant', 'Invalid username or password');
        }
        throw err;
      });
      return issueSession(ctx, {
        client,
        user,
        scope,
        grant: 'password',
        userAgent: request.headers['user-agent'],
        ip: request.ip,
      });
    }
    // client_credentials: a token for the client itself, no refresh token, no session.
    if (client.public)
      throw new TesseraError('unauthorized_client', 'A public client cannot use client_credentials');
    const now = ctx.clock.now();
    const scope = resolveScope(client, params.scope);
    const access = await issueAccessToken(ctx, {
      client,
      sub: client.id,
      scope,
      now,
      ttlMs: clientPolicy(ctx.config, client).accessTokenTtlMs,
    });
    ctx.metrics.tokensIssued.inc({ grant: 'client_credentials' });
    return toTokenResponse(ctx, { accessToken: access.token, accessExpiresAt: access.expiresAt, scope }, now);
  });
}
