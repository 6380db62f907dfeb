import { decodeBasicCredentials } from '@tessera/protocol';
import type { FastifyRequest } from 'fastify';
import { claimRecentRefresh } from '../domain/claim-recent-refresh.js';
import type { TesseraContext } from '../domain/context.js';
import { isRecentRefresh } from '../domain/is-recent-refresh.js';
import type { Params } from './parse-body.js';

/** Where a refresh arrives: the token endpoint's grant, or the first-party JSON/cookie route. */
export type RefreshRoute = 'token' | 'first-party';

/** The refresh rate limit's exemption, and the claim that makes it hold from the first request on. */
export interface RefreshLimitExemption {
  /** True when the request is exempt from the refresh limit. */
  isExempt(request: FastifyRequest, route: RefreshRoute): boolean;
  /**
   * For a refresh that is about to be counted: marks it as starting (`claimRecentRefresh`), so
   * concurrent refreshes of the same token by the same client are exempt while it is counted.
   * Returns the undo, for when the limit refuses it.
   */
  claim(request: FastifyRequest, route: RefreshRoute): (() => void) | undefined;
}

/**
 * The refresh rate limit's exemption. A refresh of a token that is being rotated right now, or
 * was rotated within its grace period, is coalesced or answered from the grace box, so it costs
 * little and is never counted (many tabs refreshing one token at once is normal). It holds only
 * for what it is for: a `refresh_token` grant (or the first-party refresh) that presents that
 * token, by the client that refreshed it. Any other request — another grant, another client, a
 * token merely carried along — is counted. Runs after body parsing.
 */
export function refreshLimitExemption(ctx: TesseraContext, cookieName: string): RefreshLimitExemption {
  /** The token and the named client of a refresh, or `undefined` when the request is no refresh. */
  const refreshOf = (request: FastifyRequest, route: RefreshRoute) => {
    const params = request.body as Params | undefined;
    const clientId = namedClient(request, params);
    if (route === 'token') {
      const token = params?.grant_type === 'refresh_token' ? params.refresh_token : undefined;
      // The token endpoint always names its client; one that names none is refused anyway.
      return token === undefined || clientId === undefined ? undefined : { token, clientId };
    }
    // As the route reads it: the body's token, else the cookie's. Naming no client is the
    // session's own public client.
    const token = params?.refresh_token ?? request.cookies?.[cookieName];
    return token === undefined ? undefined : { token, clientId };
  };
  return {
    isExempt(request, route) {
      const refresh = refreshOf(request, route);
      return refresh !== undefined && isRecentRefresh(ctx, refresh.token, refresh.clientId);
    },
    claim(request, route) {
      const refresh = refreshOf(request, route);
      return refresh && claimRecentRefresh(ctx, refresh.token, refresh.clientId);
    },
  };
}

/**
 * The client a request names (`client_id`, or the Basic user), unauthenticated: the exemption
 * only needs to know whose refresh this claims to be; the route authenticates it. Two names
 * that disagree name nobody.
 */
function namedClient(request: FastifyRequest, params: Params | undefined): string | undefined {
  const authorization = request.headers.authorization;
  const basic = authorization?.startsWith('Basic ') ? decodeBasicCredentials(authorization)?.id : undefined;
  const bodyId = params?.client_id;
  if (basic !== undefined && bodyId !== undefined && basic !== bodyId) return undefined;
  return basic ?? bodyId;
}
