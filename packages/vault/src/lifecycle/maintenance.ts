import { DEFAULTS } from '../defaults.js';
import { sameIssuer, type VaultContext } from '../vault-context.js';
import { refreshFlow } from './single-flight-refresh.js';
import { readSet } from './stored-sets.js';

/** The vault's background work: keep-alive refreshes of idle connections, and cleanup. */

/** Refreshes connections idle longer than `idleMs` (at most 100 per call). */
export async function keepAlive(
  ctx: VaultContext,
  idleMs = ctx.options.keepAlive?.idleMs,
): Promise<{ refreshed: number; failed: number }> {
  if (idleMs === undefined) throw new TypeError('keepAlive: give idleMs (or the keepAlive option)');
  const { clock } = ctx;
  let refreshed = 0;
  let failed = 0;
  const rows = await ctx.store.idle(clock.now() - idleMs, 100);
  for (const row of rows) {
    if (!sameIssuer(row.issuer, ctx.issuer) || !row.sealed || row.sealed.refresh_token === null) continue;
    if (row.state === 'refresh_backoff' && row.retryAt !== null && clock.now() < row.retryAt) continue;
    try {
      const set = await readSet(ctx, row, row.userId, row.connection);
      await refreshFlow(ctx, row.userId, row.connection, set.accessToken, true);
      refreshed++;
    } catch {
      failed++;
    }
  }
  return { refreshed, failed };
}

/** A job run every `ms` on the injected timer until the returned function stops it. */
function repeat(ctx: VaultContext, ms: number, job: () => Promise<unknown>, what: string): () => void {
  let cancel: (() => void) | undefined;
  const tick = () => {
    job()
      .catch((err: unknown) => ctx.log?.error({ error: (err as Error).message }, `vault ${what} failed`))
      .finally(() => {
        if (cancel) cancel = ctx.setTimer(tick, ms);
      });
  };
  cancel = ctx.setTimer(tick, ms);
  return () => {
    cancel?.();
    cancel = undefined;
  };
}

/** Starts the keep-alive and cleanup timers the options ask for; returns what stops them. */
export function startMaintenance(ctx: VaultContext): () => void {
  const stops: (() => void)[] = [];
  const ka = ctx.options.keepAlive;
  if (ka) {
    const interval = ka.intervalMs ?? Math.max(60_000, ka.idleMs / 10);
    stops.push(repeat(ctx, interval, () => keepAlive(ctx), 'keep-alive'));
  }
  const cleanupEvery = ctx.options.cleanupIntervalMs ?? DEFAULTS.cleanupIntervalMs;
  if (cleanupEvery > 0) {
    stops.push(repeat(ctx, cleanupEvery, () => ctx.store.purge(ctx.clock.now()), 'cleanup'));
  }
  return () => {
    for (const stop of stops) stop();
  };
}
