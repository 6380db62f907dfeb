import { hashToken } from '../crypto/refresh-token.js';
import type { TesseraContext } from './context.js';

/**
 * True while this refresh token is being rotated, or was rotated within its grace period, by
 * `clientId` (by a public client when `undefined`: the first-party refresh names none). Such a
 * request is coalesced or answered from the grace box, so the refresh rate limit does not count
 * it; the same token presented by another client is counted.
 */
export function isRecentRefresh(
  ctx: TesseraContext<never>,
  refreshToken: string,
  clientId: string | undefined,
): boolean {
  return ctx.recentRefreshes.has(hashToken(ctx.keys, refreshToken), clientId, ctx.clock.now());
}
