import { LIMITS } from '../config/limits.js';
import type { CleanupResult } from '../ports/index.js';
import type { TesseraContext } from './context.js';

/** What a cleanup run did: the sweep's counts, and what retention deleted. */
export interface CleanupReport extends CleanupResult {
  /** Lifecycle events older than `eventRetention`. */
  eventsDeleted: number;
  /** Per-minute dashboard counter rows older than `eventRetention`. */
  countersDeleted: number;
}

/**
 * Deletes what has expired: lapsed families are marked expired, expired token rows deleted, grace
 * responses erased after the longest grace period, and families deleted only at their absolute
 * expiry, so until then their row is the tombstone that catches replays.
 */
export async function cleanup(
  ctx: TesseraContext<'cleanup' | 'directory' | 'events' | 'counters'>,
): Promise<CleanupReport> {
  const now = ctx.clock.now();
  const clients = await ctx.stores.directory.listClients();
  const longestGrace = Math.max(
    ctx.config.refreshGracePeriod,
    ...clients.map((c) => c.refreshGracePeriod ?? 0),
  );
  const swept = await ctx.stores.cleanup.sweep({ now, graceHorizon: now - longestGrace * 1000 });
  const result: CleanupReport = { ...swept, ...(await applyRetention(ctx, now)) };
  ctx.log.info({ ...result }, 'cleanup finished');
  return result;
}

/**
 * Deletes events and counters older than `eventRetention`, in batches of
 * `LIMITS.eventPruneBatch` (each its own short transaction), at most `LIMITS.eventPruneBatchesMax`
 * per run: a backlog is worked off over the next runs instead of holding the store.
 */
async function applyRetention(
  ctx: TesseraContext<'events' | 'counters'>,
  now: number,
): Promise<Pick<CleanupReport, 'eventsDeleted' | 'countersDeleted'>> {
  if (ctx.config.eventRetention <= 0) return { eventsDeleted: 0, countersDeleted: 0 };
  const before = now - ctx.config.eventRetention * 1000;
  let eventsDeleted = 0;
  for (let i = 0; i < LIMITS.eventPruneBatchesMax; i++) {
    const n = await ctx.stores.events.pruneEvents({ before, limit: LIMITS.eventPruneBatch });
    eventsDeleted += n;
    if (n === 0) break;
  }
  const countersDeleted = await ctx.stores.counters.pruneCounts(before);
  return { eventsDeleted, countersDeleted };
}
