import { hashToken, parseRefreshToken } from '../crypto/refresh-token.js';
import type { TesseraContext } from './context.js';

/**
 * Marks a refresh as starting before it is counted against the refresh limit, so that requests
 * of other tabs presenting the same token by the same client are exempt at once, however long
 * the count takes (a shared rate-limit store answers over the network), rather than only once
 * the rotation has begun. Only for a token this server issued (its tag verifies): a made-up
 * string claims nothing. The mark lasts as long as a coalesced refresh may wait; the rotation
 * itself marks it again or forgets it.
 *
 * @param clientId the client the request names; `undefined` at the first-party refresh, which
 *   names none for the session's own public client.
 * @returns the undo, for a request the limit then refuses; `undefined` when nothing was marked.
 */
export function claimRecentRefresh(
  ctx: TesseraContext,
  refreshToken: string,
  clientId: string | undefined,
): (() => void) | undefined {
  if (parseRefreshToken(ctx.keys, refreshToken) === undefined) return undefined;
  const hash = hashToken(ctx.keys, refreshToken);
  // Unnamed is the session's own public client; a named one counts as itself only.
  const client = clientId === undefined ? { id: '', public: true } : { id: clientId, public: false };
  const now = ctx.clock.now();
  ctx.recentRefreshes.mark(hash, client, now + ctx.config.coalesceTimeout * 1000, now);
  return () => ctx.recentRefreshes.forget(hash, client.id);
}
