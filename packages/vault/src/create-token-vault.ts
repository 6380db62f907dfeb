import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { defaultSetTimer, systemClock } from './clock.js';
import { loadVaultKeys } from './crypto/vault-keys.js';
import { DEFAULTS } from './defaults.js';
import { VaultConfigError } from './errors.js';
import { VaultEmitter } from './events.js';
import { connectionStatus, saveSet, signOut } from './lifecycle/connections.js';
import { keepAlive, startMaintenance } from './lifecycle/maintenance.js';
import { ensureFresh } from './lifecycle/single-flight-refresh.js';
import { createVaultMetrics } from './metrics.js';
import { finishSignIn, startSignIn } from './sign-in/sign-in-flow.js';
import { openVaultStore } from './store/open-vault-store.js';
import { rekeyStore } from './store/rekey-store.js';
import type { VaultStore } from './store/vault-store.js';
import type { TokenVault, TokenVaultOptions } from './token-vault.js';
import { authenticatedFetch } from './upstream/authenticated-fetch.js';
import { Upstream } from './upstream/upstream.js';
import { UpstreamDiscovery } from './upstream/upstream-discovery.js';
import { connectionOf, type VaultContext } from './vault-context.js';

/**
 * Creates a token vault: loads the keys, discovers the upstream, opens the store (migrating
 * it). A bad option, a key that does not fit, or an upstream that refuses both metadata
 * documents is a `VaultConfigError` here, at start. An upstream that is down or unreachable
 * is not: the vault starts, hands out stored tokens that are still fresh, and discovers the
 * upstream as soon as it answers (`UpstreamUnavailable` / `RefreshDeferred` until then).
 *
 * @example
 * const vault = await createTokenVault({
 *   issuer: 'https://idp.example.com', clientId: 'backend', clientSecret: process.env.SECRET,
 *   database: './vault.db', keys: { current: 'k1', k1: process.env.VAULT_KEY_1 },
 * });
 * const accessToken = await vault.getValidAccessToken(userId);
 */
export async function createTokenVault(options: TokenVaultOptions): Promise<TokenVault> {
  const keys = loadVaultKeys(options.keys, options.env);
  const clock = options.clock ?? systemClock;
  const setTimer = options.setTimer ?? defaultSetTimer;
  const random = options.random ?? Math.random;
  const leaseMs = options.leaseMs ?? DEFAULTS.leaseMs;
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;
  if (!(leaseMs > 2 * requestTimeoutMs)) {
    throw new VaultConfigError(
      `leaseMs (${leaseMs}) must be more than twice requestTimeoutMs (${requestTimeoutMs}): a live holder must finish inside its lease`,
    );
  }
  const defaultConnection = options.connection ?? DEFAULTS.connection;
  if (options.database === undefined)
    throw new VaultConfigError('database is required (an SQLite file or a postgres:// URL)');
  const discover = await Upstream.prepare({ ...options, requestTimeoutMs });
  const discovery = new UpstreamDiscovery(discover, options.issuer, {
    clock,
    setTimer,
    random,
    log: options.logger,
  });
  await discovery.start();
  let store: VaultStore;
  try {
    store = await openVaultStore(options.database, options.postgres);
  } catch (err) {
    discovery.close();
    throw err;
  }
  try {
    const ctx: VaultContext = {
      options,
      keys,
      store,
      discovery,
      get issuer() {
        return discovery.issuer;
      },
      clock,
      setTimer,
      random,
      leaseMs,
      requestTimeoutMs,
      owner: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
      emitter: new VaultEmitter(),
      metrics: createVaultMetrics(options.registry, () => store.countByState()),
      log: options.logger,
      lazyRekey: options.lazyRekey !== false,
      flights: new Map(),
      defaultConnection,
    };
    return buildVault(ctx);
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** The `TokenVault` facade over the context: each method is one part's function. */
function buildVault(ctx: VaultContext): TokenVault {
  const stopMaintenance = startMaintenance(ctx);
  return {
    save: (userId, tokenResponse, o) => saveSet(ctx, userId, tokenResponse, o),
    async getValidAccessToken(userId, o) {
      return (await ensureFresh(ctx, userId, connectionOf(ctx, o))).accessToken;
    },
    signOut: (userId, o) => signOut(ctx, userId, o),
    status: (userId) => connectionStatus(ctx, userId),
    cleanup: () => ctx.store.purge(ctx.clock.now()),
    keepAlive: (idleMs) => keepAlive(ctx, idleMs),
    async rekey() {
      const result = await rekeyStore(ctx.store, ctx.keys, ctx.clock.now());
      ctx.metrics.rekeyed.inc(result.rekeyed);
      return result;
    },
    startSignIn: (userId, o) => startSignIn(ctx, userId, o),
    finishSignIn: (userId, callbackUrl, o) => finishSignIn(ctx, userId, callbackUrl, o),
    fetch: (userId, url, init, o) => authenticatedFetch(ctx, userId, url, init, o),
    subscribe: (event, fn) => ctx.emitter.subscribe(event, fn),
    metrics: ctx.metrics,
    get issuer() {
      return ctx.issuer;
    },
    get upstream() {
      const upstream = ctx.discovery.current;
      if (!upstream) throw ctx.discovery.unavailable();
      return upstream;
    },
    upstreamReady: () => ctx.discovery.get(),
    async close() {
      stopMaintenance();
      ctx.discovery.close();
      await ctx.store.close();
    },
  };
}
