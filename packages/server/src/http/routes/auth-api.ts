import { ENDPOINTS, isTesseraError, TesseraError } from '@tessera/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TesseraContext } from '../../domain/context.js';
import { logOut } from '../../domain/log-out.js';
import type { LoginThrottle } from '../../domain/login-throttle.js';
import { resolveLoginClient } from '../../domain/resolve-login-client.js';
import { resolveRefreshClient } from '../../domain/resolve-refresh-client.js';
import { refreshTokens } from '../../domain/rotate-refresh-token.js';
import { signIn } from '../../domain/sign-in.js';
import { dpopHeaderValues, verifyDpopProof } from '../../dpop/verify-dpop-proof.js';
import { clientCredentials } from '../client-credentials.js';
import { dpopProofOf } from '../dpop-proof.js';
import { bodyOfType, type Params, required } from '../parse-body.js';
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

/**
 * First-party JSON endpoints: login, refresh and logout, each parse → domain operation →
 * reply, with browser cookie mode (the refresh token only ever in an HttpOnly cookie).
 */
export function authApiRoutes(
  app: FastifyInstance,
  ctx: TesseraContext,
  throttle: LoginThrottle,
  limits: RateLimits,
) {
  const cookie = refreshCookieFor(ctx.config.issuer);
  // A Bearer header here is the caller's access token (logout), never client authentication.
  const credentials = (request: FastifyRequest, params: Params) =>
    clientCredentials(request, params, { basicOnly: true });

  app.post(ENDPOINTS.login, { preHandler: limits.login }, async (request, reply) => {
    const params = jsonBody(request);
    const username = required(params, 'username');
    const password = required(params, 'password');
    const client = await resolveLoginClient(ctx, credentials(request, params));
    if (client.cookieMode) {
      // Checked before the password: a forged cross-site login must not even reach it.
      assertCookieUsable(cookie);
      checkCsrf(request, cookie);
    }
    const dpopJkt = await dpopProofOf(ctx, request, reply, client, ENDPOINTS.login);
    const tokens = await signIn(ctx, throttle, {
      client,
      username,
      password,
      scope: params.scope,
      grant: 'login',
      userAgent: request.headers['user-agent'],
      ip: request.ip,
      dpopJkt,
    });
    return client.cookieMode ? handOverInCookie(reply, cookie, tokens) : tokens;
  });

  app.post(ENDPOINTS.refresh, { preHandler: limits.refresh }, async (request, reply) => {
    const cookieMode = isCookieRequest(request, cookie);
    const params = cookieMode && request.body === undefined ? {} : jsonBody(request);
    if (cookieMode && params.refresh_token === undefined) return refreshFromCookie(request, reply, params);
    const refreshToken = required(params, 'refresh_token');
    const client = await resolveRefreshClient(ctx, credentials(request, params), refreshToken);
    refuseOutsideCookie(client);
    const dpopJkt = await dpopProofOf(ctx, request, reply, client, ENDPOINTS.refresh);
    return refreshTokens(ctx, {
      refreshToken,
      client,
      nonce: params.nonce,
      scope: params.scope,
      dpopJkt,
      ip: request.ip,
      userAgent: request.headers['user-agent'],
    });
  });

  /** Cookie mode: the refresh token comes from the cookie and goes back only in the cookie. */
  async function refreshFromCookie(request: FastifyRequest, reply: FastifyReply, params: Params) {
    checkCsrf(request, cookie);
    const refreshToken = request.cookies[cookie.name];
    try {
      if (refreshToken === undefined) {
        throw new TesseraError('session_expired', 'No session cookie; sign in again');
      }
      const client = await resolveRefreshClient(ctx, credentials(request, params), refreshToken);
      if (!client.cookieMode)
        throw new TesseraError('invalid_client', 'This client does not use cookie mode');
      assertCookieUsable(cookie);
      const dpopJkt = await dpopProofOf(ctx, request, reply, client, ENDPOINTS.refresh);
      // The same domain operation as every refresh: coalescing, grace period and reuse detection hold.
      const tokens = await refreshTokens(ctx, {
        refreshToken,
        client,
        nonce: params.nonce,
        scope: params.scope,
        dpopJkt,
        ip: request.ip,
        userAgent: request.headers['user-agent'],
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
    // A cookie or an access token (Bearer, or DPoP with its proof) is all a logout needs: no body,
    // so no content type, is fine.
    const presented = /^(Bearer|DPoP) ([\x21-\x7E]+)$/.exec(request.headers.authorization ?? '');
    const bearer = presented !== null;
    const params = (cookieMode || bearer) && request.body === undefined ? {} : jsonBody(request);
    // Optional: what lets a public client end a session bound to a DPoP key by its refresh token.
    const sessionProof = async () =>
      (
        await verifyDpopProof(ctx, {
          header: dpopHeaderValues(request.raw.rawHeaders),
          htm: request.method,
          htu: `${ctx.config.issuer}${ENDPOINTS.logout}`,
        })
      )?.jkt;
    if (cookieMode && params.refresh_token === undefined) {
      checkCsrf(request, cookie);
      const refreshToken = request.cookies[cookie.name];
      if (refreshToken !== undefined) {
        const dpopJkt = await sessionProof();
        await logOut(ctx, { refreshToken, credentials: credentials(request, params), dpopJkt });
      }
      // Cleared only once the session is ended: a 503 above leaves the cookie for a retry.
      clearRefreshCookie(reply, cookie);
      return reply.code(204).send();
    }
    if (params.refresh_token !== undefined) {
      const dpopJkt = await sessionProof();
      await logOut(ctx, {
        refreshToken: params.refresh_token,
        credentials: credentials(request, params),
        dpopJkt,
      });
      return reply.code(204).send();
    }
    const accessToken = presented?.[2];
    if (accessToken === undefined)
      throw new TesseraError('invalid_request', 'Send the refresh_token, or the access token as Bearer');
    let dpopJkt: string | undefined;
    if (presented?.[1] === 'DPoP') {
      const proof = await verifyDpopProof(ctx, {
        header: dpopHeaderValues(request.raw.rawHeaders),
        htm: request.method,
        htu: `${ctx.config.issuer}${ENDPOINTS.logout}`,
        accessToken,
      });
      if (proof === undefined)
        throw new TesseraError('invalid_dpop_proof', 'Authorization: DPoP needs a DPoP proof');
      dpopJkt = proof.jkt;
    }
    await logOut(ctx, { accessToken, dpopJkt });
    return reply.code(204).send();
  });
}

function jsonBody(request: FastifyRequest): Params {
  return bodyOfType(request, 'application/json');
}
