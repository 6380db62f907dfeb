import { createHash } from 'node:crypto';
import type * as oidc from 'openid-client';
import { delay } from '../clock.js';
import { sealTokenSet } from '../crypto/seal-token-set.js';
import { DEFAULTS } from '../defaults.js';
import { ReauthenticationRequired, RefreshDeferred, UpstreamUnavailable } from '../errors.js';
import type { ConnectionRow } from '../store/vault-store.js';
import type { Upstream } from '../upstream/upstream.js';
import { classifyUpstreamError, type UpstreamFailure } from '../upstream/upstream-failure.js';
import { checkIds, parseError, stateChanged, toUpstreamError, type VaultContext } from '../vault-context.js';
import { readSet, tombstone } from './stored-sets.js';
import { backoffMs, purgeAt, refreshLeadMs, type TokenSet, toTokenSet, usableUntil } from './token-set.js';

/**
 * Refresh, once per connection: callers in one process share one flight; across processes a
 * lease row with a fencing version decides who asks the upstream, and the new set is written
 * only by a compare-and-swap on that version.
 */

/** A stable number in [0, 1) per set, so every instance agrees on when a set is due. */
function stableRandom(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0) / 2 ** 32;
}

const refreshAt = (userId: string, connection: string, set: TokenSet) =>
  set.expiresAt - refreshLeadMs(set, stableRandom(`${userId}\0${connection}\0${set.receivedAt}`));

/**
 * The connection's set, refreshed first if it is due (or, with `stale`, if its access token is
 * still that one: the upstream API refused it). Callers in this process share one refresh.
 */
export async function ensureFresh(
  ctx: VaultContext,
  userId: string,
  connection: string,
  stale?: string,
): Promise<TokenSet> {
  checkIds(userId, connection);
  const row = await ctx.store.get(userId, connection);
  const set = await readSet(ctx, row, userId, connection);
  const now = ctx.clock.now();
  if (stale === undefined ? now < refreshAt(userId, connection, set) : set.accessToken !== stale) return set;
  const key = `${userId}\0${connection}`;
  const running = ctx.flights.get(key);
  if (running) {
    ctx.metrics.coalesced.inc();
    return running;
  }
  const flight = refreshFlow(ctx, userId, connection, stale).finally(() => ctx.flights.delete(key));
  ctx.flights.set(key, flight);
  return flight;
}

/**
 * The refresh loop: take the lease (a compare-and-swap that bumps the fencing version),
 * refresh, and write the new set only if the version is still the lease's. Waits (bounded)
 * while another instance holds a live lease, unless the current token is still usable.
 */
export async function refreshFlow(
  ctx: VaultContext,
  userId: string,
  connection: string,
  stale?: string,
  keepAlive = false,
): Promise<TokenSet> {
  const { clock, store, metrics, leaseMs } = ctx;
  const started = clock.now();
  const waitLimit = leaseMs + ctx.requestTimeoutMs;
  // The clock bounds the wait; the count bounds it too when the clock does not move (virtual time).
  const maxPolls = Math.ceil((2 * waitLimit) / DEFAULTS.pollMaxMs) + 20;
  let poll: number = DEFAULTS.pollMinMs;
  let polls = 0;
  let waited = false;
  for (;;) {
    const row = await store.get(userId, connection);
    const set = await readSet(ctx, row, userId, connection);
    // readSet refuses a missing row; the check narrows the type.
    if (!row) throw new ReauthenticationRequired(userId, connection, { error: 'no_tokens' });
    const current = row;
    const now = clock.now();
    const usable = stale === undefined && now < usableUntil(set);
    const due = stale === undefined ? !(now < refreshAt(userId, connection, set)) : set.accessToken === stale;
    if (!due) return set;
    if (current.state === 'refresh_backoff' && current.retryAt !== null && now < current.retryAt) {
      if (usable) return set;
      throw new RefreshDeferred(
        userId,
        connection,
        current.retryAt,
        parseError(current.lastError)?.error ?? 'backoff',
      );
    }
    if (!set.refreshToken) {
      if (usable) return set;
      await tombstone(ctx, current, 'needs_reauthorization', {
        error: 'no_refresh_token',
        error_description: 'The access token expired and the upstream issued no refresh token',
      });
      throw new ReauthenticationRequired(userId, connection, { error: 'no_refresh_token' });
    }
    const leaseUntil = current.leaseUntil;
    const leased = current.leaseOwner !== null && leaseUntil !== null && leaseUntil > now;
    if (leased) {
      if (usable || keepAlive) return set;
      if (clock.now() - started > waitLimit || polls >= maxPolls) {
        throw new RefreshDeferred(userId, connection, leaseUntil, 'another instance is still refreshing');
      }
      if (!waited) metrics.leaseWaits.inc();
      waited = true;
      polls++;
      await delay(ctx.setTimer, poll);
      poll = Math.min(DEFAULTS.pollMaxMs, poll * 2);
      continue;
    }
    // No lease is taken while the upstream is not discovered: nothing could be done with it.
    let upstream: Upstream;
    try {
      upstream = await ctx.discovery.get();
    } catch (err) {
      if (!(err instanceof UpstreamUnavailable)) throw err;
      if (usable) return set;
      throw new RefreshDeferred(
        userId,
        connection,
        err.retryAt,
        `upstream discovery failed (${err.reason})`,
        {
          cause: err,
        },
      );
    }
    const fence = await store.update(
      userId,
      connection,
      current.version,
      { leaseOwner: ctx.owner, leaseUntil: clock.now() + leaseMs },
      true,
    );
    if (fence === undefined) continue; // another instance moved first: read again
    if (current.leaseOwner !== null) metrics.leaseTakeovers.inc();
    let result: TokenSet | undefined;
    try {
      result = await holdLease(ctx, upstream, current, fence, set, keepAlive);
    } catch (err) {
      // The vault's own answers have cleared the lease already; anything else (a store write
      // that failed) leaves it behind, and every other caller would wait for it to expire.
      if (!(err instanceof ReauthenticationRequired || err instanceof RefreshDeferred)) {
        await releaseLease(ctx, current, fence, err);
      }
      throw err;
    }
    if (result) return result;
    // Fenced out or a newer set appeared: read again.
  }
}

/**
 * Gives a lease back after its holder failed (fenced: only if the version is still the
 * lease's, so a write that did land, or a takeover, is never undone). Best effort: if the
 * store is down the lease simply expires.
 */
async function releaseLease(ctx: VaultContext, row: ConnectionRow, fence: number, cause: unknown) {
  const { userId, connection } = row;
  ctx.metrics.refreshes.inc({ result: 'store_error' });
  const error = (cause as { code?: unknown }).code ?? (cause as Error).name;
  try {
    const released = await ctx.store.update(
      userId,
      connection,
      fence,
      { leaseOwner: null, leaseUntil: null },
      true,
    );
    ctx.log?.error(
      { userId, connection, error, released: released !== undefined },
      'vault refresh failed to store its result; the lease was given back',
    );
  } catch {
    ctx.log?.error(
      { userId, connection, error },
      'vault refresh failed to store its result, and the lease could not be given back: it expires on its own',
    );
  }
}

/** Runs one refresh under the lease `fence`. Returns the new set, or `undefined` to read the row again. */
async function holdLease(
  ctx: VaultContext,
  upstream: Upstream,
  row: ConnectionRow,
  fence: number,
  set: TokenSet,
  keepAlive: boolean,
): Promise<TokenSet | undefined> {
  const { store, metrics, log, emitter, clock, keys } = ctx;
  const { userId, connection } = row;
  const timer = metrics.refreshDuration.startTimer();
  let tokens: oidc.TokenEndpointResponse | undefined;
  let failure: UpstreamFailure | undefined;
  const refreshToken = set.refreshToken;
  if (!refreshToken) throw new ReauthenticationRequired(userId, connection, { error: 'no_refresh_token' });
  try {
    tokens = await upstream.refresh(refreshToken);
  } catch (err) {
    failure = classifyUpstreamError(err, clock.now());
    if (failure.kind === 'network') {
      // The answer may be lost after the upstream rotated: the same refresh token again is
      // safe on an upstream with a grace period, and no worse than giving up on one without.
      metrics.lostResponseRetries.inc();
      try {
        tokens = await upstream.refresh(refreshToken);
        failure = undefined;
      } catch (again) {
        failure = classifyUpstreamError(again, clock.now());
      }
    }
  }
  const now = clock.now();
  let next: TokenSet | undefined;
  if (tokens) {
    try {
      next = toTokenSet(tokens, now, set);
      if (next.tokenType === 'DPoP') {
        // Cannot happen without a proof the vault never sends; kept out of the store all the same.
        next = undefined;
        failure = { kind: 'rejected', error: 'unsupported_token_type', description: 'DPoP-bound token' };
      }
    } catch (err) {
      failure = { kind: 'rejected', error: 'invalid_response', description: (err as Error).message };
    }
  }
  if (next) {
    const done = await store.update(
      userId,
      connection,
      fence,
      {
        sealed: sealTokenSet(keys, userId, connection, next),
        keyId: keys.current,
        state: 'active',
        leaseOwner: null,
        leaseUntil: null,
        failures: 0,
        retryAt: null,
        lastError: null,
        refreshedAt: now,
        updatedAt: now,
        purgeAt: purgeAt(next),
      },
      true,
    );
    timer();
    if (done === undefined) {
      // A holder that stalled past its lease: someone wrote after us, and ours must not overwrite it.
      metrics.refreshes.inc({ result: 'fenced' });
      log?.warn(
        { userId, connection },
        'vault refresh finished after its lease was taken over; its result was discarded',
      );
      return undefined;
    }
    metrics.refreshes.inc({ result: 'refreshed' });
    stateChanged(ctx, row, row.state, 'active');
    emitter.emit('refreshed', {
      userId,
      connection,
      expiresAt: next.expiresAt,
      rotated: next.refreshToken !== set.refreshToken,
      keepAlive,
    });
    return next;
  }
  timer();
  const f: UpstreamFailure = failure ?? {
    kind: 'rejected',
    error: 'invalid_response',
    description: 'The upstream answered without tokens',
  };
  if (f.kind === 'invalid_grant') {
    // Race recovery: if anything was written since our lease (another instance rotated, a new
    // sign-in), that set wins and the user stays signed in.
    const latest = await store.get(userId, connection);
    if (latest && latest.version !== fence) return undefined;
    const error = toUpstreamError(f);
    if (!(await tombstone(ctx, { ...row, version: fence }, 'needs_reauthorization', error))) return undefined;
    metrics.refreshes.inc({ result: 'invalid_grant' });
    metrics.reauthenticationRequired.inc();
    log?.info(
      { userId, connection, error: f.error },
      'upstream refused the refresh token: the user must sign in again',
    );
    emitter.emit('reauthenticationRequired', { userId, connection, error });
    throw new ReauthenticationRequired(userId, connection, error);
  }
  const failures = row.failures + 1;
  const retryAt = now + backoffMs(failures, ctx.random(), 'retryAfterS' in f ? f.retryAfterS : undefined);
  const done = await store.update(
    userId,
    connection,
    fence,
    {
      state: 'refresh_backoff',
      failures,
      retryAt,
      lastError: JSON.stringify(toUpstreamError(f)),
      leaseOwner: null,
      leaseUntil: null,
      updatedAt: now,
    },
    true,
  );
  if (done === undefined) return undefined;
  metrics.refreshes.inc({ result: f.kind === 'rejected' ? 'rejected' : 'deferred' });
  log?.warn(
    { userId, connection, kind: f.kind, error: f.error, failures, retryAt },
    'vault refresh failed; the set is kept',
  );
  stateChanged(ctx, row, row.state, 'refresh_backoff');
  emitter.emit('refreshFailed', { userId, connection, kind: f.kind, reason: f.error, retryAt, failures });
  if (clock.now() < usableUntil(set) && !keepAlive) return set;
  throw new RefreshDeferred(userId, connection, retryAt, f.error);
}
