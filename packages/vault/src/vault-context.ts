import type { Clock, SetTimer } from './clock.js';
import type { VaultKeys } from './crypto/vault-keys.js';
import type { UpstreamError } from './errors.js';
import type { VaultEmitter } from './events.js';
import type { TokenSet } from './lifecycle/token-set.js';
import type { VaultMetrics } from './metrics.js';
import type { ConnectionState, VaultStore } from './store/vault-store.js';
import type { ConnectionOptions, TokenVaultOptions, VaultLogger } from './token-vault.js';
import type { UpstreamDiscovery } from './upstream/upstream-discovery.js';
import type { UpstreamFailure } from './upstream/upstream-failure.js';

/**
 * What every part of one vault shares: its options, keys, store, upstream, clock, events and
 * metrics. Built once by `createTokenVault`; the parts (refresh, sign-in, fetch, maintenance)
 * are functions of it.
 */
export interface VaultContext {
  readonly options: TokenVaultOptions;
  readonly keys: VaultKeys;
  readonly store: VaultStore;
  /** The upstream, discovered at start or, if it was down then, as soon as it answers. */
  readonly discovery: UpstreamDiscovery;
  /** The upstream's issuer identifier, as stored beside every connection. */
  readonly issuer: string;
  readonly clock: Clock;
  readonly setTimer: SetTimer;
  readonly random: () => number;
  readonly leaseMs: number;
  readonly requestTimeoutMs: number;
  /** This instance's name in lease rows (host, pid, a random part). */
  readonly owner: string;
  readonly emitter: VaultEmitter;
  readonly metrics: VaultMetrics;
  readonly log: VaultLogger | undefined;
  readonly lazyRekey: boolean;
  /** Refreshes running in this process, by connection: callers share one. */
  readonly flights: Map<string, Promise<TokenSet>>;
  readonly defaultConnection: string;
}

/** The connection a call names, or the vault's default. */
export function connectionOf(ctx: VaultContext, o?: ConnectionOptions): string {
  return o?.connection ?? ctx.defaultConnection;
}

/** Refuses ids the store cannot key by (before any query). */
export function checkIds(userId: string, connection: string): void {
  if (typeof userId !== 'string' || userId === '' || userId.length > 512) {
    throw new TypeError('userId must be a non-empty string of at most 512 characters');
  }
  if (typeof connection !== 'string' || connection === '' || connection.length > 128) {
    throw new TypeError('connection must be a non-empty string of at most 128 characters');
  }
}

/** Announces a state change (and nothing when the state stays). */
export function stateChanged(
  ctx: VaultContext,
  row: { userId: string; connection: string },
  from: ConnectionState | 'none',
  to: ConnectionState,
): void {
  if (from !== to)
    ctx.emitter.emit('stateChanged', { userId: row.userId, connection: row.connection, from, to });
}

/** Whether two issuer identifiers name the same upstream (`https://idp` and `https://idp/` do). */
export function sameIssuer(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return false;
  }
}

/** The stored `lastError` JSON back as an `UpstreamError`. */
export function parseError(text: string | null): UpstreamError | null {
  if (!text) return null;
  try {
    return JSON.parse(text) as UpstreamError;
  } catch {
    return { error: 'unknown' };
  }
}

export function toUpstreamError(f: UpstreamFailure): UpstreamError {
  const out: UpstreamError = { error: f.error };
  if (f.description) out.error_description = f.description;
  if ('status' in f && f.status !== undefined) out.status = f.status;
  return out;
}
