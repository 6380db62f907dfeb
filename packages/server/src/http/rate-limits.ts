import { TesseraError } from '@tessera/protocol';
import type { FastifyRequest } from 'fastify';
import { LIMITS } from '../config/limits.js';
import type { TesseraContext } from '../domain/context.js';
import { refreshCookieFor } from './refresh-cookie.js';
import { refreshLimitExemption } from './refresh-limit-exemption.js';

/** Route-level options for @fastify/rate-limit, or `false` when a limit is off. */
export interface RateLimits {
  login: false | Record<string, unknown>;
  refresh: false | Record<string, unknown>;
}

/**
 * Per-IP limits per minute (`TESSERA_RATE_LIMIT_LOGIN`, `TESSERA_RATE_LIMIT_REFRESH`; 0 turns
 * one off), answered `rate_limited` with `Retry-After`. The refresh limit runs after body
 * parsing, with the exemption of `refresh-limit-exemption.ts`.
 */
export function rateLimits(ctx: TesseraContext): RateLimits {
  const errorResponseBuilder = (_req: FastifyRequest, context: { ttl: number }) =>
    new TesseraError('rate_limited', undefined, { retryAfter: Math.ceil(context.ttl / 1000) });
  const base = { timeWindow: LIMITS.rateLimitWindowMs, errorResponseBuilder, hook: 'preHandler' as const };
  return {
    login: ctx.config.rateLimitLogin === 0 ? false : { ...base, max: ctx.config.rateLimitLogin },
    refresh:
      ctx.config.rateLimitRefresh === 0
        ? false
        : {
            ...base,
            max: ctx.config.rateLimitRefresh,
            allowList: refreshLimitExemption(ctx, refreshCookieFor(ctx.config.issuer).name),
          },
  };
}
