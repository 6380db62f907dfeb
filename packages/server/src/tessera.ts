import { hostname } from 'node:os';
import { type Clock, systemClock, type TokenResponse } from '@tessera/protocol';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream, Logger } from 'pino';
import { LIMITS } from './config/limits.js';
import { type LoadConfigOptions, loadConfig, type TesseraConfig } from './config/load-config.js';
import { SCHEMA } from './config/schema.js';
import { deriveServerKeys, loadMasterSecret, type ServerKeys } from './crypto/secrets.js';
import { cleanup } from './domain/cleanup.js';
import type { TesseraContext } from './domain/context.js';
import { RecentRefreshes } from './domain/recent-refreshes.js';
import { defaultSetTimer, type SetTimer, SingleFlight } from './domain/single-flight.js';
import { DpopNonces, dpopNonceKey } from './dpop/dpop-nonces.js';
import { ConfigError } from './errors.js';
import { type BuildAppOptions, buildApp, buildMetricsApp } from './http/build-app.js';
import { KeyRing } from './keys/key-ring.js';
import { createLogger } from './observability/logger.js';
import { createMetrics } from './observability/metrics.js';
import { MinuteCounters } from './observability/minute-counters.js';
import type { RateLimitStore, ReplayStore, RevocationSignal, Stores } from './ports/index.js';
import { cachedDirectory } from './stores/cached-directory.js';
import { FailoverRateLimitStore } from './stores/failover-rate-limit-store.js';
import { LocalRevocationSignal } from './stores/memory/local-revocation-signal.js';
import { MemoryRateLimitStore } from './stores/memory/memory-rate-limit-store.js';
import { observeEvents } from './stores/observe-events.js';
import { openStores } from './stores/open-stores.js';
import { signalRevocations } from './stores/signal-revocations.js';
import { jwtFormat } from './tokens/jwt-format.js';
import { opaqueFormat } from './tokens/opaque-format.js';
import { pasetoFormat } from './tokens/paseto-format.js';
import type { TokenFormat } from './tokens/token-format.js';
import { SERVER_VERSION } from './version.js';

export interface CreateTesseraOptions {
  /** A ready configuration, or the inputs to `loadConfig`. */
  config?: Readonly<TesseraConfig> | LoadConfigOptions;
  /** Stores to use; defaults to those the configuration names (`stores/open-stores.ts`): SQLite at `config.db`, or PostgreSQL at `config.databaseUrl`. */
  stores?: Stores;
  /**
   * Counters of the rate limits and lockouts; defaults to this process's memory. Instances behind
   * one load balancer share a store so that they count against one budget.
   */
  rateLimitStore?: RateLimitStore;
  /**
   * The replay store (refresh nonces), instead of the one in `stores`: a Redis one beside the
   * durable state (`@tessera/store-redis`).
   */
  replayStore?: ReplayStore;
  /**
   * Wakes the revocation feed of every instance when any instance revokes (pub/sub); defaults to
   * this process only. The feed still polls its store, so a lost signal only costs a poll.
   */
  revocationSignal?: RevocationSignal;
  /**
   * Wakes the dashboard's live event tail of every instance when any instance records events
   * (pub/sub); defaults to this process only. The tail still polls its store.
   */
  eventSignal?: RevocationSignal;
  /** The 32-byte master secret; defaults to `TESSERA_SECRET` or the key file beside the database. */
  masterSecret?: Uint8Array;
  clock?: Clock;
  setTimer?: SetTimer;
  logger?: Logger;
  /** Where logs go when no logger is given (default: stdout). */
  logDestination?: DestinationStream;
  /** Extra access-token formats; the JWT format is always registered. */
  formats?: (ctx: Pick<TesseraContext, 'keyRing' | 'config' | 'stores' | 'keys' | 'clock'>) => TokenFormat[];
  /** Run cleanup, key-ring refresh and scheduled key rotation on timers (default true). */
  background?: boolean;
  /** Receives start-up notices (e.g. cookie mode over plain http) instead of the log. */
  onNotice?: BuildAppOptions['onNotice'];
  /** Serve the OpenAPI document at `/openapi.json` (default true). */
  openapi?: boolean;
  /** More versions for the start-up log line (the CLI adds its own), beside the server's and Node's. */
  versions?: Record<string, string>;
}

export interface Tessera {
  ctx: TesseraContext;
  app: FastifyInstance;
  /** The listener of `/metrics` when `metricsPort` is set (the main app then has no `/metrics`). */
  metricsApp: FastifyInstance | undefined;
  /**
   * Listens on the configured host and port (and the metrics port, if set); resolves with the
   * address. Logs one line, `tessera started`, with the address, the issuer and the versions
   * (server, Node, and any given in `versions`).
   */
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** Where the master secret's key file is: beside an SQLite database; none for a shared database. */
export function masterSecretFile(config: Pick<TesseraConfig, 'db' | 'databaseUrl'>): string | null {
  return config.databaseUrl === undefined ? config.db : null;
}

/** True for a configuration already loaded (rather than the inputs to `loadConfig`). */
export function isConfig(value: CreateTesseraOptions['config']): value is Readonly<TesseraConfig> {
  return value !== undefined && 'issuer' in value && typeof (value as TesseraConfig).issuer === 'string';
}

/**
 * Builds an authorization server: configuration, stores, keys and the HTTP app.
 *
 * @example
 * const tessera = await createTessera({ config: { flags: { port: 4000 } } });
 * await tessera.listen();
 */
export async function createTessera(options: CreateTesseraOptions = {}): Promise<Tessera> {
  const config = isConfig(options.config) ? options.config : loadConfig(options.config);
  const log = options.logger ?? createLogger(config.logLevel, options.logDestination);
  const { ctx, stops } = await openTesseraState(options, config, log);
  const { stores } = ctx;
  const app = await buildApp(ctx, {
    ...(options.onNotice ? { onNotice: options.onNotice } : {}),
    ...(options.openapi !== undefined ? { openapi: options.openapi } : {}),
  });
  const metricsApp = config.metricsPort === undefined ? undefined : await buildMetricsApp(ctx);
  // A stop closes idle connections at once; an answer sent while stopping closes its connection
  // too, so the stop waits for requests in flight, not for keep-alive connections to time out.
  let closing = false;
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });

  return {
    ctx,
    app,
    metricsApp,
    async listen() {
      const address = await app.listen({ host: config.host, port: config.port });
      if (metricsApp) {
        try {
          await metricsApp.listen({ host: config.metricsHost, port: config.metricsPort });
        } catch (err) {
          await app.close();
          throw err;
        }
      }
      log.info(
        {
          event: 'tessera.started',
          address,
          issuer: config.issuer,
          versions: { server: SERVER_VERSION, node: process.versions.node, ...options.versions },
        },
        'tessera started',
      );
      return address;
    },
    async close() {
      closing = true;
      for (const stop of stops) stop();
      // In-flight requests finish first; a connection that would hold the close open (a stream, a
      // slow client) is closed after a bounded wait, so a stop signal always ends the process.
      const force = setTimeout(() => app.server.closeAllConnections(), LIMITS.shutdownTimeoutMs);
      force.unref();
      try {
        await Promise.all([app.close(), metricsApp?.close()]);
      } finally {
        clearTimeout(force);
      }
      // What the dashboard counted since the last flush, before the stores close.
      await ctx.counters.flush();
      await stores.close();
    },
  };
}

/** A server's state without its HTTP app: the context, and the stops of its background timers. */
export interface TesseraState {
  ctx: TesseraContext;
  /** Stop the background timers (cleanup, key-ring refresh); the stores stay open. */
  stops: (() => void)[];
}

/**
 * Opens stores and key rings, registers the token formats and starts the background timers: what
 * `createTessera` and the Fastify plugin (`tessera()`) share.
 */
export async function openTesseraState(
  options: Omit<CreateTesseraOptions, 'config' | 'logger' | 'logDestination'>,
  config: Readonly<TesseraConfig>,
  log: Logger,
): Promise<TesseraState> {
  // The master secret first: a missing one must not leave a pool of connections open behind it.
  const keys = deriveServerKeys(options.masterSecret ?? loadMasterSecret(masterSecretFile(config)));
  if (options.stores) return assembleState(options, config, log, keys, options.stores);
  const configured = await openStores(config, log);
  try {
    return await assembleState(
      {
        ...options,
        rateLimitStore: options.rateLimitStore ?? configured.rateLimitStore,
        revocationSignal: options.revocationSignal ?? configured.revocationSignal,
        eventSignal: options.eventSignal ?? configured.eventSignal,
      },
      config,
      log,
      keys,
      configured.stores,
    );
  } catch (err) {
    // Stores this function opened are its to close when the server cannot start.
    await configured.stores.close().catch(() => {});
    throw err;
  }
}

async function assembleState(
  options: Omit<CreateTesseraOptions, 'config' | 'logger' | 'logDestination'>,
  config: Readonly<TesseraConfig>,
  log: Logger,
  keys: ServerKeys,
  opened: Stores,
): Promise<TesseraState> {
  const clock = options.clock ?? systemClock;
  const revocationSignal = options.revocationSignal ?? new LocalRevocationSignal();
  const eventSignal = options.eventSignal ?? new LocalRevocationSignal();
  const setTimer = options.setTimer ?? defaultSetTimer;
  const counters = new MinuteCounters(opened.counters, clock, log);
  const { replayStore, rateLimitStore } = options;
  const signalled: Stores = signalRevocations(
    {
      ...opened,
      ...(replayStore ? { replay: replayStore } : {}),
      // Client and user records are read on every refresh; writes through this server invalidate
      // at once, changes made by another process (the CLI, another instance) show within the TTL.
      ...(config.directoryCacheTtl > 0
        ? { directory: cachedDirectory(opened.directory, clock, config.directoryCacheTtl * 1000) }
        : {}),
    },
    revocationSignal,
  );
  // Every recorded event is counted for the dashboard and wakes the live tails.
  const wakeTails = throttled(() => eventSignal.publish(), LIMITS.eventSignalMinIntervalMs, setTimer);
  const stores = observeEvents(
    signalled,
    (events) => {
      counters.observeEvents(events);
      wakeTails();
    },
    config.instanceName ?? `${hostname()}:${process.pid}`,
  );

  const longestAccessTtlMs = async () => {
    const clients = await stores.directory.listClients();
    return Math.max(config.accessTokenTtl, ...clients.map((c) => c.accessTokenTtl ?? 0)) * 1000;
  };
  let retiredKeepMs = config.accessTokenTtl * 1000 + LIMITS.retiredKeyMarginMs;
  // The next key signs only after every JWKS cache (its max-age) and every instance (key-ring
  // refresh) has had the chance to see it.
  const minPublishedMs = (LIMITS.jwksMaxAgeSeconds + config.keyRingRefreshInterval) * 1000;
  const ringOptions = {
    store: stores.keys,
    secrets: keys,
    clock,
    retiredKeepMs: () => retiredKeepMs,
    minPublishedMs,
  };
  const keyRing = new KeyRing({ ...ringOptions, ring: 'jwt', alg: config.signingAlg });
  await keyRing.init();
  retiredKeepMs = (await longestAccessTtlMs()) + LIMITS.retiredKeyMarginMs;

  // PASETO signs with Ed25519 keys of its own ring: one key, one protocol.
  const pasetoKeyRing = new KeyRing({
    ...ringOptions,
    ring: 'paseto',
    alg: 'EdDSA',
    extractablePrivateKeys: true,
  });
  await pasetoKeyRing.init();
  const keyRings = [keyRing, pasetoKeyRing];

  const base = { keyRing, config, stores, keys, clock };
  const formats = new Map<string, TokenFormat>();
  for (const f of [
    jwtFormat({ keyRing, issuer: config.issuer }),
    opaqueFormat({ accessTokens: stores.accessTokens, keys, clock }),
    pasetoFormat({ keyRing: pasetoKeyRing, issuer: config.issuer }),
    ...(options.formats?.(base) ?? []),
  ]) {
    if (formats.has(f.name)) throw new Error(`two token formats are named "${f.name}"`);
    formats.set(f.name, f);
  }
  const defaultFormat = formats.get(config.accessTokenFormat);
  if (!defaultFormat) {
    throw new ConfigError(
      `Invalid configuration: ${SCHEMA.accessTokenFormat.env}: expected one of ${[...formats.keys()].join(', ')}, got "${config.accessTokenFormat}"`,
    );
  }

  const ctx: TesseraContext = {
    config,
    stores,
    keys,
    keyRing,
    keyRings: new Map(keyRings.map((r) => [r.ring, r])),
    formats,
    defaultFormat,
    clock,
    log,
    metrics: createMetrics({ defaultMetrics: options.background !== false }),
    refreshFlights: new SingleFlight<TokenResponse>(setTimer),
    recentRefreshes: new RecentRefreshes(),
    dpopNonces: new DpopNonces(dpopNonceKey(keys), config.dpopNoncePeriod * 1000),
    // A shared store that goes down fails over to per-instance counting (with a warning), so
    // a counter never takes requests down with it.
    rateLimits: rateLimitStore ? new FailoverRateLimitStore(rateLimitStore, log) : new MemoryRateLimitStore(),
    revocationSignal,
    eventSignal,
    counters,
    setTimer,
  };
  const stops: (() => void)[] = [];
  // The counters reach the store on the injected timer, and once more when the server stops.
  stops.push(counters.start(setTimer));
  if (options.background !== false) {
    // On the injected timers (virtual in tests); each run is armed when the last one ended.
    const every = (seconds: number, task: () => Promise<unknown>, what: string) => {
      if (seconds <= 0) return;
      let stopped = false;
      let cancel = () => {};
      const arm = () => {
        cancel = setTimer(() => {
          task()
            .catch((err: unknown) => log.error({ err }, `${what} failed`))
            .finally(() => {
              if (!stopped) arm();
            });
        }, seconds * 1000);
      };
      arm();
      stops.push(() => {
        stopped = true;
        cancel();
      });
    };
    every(config.cleanupInterval, () => cleanup(ctx), 'cleanup');
    every(
      config.keyRingRefreshInterval,
      async () => {
        retiredKeepMs = (await longestAccessTtlMs()) + LIMITS.retiredKeyMarginMs;
        for (const ring of keyRings) {
          await ring.reload();
          if (config.keyRotationInterval > 0 && ring.currentAge() >= config.keyRotationInterval * 1000) {
            const { kid } = await ring.rotate();
            log.info({ kid, ring: ring.ring }, 'signing key rotated on schedule');
          }
        }
      },
      'key ring refresh',
    );
  }

  return { ctx, stops };
}

/** `fn` at once, then at most once per `ms` (one trailing call for whatever came meanwhile). */
function throttled(fn: () => void, ms: number, setTimer: SetTimer): () => void {
  let waiting = false;
  let again = false;
  const open = () => {
    if (!again) {
      waiting = false;
      return;
    }
    again = false;
    fn();
    setTimer(open, ms);
  };
  return () => {
    if (waiting) {
      again = true;
      return;
    }
    waiting = true;
    fn();
    setTimer(open, ms);
  };
}
