import { TesseraError } from '@tessera/protocol';
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { LIMITS } from '../config/limits.js';
import type { TesseraContext } from '../domain/context.js';
import type { Params } from './parse-body.js';
import { refreshCookieFor } from './refresh-cookie.js';
import { type RefreshRoute, refreshLimitExemption } from './refresh-limit-exemption.js';

/** The per-IP request limits, as `preHandler` hooks of the routes they guard. */
export interface RateLimits {
  /** `POST /api/auth/login`: the login limit. */
  login: preHandlerAsyncHookHandler;
  /** `POST /api/auth/refresh`: the refresh limit, with its exemption. */
  refresh: preHandlerAsyncHookHandler;
  /**
   * `POST /oauth/token`: the password grant counts against the login limit (it checks a
   * password like a login does); every other grant against the refresh limit, with its exemption.
   */
  token: preHandlerAsyncHookHandler;
}

/**
 * Per-IP limits per minute (`TESSERA_RATE_LIMIT_LOGIN`, `TESSERA_RATE_LIMIT_REFRESH`; 0 turns
 * one off), answered `rate_limited` with `Retry-After`. They run after body parsing, so the
 * token endpoint can tell its grants apart and the refresh exemption
 * (`refresh-limit-exemption.ts`) can see the token. Every request counts, refused ones too; the
 * counters live in `ctx.rateLimits`, shared by instances that share that store.
 */
export function rateLimits(ctx: TesseraContext): RateLimits {
  const exemption = refreshLimitExemption(ctx, refreshCookieFor(ctx.config.issuer).name);
  const charge = async (limit: 'login' | 'refresh', request: FastifyRequest) => {
    const max = limit === 'login' ? ctx.config.rateLimitLogin : ctx.config.rateLimitRefresh;
    if (max === 0) return;
    const now = ctx.clock.now();
    const { count, resetAt } = await ctx.rateLimits.hit(
      `${limit}:ip:${request.ip}`,
      LIMITS.rateLimitWindowMs,
      now,
    );
    if (count > max) throw rateLimited(resetAt - now);
  };
  const chargeRefresh = async (request: FastifyRequest, route: RefreshRoute) => {
    if (ctx.config.rateLimitRefresh === 0 || exemption.isExempt(request, route)) return;
    // Claimed before the count is awaited, so the other tabs' requests for this token are
    // exempt from now on, not only once the rotation starts.
    const undo = exemption.claim(request, route);
    try {
      await charge('refresh', request);
    } catch (err) {
      undo?.();
      throw err;
    }
  };
  return {
    login: async (request) => charge('login', request),
    refresh: async (request) => chargeRefresh(request, 'first-party'),
    token: async (request) => {
      if ((request.body as Params | undefined)?.grant_type === 'password') return charge('login', request);
      await chargeRefresh(request, 'token');
    },
  };
}

/** `rate_limited` (429) with `Retry-After` in whole seconds, at least 1. */
export function rateLimited(waitMs: number, description?: string): TesseraError {
  return new TesseraError('rate_limited', description, { retryAfter: Math.max(1, Math.ceil(waitMs / 1000)) });
}
