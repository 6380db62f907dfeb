import type { FastifyRequest } from 'fastify';
import type { TesseraContext } from '../domain/context.js';
import { isRecentRefresh } from '../domain/is-recent-refresh.js';

/**
 * The refresh rate limit's exemption: a request that presents a refresh token being rotated
 * right now, or rotated within its grace period, is coalesced or answered from the grace box,
 * so it costs little and is never counted (many tabs refreshing one token at once is normal).
 * Runs after body parsing, so it sees the token in the body or in the refresh cookie.
 */
export function refreshLimitExemption(
  ctx: TesseraContext,
  cookieName: string,
): (request: FastifyRequest) => boolean {
  return (request) => {
    const token =
      (request.body as Record<string, string> | undefined)?.refresh_token ?? request.cookies?.[cookieName];
    return typeof token === 'string' && isRecentRefresh(ctx, token);
  };
}
