import type { Clock, LifecycleEvent, TokenResponse } from '@tessera/protocol';
import type { Logger } from 'pino';
import { LIMITS } from '../config/limits.js';
import type { TesseraConfig } from '../config/load-config.js';
import type { ServerKeys } from '../crypto/secrets.js';
import type { DpopNonces } from '../dpop/dpop-nonces.js';
import type { KeyRing } from '../keys/key-ring.js';
import type { Metrics } from '../observability/metrics.js';
import type { MinuteCounters } from '../observability/minute-counters.js';
import type { ClientRecord, RateLimitStore, RevocationSignal, Stores } from '../ports/index.js';
import type { TokenFormat } from '../tokens/token-format.js';
import type { RecentRefreshes } from './recent-refreshes.js';
import type { SetTimer, SingleFlight } from './single-flight.js';

/** The name of one port in `Stores` (`sessions`, `directory`, ...). */
export type StoreName = keyof Stores;

/**
 * Everything a domain operation needs; built once by `createTessera`. `P` names the ports an
 * operation reaches: `TesseraContext<'sessions' | 'events'>` is a context whose `stores` holds only
 * those two, and `TesseraContext<never>` one that reaches no store, so an operation's signature says
 * what it reads and writes. The full context, with every port, fits wherever a narrower one is
 * asked for.
 */
export interface TesseraContext<P extends StoreName = StoreName> {
  config: Readonly<TesseraConfig>;
  stores: Pick<Stores, P>;
  keys: ServerKeys;
  keyRing: KeyRing;
  /** Every signing-key ring by name (`jwt`, `paseto`): the dashboard lists and rotates them. */
  keyRings: ReadonlyMap<string, KeyRing>;
  formats: ReadonlyMap<string, TokenFormat>;
  /** The format new access tokens are issued in. */
  defaultFormat: TokenFormat;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  refreshFlights: SingleFlight<TokenResponse>;
  recentRefreshes: RecentRefreshes;
  /** Derives and checks server DPoP nonces (no state: an HMAC of the time step). */
  dpopNonces: DpopNonces;
  /** Counters of the rate limits and lockouts (in memory unless a shared store is given). */
  rateLimits: RateLimitStore;
  /** Wakes the revocation feed when a notice is written, here or (shared) on another instance. */
  revocationSignal: RevocationSignal;
  /** Wakes the dashboard's live event tail when events are recorded, here or (shared) on another instance. */
  eventSignal: RevocationSignal;
  /** The dashboard's per-minute counters, counted as events are recorded and flushed to the store. */
  counters: MinuteCounters;
  /** One-shot timers (virtual in tests, like the clock). */
  setTimer: SetTimer;
}

/** A client's effective lifetimes in milliseconds: its own settings, else the server's. */
export interface ClientPolicy {
  accessTokenTtlMs: number;
  graceMs: number;
  idleMs: number;
  absoluteMs: number;
}

/** The policy of `client`; an operation computes it once per request and hands it down. */
export function clientPolicy(config: Readonly<TesseraConfig>, client: ClientRecord): ClientPolicy {
  return {
    accessTokenTtlMs: (client.accessTokenTtl ?? config.accessTokenTtl) * 1000,
    graceMs: (client.refreshGracePeriod ?? config.refreshGracePeriod) * 1000,
    idleMs: (client.refreshIdleTtl ?? config.refreshIdleTtl) * 1000,
    absoluteMs: (client.refreshAbsoluteTtl ?? config.refreshAbsoluteTtl) * 1000,
  };
}

/** Appends lifecycle events; a failure to record is logged, never turned into a failed request. */
export async function recordEvents(
  ctx: TesseraContext<'events'>,
  events: Omit<LifecycleEvent, 'id'>[],
): Promise<void> {
  try {
    await ctx.stores.events.append(events);
  } catch (err) {
    ctx.log.error({ err, types: events.map((e) => e.type) }, 'failed to record lifecycle events');
  }
}

/** Extra time a revocation notice outlives the last access token it concerns, for clock skew. */
export const LEEWAY_MS = LIMITS.revocationNoticeLeewayMs;
