import { ENDPOINTS, TesseraError, type TokenResponse } from '@tessera/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requireClient } from '../../domain/authenticate-client.js';
import type { TesseraContext } from '../../domain/context.js';
import { issueClientCredentialsToken } from '../../domain/issue-client-credentials-token.js';
import type { LoginThrottle } from '../../domain/login-throttle.js';
import { refreshTokens } from '../../domain/rotate-refresh-token.js';
import { signIn } from '../../domain/sign-in.js';
import type { ClientRecord, GrantType } from '../../ports/index.js';
import { clientCredentials } from '../client-credentials.js';
import { dpopProofOf } from '../dpop-proof.js';
import { bodyOfType, type Params, required } from '../parse-body.js';
import type { RateLimits } from '../rate-limits.js';
import { refuseOutsideCookie } from '../refresh-cookie.js';

type Grant = (
  request: FastifyRequest,
  params: Params,
  client: ClientRecord,
  dpopJkt: string | undefined,
) => Promise<TokenResponse>;

/**
 * `POST /oauth/token` (RFC 6749): parse, authenticate the client, check the grant is the
 * client's, then hand over to the grant's domain operation.
 */
export function oauthTokenRoute(
  app: FastifyInstance,
  ctx: TesseraContext,
  throttle: LoginThrottle,
  limits: RateLimits,
) {
  const grants: Record<GrantType, Grant> = {
    refresh_token: (request, params, client, dpopJkt) =>
      refreshTokens(ctx, {
        refreshToken: required(params, 'refresh_token'),
        client,
        nonce: params.nonce,
        scope: params.scope,
        dpopJkt,
        ip: request.ip,
        userAgent: request.headers['user-agent'],
      }),
    // Off unless enabled per client (first-party clients only).
    password: (request, params, client, dpopJkt) =>
      signIn(ctx, throttle, {
        client,
        username: required(params, 'username'),
        password: required(params, 'password'),
        scope: params.scope,
        grant: 'password',
        userAgent: request.headers['user-agent'],
        ip: request.ip,
        dpopJkt,
      }),
    client_credentials: (_request, params, client, dpopJkt) =>
      issueClientCredentialsToken(ctx, { client, scope: params.scope, dpopJkt }),
  };

  app.post(ENDPOINTS.token, { preHandler: limits.token }, async (request, reply) => {
    const params = bodyOfType(request, 'application/x-www-form-urlencoded');
    const grantType = required(params, 'grant_type');
    const { client } = await requireClient(ctx, clientCredentials(request, params));
    if (!Object.hasOwn(grants, grantType)) {
      // Named without repeating the value: an error says nothing the client chose.
      throw new TesseraError(
        'unsupported_grant_type',
        `Supported grant types: ${Object.keys(grants).join(', ')}`,
      );
    }
    const grant = grantType as GrantType;
    if (!client.grantTypes.includes(grant)) {
      throw new TesseraError('unauthorized_client', `This client may not use the ${grant} grant`);
    }
    // A cookie-mode client's refresh token never leaves the cookie.
    if (grant !== 'client_credentials') refuseOutsideCookie(client);
    // Verified (and its jti recorded) before the grant runs: a replayed proof never reaches the grace path.
    const dpopJkt = await dpopProofOf(ctx, request, reply, client, ENDPOINTS.token);
    return grants[grant](request, params, client, dpopJkt);
  });
}
