import { TesseraError } from '@tessera/protocol';
import type { FastifyRequest } from 'fastify';
import { LIMITS } from '../config/limits.js';
import type { TesseraContext } from '../domain/context.js';
import { isRecentRefresh } from '../domain/rotate-refresh-token.js';
import { refreshCookieFor } from './refresh-cookie.js';

/** Route-level options for @fastify/rate-limit, or `false` when a limit is off. */
export interface RateLimits {
  login: false | Record<string, unknown>;
  refresh: false | Record<string, unknown>;
}

/**
 * Per-IP limits per minute (SPEC §2). The refresh limit runs after body parsing and does not
 * count requests that present a token being rotated or inside its grace period, so a burst of
 * tabs refreshing one token together is never refused.
 */
export function rateLimits(ctx: TesseraContext): RateLimits {
  const errorResponseBuilder = (_req: FastifyRequest, context: { ttl: number }) =>
    new TesseraError('rate_limited', undefined, { retryAfter: Math.ceil(context.ttl / 1000) });
  const cookieName = refreshCookieFor(ctx.config.issuer).name;
  const base = { timeWindow: LIMITS.rateLimitWindowMs, errorResponseBuilder, hook: 'preHandler' as const };
  return {
    login: ctx.config.rateLimitLogin === 0 ? false : { ...base, max: ctx.config.rateLimitLogin },
    refresh:
      ctx.config.rateLimitRefresh === 0
        ? false
        : {
            ...base,
            max: ctx.config.rateLimitRefresh,
            allowList: (request: FastifyRequest) => {
              const token =
                (request.body as Record<string, string> | undefined)?.refresh_token ??
                request.cookies?.[cookieName];
              return typeof token === 'string' && isRecentRefresh(ctx, token);
            },
          },
  };
}
