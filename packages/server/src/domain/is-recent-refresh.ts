import { hashToken } from '../crypto/refresh-token.js';
import type { TesseraContext } from './context.js';

/**
 * True while this refresh token is being rotated or was rotated within its grace period. Such a
 * request is coalesced or answered from the grace box, so the refresh rate limit does not count it.
 */
export function isRecentRefresh(ctx: TesseraContext<never>, refreshToken: string): boolean {
  return ctx.recentRefreshes.has(hashToken(ctx.keys, refreshToken), ctx.clock.now());
}
