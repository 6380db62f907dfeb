import type { CleanupResult } from '../ports/index.js';
import type { TesseraContext } from './context.js';

/**
 * Deletes what has expired: lapsed families are marked expired, expired token rows deleted, grace
 * responses erased after the longest grace period, and families deleted only at their absolute
 * expiry, so until then their row is the tombstone that catches replays.
 */
export async function cleanup(ctx: TesseraContext<'cleanup' | 'directory'>): Promise<CleanupResult> {
  const now = ctx.clock.now();
  const clients = await ctx.stores.directory.listClients();
  const longestGrace = Math.max(
    ctx.config.refreshGracePeriod,
    ...clients.map((c) => c.refreshGracePeriod ?? 0),
  );
  const result = await ctx.stores.cleanup.sweep({ now, graceHorizon: now - longestGrace * 1000 });
  ctx.log.info({ ...result }, 'cleanup finished');
  return result;
}
