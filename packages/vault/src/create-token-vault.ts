import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import * as oidc from 'openid-client';
import type { Registry } from 'prom-client';
import { type Clock, defaultSetTimer, delay, type SetTimer, systemClock } from './clock.js';
import { seal, unseal } from './crypto/seal.js';
import { needsRekey, sealTokenSet, unsealTokenSet } from './crypto/seal-token-set.js';
import { loadVaultKeys, type VaultKeys, type VaultKeysInput } from './crypto/vault-keys.js';
import { DEFAULTS } from './defaults.js';
import {
  DecryptionFailed,
  ReauthenticationRequired,
  RefreshDeferred,
  SignInFailed,
  type UpstreamError,
  VaultConfigError,
} from './errors.js';
import { VaultEmitter, type VaultEventName, type VaultEvents } from './events.js';
import {
  backoffMs,
  purgeAt,
  refreshLeadMs,
  type TokenEndpointJson,
  type TokenSet,
  toTokenSet,
  usableUntil,
} from './lifecycle/token-set.js';
import { createVaultMetrics, type VaultMetrics } from './metrics.js';
import { openVaultStore } from './store/open-vault-store.js';
import type { PostgresVaultStoreOptions } from './store/postgres-store.js';
import { rekeyStore } from './store/rekey-store.js';
import type { ConnectionRow, ConnectionState, VaultStore } from './store/vault-store.js';
import {
  type ClientAuthMethod,
  type ClientPrivateKey,
  classifyUpstreamError,
  Upstream,
  type UpstreamFailure,
} from './upstream/upstream.js';

/** A logger with pino's call shape; the vault never passes it a token. */
export interface VaultLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface TokenVaultOptions {
  /** The upstream's issuer identifier; found by RFC 8414 metadata or OpenID discovery. http only on loopback. */
  issuer: string;
  clientId: string;
  clientSecret?: string;
  /** Default: `client_secret_basic` (or `_post` if that is all the upstream offers) with a secret. */
  clientAuth?: ClientAuthMethod;
  /** Private key for `private_key_jwt`, also used to sign request objects when the upstream advertises them. */
  key?: ClientPrivateKey;
  keyId?: string;
  keyAlg?: string;
  /** An SQLite file path, a `postgres://` URL, or a store implementing the port. */
  database: string | VaultStore;
  /** PostgreSQL only: schema and table prefix. */
  postgres?: PostgresVaultStoreOptions;
  /** Encryption keys; default from `TESSERA_VAULT_KEYS` or `TESSERA_VAULT_KEYS_FILE`. */
  keys?: VaultKeysInput;
  /** Where `TESSERA_VAULT_KEYS*` are read from (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** This vault's connection name (default `default`): vaults for several upstreams may share one database. */
  connection?: string;
  /** Default `redirect_uri` for `startSignIn`. */
  redirectUri?: string;
  /** Default scope for `startSignIn` (default `openid offline_access` where advertised). */
  scope?: string;
  /** Lease of one refresh across instances (ms); must exceed two upstream requests. */
  leaseMs?: number;
  /** Timeout of one upstream request (ms). */
  requestTimeoutMs?: number;
  /** Refresh connections idle for `idleMs`, checking every `intervalMs` (for upstreams that expire unused refresh tokens). */
  keepAlive?: { idleMs: number; intervalMs?: number };
  /** Run `cleanup()` this often (ms; default hourly, 0 = never). */
  cleanupIntervalMs?: number;
  /** Re-encrypt a set under the current key when it is read (default true). */
  lazyRekey?: boolean;
  /** Prometheus registry to register on (e.g. `tessera.ctx.metrics.registry`); default a registry of its own. */
  registry?: Registry;
  logger?: VaultLogger;
  clock?: Clock;
  setTimer?: SetTimer;
  random?: () => number;
  /** The `fetch` that `vault.fetch` uses (default global `fetch`). */
  fetch?: typeof fetch;
}

/** Per-call options. */
export interface ConnectionOptions {
  connection?: string;
}

/** What `status()` shows per connection; never a token. */
export interface ConnectionStatus {
  connection: string;
  state: ConnectionState;
  issuer: string;
  /** Access-token expiry (vault clock), when the set is readable. */
  expiresAt?: number;
  refreshExpiresAt?: number;
  scope?: string;
  hasRefreshToken?: boolean;
  refreshedAt: number | null;
  retryAt: number | null;
  failures: number;
  lastError: UpstreamError | null;
  /** Set when the stored values cannot be decrypted with the configured keys. */
  decryption?: DecryptionFailed['reason'];
}

export interface StartSignInOptions extends ConnectionOptions {
  redirectUri?: string;
  scope?: string;
  /** Extra authorization-request parameters (`prompt`, `login_hint`, `resource`, …). */
  params?: Record<string, string>;
}

export interface SignInResult {
  userId: string;
  connection: string;
  scope?: string;
  /** The verified ID token's claims, when the upstream issued one. */
  claims?: Record<string, unknown>;
}

export interface TokenVault {
  /** Stores the token endpoint's JSON as received (expiry = now + `expires_in`). */
  save(userId: string, tokenResponse: TokenEndpointJson, options?: ConnectionOptions): Promise<void>;
  /** A valid access token: refreshed ahead of expiry, once per connection across every instance. */
  getValidAccessToken(userId: string, options?: ConnectionOptions): Promise<string>;
  /** Revokes the refresh token at the upstream (RFC 7009) and deletes the set here. */
  signOut(userId: string, options?: ConnectionOptions): Promise<{ revokedUpstream: boolean }>;
  /** Every connection of a user with its state. */
  status(userId: string): Promise<ConnectionStatus[]>;
  /** Deletes sets that can no longer be used or renewed, old tombstones and expired sign-ins. */
  cleanup(): Promise<{ connections: number; signIns: number }>;
  /** Refreshes connections idle longer than `keepAlive.idleMs` (or `idleMs`); the timer calls it too. */
  keepAlive(idleMs?: number): Promise<{ refreshed: number; failed: number }>;
  /** Re-encrypts every stored set under the current key. */
  rekey(): Promise<RekeyResult>;
  /** Starts the authorization-code flow with PKCE (PAR and signed request objects when advertised). */
  startSignIn(userId: string, options?: StartSignInOptions): Promise<{ url: string; state: string }>;
  /** Finishes it: checks `state`, `nonce` and the PKCE verifier, exchanges the code and saves the set. */
  finishSignIn(userId: string, callbackUrl: string | URL, options?: ConnectionOptions): Promise<SignInResult>;
  /** Calls an upstream API as the user; on a 401, one refresh and one retry. */
  fetch(
    userId: string,
    url: string | URL,
    init?: RequestInit,
    options?: ConnectionOptions,
  ): Promise<Response>;
  subscribe<K extends VaultEventName>(event: K, fn: (e: VaultEvents[K]) => void): () => void;
  readonly metrics: VaultMetrics;
  readonly issuer: string;
  /** The upstream as openid-client knows it (metadata, client authentication). */
  readonly upstream: Upstream;
  close(): Promise<void>;
}

export interface RekeyResult {
  scanned: number;
  rekeyed: number;
  /** Connections whose values could not be decrypted with any configured key (left as they are). */
  failed: { userId: string; connection: string; reason: string }[];
}

/** A stable number in [0, 1) per set, so every instance agrees on when a set is due. */
function stableRandom(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0) / 2 ** 32;
}

function parseError(text: string | null): UpstreamError | null {
  if (!text) return null;
  try {
    return JSON.parse(text) as UpstreamError;
  } catch {
    return { error: 'unknown' };
  }
}

function toUpstreamError(f: UpstreamFailure): UpstreamError {
  const out: UpstreamError = { error: f.error };
  if (f.description) out.error_description = f.description;
  if ('status' in f && f.status !== undefined) out.status = f.status;
  return out;
}

/**
 * Creates a token vault: discovers the upstream, opens the store (migrating it) and loads the
 * keys. A bad option is a `VaultConfigError` here, at start, never later.
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
  const upstream = await Upstream.discover({ ...options, requestTimeoutMs });
  const store = await openVaultStore(options.database, options.postgres);
  try {
    return buildVault({
      options,
      keys,
      clock,
      setTimer,
      random,
      leaseMs,
      requestTimeoutMs,
      defaultConnection,
      upstream,
      store,
    });
  } catch (err) {
    await store.close();
    throw err;
  }
}

interface Built {
  options: TokenVaultOptions;
  keys: VaultKeys;
  clock: Clock;
  setTimer: SetTimer;
  random: () => number;
  leaseMs: number;
  requestTimeoutMs: number;
  defaultConnection: string;
  upstream: Upstream;
  store: VaultStore;
}

function buildVault(b: Built): TokenVault {
  const { options, keys, clock, setTimer, random, leaseMs, requestTimeoutMs, upstream, store } = b;
  const issuer = upstream.issuer;
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const emitter = new VaultEmitter();
  const metrics = createVaultMetrics(options.registry, () => store.countByState());
  const log = options.logger;
  const lazyRekey = options.lazyRekey !== false;
  const flights = new Map<string, Promise<TokenSet>>();
  const fetchImpl = options.fetch ?? fetch;
  const connectionOf = (o?: ConnectionOptions) => o?.connection ?? b.defaultConnection;
  const checkIds = (userId: string, connection: string) => {
    if (typeof userId !== 'string' || userId === '' || userId.length > 512) {
      throw new TypeError('userId must be a non-empty string of at most 512 characters');
    }
    if (typeof connection !== 'string' || connection === '' || connection.length > 128) {
      throw new TypeError('connection must be a non-empty string of at most 128 characters');
    }
  };

  const stateChanged = (
    row: { userId: string; connection: string },
    from: ConnectionState | 'none',
    to: ConnectionState,
  ) => {
    if (from !== to)
      emitter.emit('stateChanged', { userId: row.userId, connection: row.connection, from, to });
  };

  /** Decrypts a row's set, re-encrypting it under the current key on the way (lazily, never bumping the version). */
  async function readSet(
    row: ConnectionRow | undefined,
    userId: string,
    connection: string,
  ): Promise<TokenSet> {
    if (!row || row.sealed === null) {
      const error = parseError(row?.lastError ?? null) ?? {
        error: 'no_tokens',
        error_description: 'No token set is stored for this connection',
      };
      throw new ReauthenticationRequired(userId, connection, error);
    }
    if (row.issuer !== issuer) {
      throw new VaultConfigError(
        `connection "${connection}" of user "${userId}" belongs to ${row.issuer}, not ${issuer}: give each upstream its own connection name`,
      );
    }
    let set: TokenSet;
    try {
      set = unsealTokenSet(keys, userId, connection, row.sealed);
    } catch (err) {
      if (err instanceof DecryptionFailed) metrics.decryptionFailures.inc({ reason: err.reason });
      throw err;
    }
    if (lazyRekey && needsRekey(keys, row.sealed)) {
      const done = await store.update(
        userId,
        connection,
        row.version,
        { sealed: sealTokenSet(keys, userId, connection, set), keyId: keys.current },
        false,
      );
      if (done !== undefined) metrics.rekeyed.inc();
    }
    return set;
  }

  const refreshAt = (userId: string, connection: string, set: TokenSet) =>
    set.expiresAt - refreshLeadMs(set, stableRandom(`${userId}\0${connection}\0${set.receivedAt}`));

  async function ensureFresh(userId: string, connection: string, stale?: string): Promise<TokenSet> {
    checkIds(userId, connection);
    const row = await store.get(userId, connection);
    const set = await readSet(row, userId, connection);
    const now = clock.now();
    if (stale === undefined ? now < refreshAt(userId, connection, set) : set.accessToken !== stale)
      return set;
    const key = `${userId}\0${connection}`;
    const running = flights.get(key);
    if (running) {
      metrics.coalesced.inc();
      return running;
    }
    const flight = refreshFlow(userId, connection, stale).finally(() => flights.delete(key));
    flights.set(key, flight);
    return flight;
  }

  /**
   * The refresh loop: take the lease (a compare-and-swap that bumps the fencing version),
   * refresh, and write the new set only if the version is still the lease's. Waits (bounded)
   * while another instance holds a live lease, unless the current token is still usable.
   */
  async function refreshFlow(
    userId: string,
    connection: string,
    stale?: string,
    keepAlive = false,
  ): Promise<TokenSet> {
    const started = clock.now();
    const waitLimit = leaseMs + requestTimeoutMs;
    // The clock bounds the wait; the count bounds it too when the clock does not move (virtual time).
    const maxPolls = Math.ceil((2 * waitLimit) / DEFAULTS.pollMaxMs) + 20;
    let poll: number = DEFAULTS.pollMinMs;
    let polls = 0;
    let waited = false;
    for (;;) {
      const row = await store.get(userId, connection);
      const set = await readSet(row, userId, connection);
      const current = row!;
      const now = clock.now();
      const usable = stale === undefined && now < usableUntil(set);
      const due =
        stale === undefined ? !(now < refreshAt(userId, connection, set)) : set.accessToken === stale;
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
        await tombstone(current, 'needs_reauthorization', {
          error: 'no_refresh_token',
          error_description: 'The access token expired and the upstream issued no refresh token',
        });
        throw new ReauthenticationRequired(userId, connection, { error: 'no_refresh_token' });
      }
      const leased = current.leaseOwner !== null && current.leaseUntil !== null && current.leaseUntil > now;
      if (leased) {
        if (usable || keepAlive) return set;
        if (clock.now() - started > waitLimit || polls >= maxPolls) {
          throw new RefreshDeferred(
            userId,
            connection,
            current.leaseUntil!,
            'another instance is still refreshing',
          );
        }
        if (!waited) metrics.leaseWaits.inc();
        waited = true;
        polls++;
        await delay(setTimer, poll);
        poll = Math.min(DEFAULTS.pollMaxMs, poll * 2);
        continue;
      }
      const fence = await store.update(
        userId,
        connection,
        current.version,
        { leaseOwner: owner, leaseUntil: now + leaseMs },
        true,
      );
      if (fence === undefined) continue; // another instance moved first: read again
      if (current.leaseOwner !== null) metrics.leaseTakeovers.inc();
      const result = await holdLease(current, fence, set, keepAlive);
      if (result) return result;
      // Fenced out or a newer set appeared: read again.
    }
  }

  async function tombstone(
    row: ConnectionRow,
    state: 'needs_reauthorization' | 'revoked',
    error: UpstreamError,
  ): Promise<boolean> {
    const now = clock.now();
    const done = await store.update(
      row.userId,
      row.connection,
      row.version,
      {
        state,
        sealed: null,
        keyId: null,
        leaseOwner: null,
        leaseUntil: null,
        failures: 0,
        retryAt: null,
        lastError: JSON.stringify(error),
        updatedAt: now,
        purgeAt: now + DEFAULTS.tombstoneTtlMs,
      },
      true,
    );
    if (done !== undefined) stateChanged(row, row.state, state);
    return done !== undefined;
  }

  /** Runs one refresh under the lease `fence`. Returns the new set, or `undefined` to read the row again. */
  async function holdLease(
    row: ConnectionRow,
    fence: number,
    set: TokenSet,
    keepAlive: boolean,
  ): Promise<TokenSet | undefined> {
    const { userId, connection } = row;
    const timer = metrics.refreshDuration.startTimer();
    let tokens: oidc.TokenEndpointResponse | undefined;
    let failure: UpstreamFailure | undefined;
    try {
      tokens = await upstream.refresh(set.refreshToken!);
    } catch (err) {
      failure = classifyUpstreamError(err);
      if (failure.kind === 'network') {
        // The answer may be lost after the upstream rotated: the same refresh token again is
        // safe on an upstream with a grace period, and no worse than giving up on one without.
        metrics.lostResponseRetries.inc();
        try {
          tokens = await upstream.refresh(set.refreshToken!);
          failure = undefined;
        } catch (again) {
          failure = classifyUpstreamError(again);
        }
      }
    }
    const now = clock.now();
    let next: TokenSet | undefined;
    if (tokens) {
      try {
        next = toTokenSet(tokens, now, set);
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
      stateChanged(row, row.state, 'active');
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
    const f = failure!;
    if (f.kind === 'invalid_grant') {
      // Race recovery: if anything was written since our lease (another instance rotated, a new
      // sign-in), that set wins and the user stays signed in.
      const latest = await store.get(userId, connection);
      if (latest && latest.version !== fence) return undefined;
      const error = toUpstreamError(f);
      if (!(await tombstone({ ...row, version: fence }, 'needs_reauthorization', error))) return undefined;
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
    const retryAt = now + backoffMs(failures, random(), 'retryAfterS' in f ? f.retryAfterS : undefined);
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
    stateChanged(row, row.state, 'refresh_backoff');
    emitter.emit('refreshFailed', { userId, connection, kind: f.kind, reason: f.error, retryAt, failures });
    if (clock.now() < usableUntil(set) && !keepAlive) return set;
    throw new RefreshDeferred(userId, connection, retryAt, f.error);
  }

  async function save(
    userId: string,
    tokenResponse: TokenEndpointJson,
    o?: ConnectionOptions,
  ): Promise<void> {
    const connection = connectionOf(o);
    checkIds(userId, connection);
    const now = clock.now();
    const set = toTokenSet(tokenResponse, now);
    const before = await store.get(userId, connection);
    await store.put({
      userId,
      connection,
      issuer,
      sealed: sealTokenSet(keys, userId, connection, set),
      keyId: keys.current,
      refreshedAt: now,
      updatedAt: now,
      purgeAt: purgeAt(set),
    });
    stateChanged({ userId, connection }, before?.state ?? 'none', 'active');
    emitter.emit('saved', { userId, connection, expiresAt: set.expiresAt });
  }

  async function signOut(userId: string, o?: ConnectionOptions): Promise<{ revokedUpstream: boolean }> {
    const connection = connectionOf(o);
    checkIds(userId, connection);
    let revokedUpstream = false;
    for (let attempt = 0; attempt < 10; attempt++) {
      const row = await store.get(userId, connection);
      if (!row || row.sealed === null) return { revokedUpstream };
      let set: TokenSet | undefined;
      try {
        set = unsealTokenSet(keys, userId, connection, row.sealed);
      } catch (err) {
        // An unreadable set cannot be revoked upstream; it is still deleted here.
        log?.warn(
          { userId, connection, error: (err as Error).name },
          'signing out a set that cannot be decrypted',
        );
      }
      if (set && !revokedUpstream && upstream.metadata.revocation_endpoint) {
        try {
          await upstream.revoke(
            set.refreshToken ?? set.accessToken,
            set.refreshToken ? 'refresh_token' : 'access_token',
          );
          revokedUpstream = true;
        } catch (err) {
          log?.warn(
            { userId, connection, error: classifyUpstreamError(err).error },
            'upstream revocation failed',
          );
        }
      }
      if (
        await tombstone(row, 'revoked', { error: 'signed_out', error_description: 'The user signed out' })
      ) {
        metrics.revocations.inc({ result: revokedUpstream ? 'revoked' : 'local_only' });
        emitter.emit('revoked', { userId, connection, revokedUpstream });
        return { revokedUpstream };
      }
    }
    throw new Error(`signOut: connection "${connection}" of user "${userId}" kept changing; try again`);
  }

  async function status(userId: string): Promise<ConnectionStatus[]> {
    const rows = await store.listUser(userId);
    return rows.map((row) => {
      const out: ConnectionStatus = {
        connection: row.connection,
        state: row.state,
        issuer: row.issuer,
        refreshedAt: row.refreshedAt,
        retryAt: row.retryAt,
        failures: row.failures,
        lastError: parseError(row.lastError),
      };
      if (row.sealed) {
        try {
          const set = unsealTokenSet(keys, userId, row.connection, row.sealed);
          out.expiresAt = set.expiresAt;
          if (set.refreshExpiresAt !== undefined) out.refreshExpiresAt = set.refreshExpiresAt;
          if (set.scope !== undefined) out.scope = set.scope;
          out.hasRefreshToken = set.refreshToken !== undefined;
        } catch (err) {
          out.decryption = err instanceof DecryptionFailed ? err.reason : 'malformed';
        }
      }
      return out;
    });
  }

  async function keepAlive(
    idleMs = options.keepAlive?.idleMs,
  ): Promise<{ refreshed: number; failed: number }> {
    if (idleMs === undefined) throw new TypeError('keepAlive: give idleMs (or the keepAlive option)');
    let refreshed = 0;
    let failed = 0;
    const rows = await store.idle(clock.now() - idleMs, 100);
    for (const row of rows) {
      if (row.issuer !== issuer || !row.sealed || row.sealed.refresh_token === null) continue;
      if (row.state === 'refresh_backoff' && row.retryAt !== null && clock.now() < row.retryAt) continue;
      try {
        const set = await readSet(row, row.userId, row.connection);
        await refreshFlow(row.userId, row.connection, set.accessToken, true);
        refreshed++;
      } catch {
        failed++;
      }
    }
    return { refreshed, failed };
  }

  let keepAliveCancel: (() => void) | undefined;
  if (options.keepAlive) {
    const interval = options.keepAlive.intervalMs ?? Math.max(60_000, options.keepAlive.idleMs / 10);
    const tick = () => {
      keepAlive()
        .catch((err: unknown) => log?.error({ error: (err as Error).message }, 'vault keep-alive failed'))
        .finally(() => {
          if (keepAliveCancel) keepAliveCancel = setTimer(tick, interval);
        });
    };
    keepAliveCancel = setTimer(tick, interval);
  }

  let cleanupCancel: (() => void) | undefined;
  const cleanupEvery = options.cleanupIntervalMs ?? DEFAULTS.cleanupIntervalMs;
  if (cleanupEvery > 0) {
    const tick = () => {
      store
        .purge(clock.now())
        .catch((err: unknown) => log?.error({ error: (err as Error).message }, 'vault cleanup failed'))
        .finally(() => {
          if (cleanupCancel) cleanupCancel = setTimer(tick, cleanupEvery);
        });
    };
    cleanupCancel = setTimer(tick, cleanupEvery);
  }

  // Sign-in transactions are found by the hash of `state` and sealed like the tokens.
  const stateHash = (state: string) => createHash('sha256').update(state).digest('base64url');
  const signInContext = (hash: string) => ({ userId: '(sign-in)', connection: hash, column: 'signin' });

  async function startSignIn(
    userId: string,
    o: StartSignInOptions = {},
  ): Promise<{ url: string; state: string }> {
    const connection = connectionOf(o);
    checkIds(userId, connection);
    const metadata = upstream.metadata;
    if (!metadata.authorization_endpoint) {
      throw new VaultConfigError(
        `${issuer} has no authorization endpoint: sign users in there and pass the tokens to save()`,
      );
    }
    const redirectUri = o.redirectUri ?? options.redirectUri;
    if (!redirectUri) throw new VaultConfigError('startSignIn needs redirectUri (option or per call)');
    const scopes = metadata.scopes_supported;
    const scope =
      o.scope ??
      options.scope ??
      (scopes?.includes('openid')
        ? scopes.includes('offline_access')
          ? 'openid offline_access'
          : 'openid'
        : undefined);
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const openid = scope?.split(' ').includes('openid') === true;
    const nonce = openid ? oidc.randomNonce() : undefined;
    const params: Record<string, string> = {
      redirect_uri: redirectUri,
      response_type: 'code',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    };
    if (scope) params.scope = scope;
    if (nonce) params.nonce = nonce;
    // OpenID Connect grants offline_access only with an explicit consent prompt.
    if (scope?.split(' ').includes('offline_access')) params.prompt = 'consent';
    Object.assign(params, o.params);
    let url: URL;
    const jarAlgs = metadata.request_object_signing_alg_values_supported;
    const signRequest =
      upstream.signingKey !== undefined &&
      (metadata.require_signed_request_object === true || (Array.isArray(jarAlgs) && jarAlgs.length > 0));
    const par = typeof metadata.pushed_authorization_request_endpoint === 'string';
    if (signRequest) {
      const jar = await oidc.buildAuthorizationUrlWithJAR(upstream.config, params, upstream.signingKey!);
      url = par ? await oidc.buildAuthorizationUrlWithPAR(upstream.config, jar.searchParams) : jar;
    } else if (par) {
      url = await oidc.buildAuthorizationUrlWithPAR(upstream.config, params);
    } else {
      url = oidc.buildAuthorizationUrl(upstream.config, params);
    }
    const hash = stateHash(state);
    const tx = JSON.stringify({ userId, connection, verifier, nonce, redirectUri, openid });
    await store.putSignIn(hash, seal(keys, signInContext(hash), tx), clock.now() + DEFAULTS.signInTtlMs);
    return { url: url.href, state };
  }

  async function finishSignIn(
    userId: string,
    callbackUrl: string | URL,
    o?: ConnectionOptions,
  ): Promise<SignInResult> {
    const raw = typeof callbackUrl === 'string' ? callbackUrl : callbackUrl.href;
    const state = new URL(raw, 'http://callback.invalid').searchParams.get('state');
    if (!state)
      throw new SignInFailed('The callback carries no state: it does not answer a sign-in started here');
    const hash = stateHash(state);
    const sealed = await store.takeSignIn(hash, clock.now());
    if (!sealed) throw new SignInFailed('Unknown, already used or expired sign-in (start it again)');
    let tx: {
      userId: string;
      connection: string;
      verifier: string;
      nonce?: string;
      redirectUri: string;
      openid: boolean;
    };
    try {
      tx = JSON.parse(unseal(keys, signInContext(hash), sealed)) as typeof tx;
    } catch {
      throw new SignInFailed('The stored sign-in cannot be read (keys changed?); start it again');
    }
    if (tx.userId !== userId) throw new SignInFailed('This sign-in was started for another user');
    if (o?.connection !== undefined && o.connection !== tx.connection) {
      throw new SignInFailed('This sign-in was started for another connection');
    }
    const current = new URL(raw, tx.redirectUri);
    let tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
    try {
      tokens = await oidc.authorizationCodeGrant(
        upstream.config,
        current,
        {
          pkceCodeVerifier: tx.verifier,
          expectedState: state,
          ...(tx.nonce ? { expectedNonce: tx.nonce } : {}),
          idTokenExpected: tx.openid,
        },
        { redirect_uri: tx.redirectUri },
      );
    } catch (err) {
      const f =
        err instanceof oidc.AuthorizationResponseError ? { error: err.error } : classifyUpstreamError(err);
      throw new SignInFailed(`The upstream did not complete the sign-in: ${f.error}`, { cause: err });
    }
    await save(userId, tokens as unknown as TokenEndpointJson, { connection: tx.connection });
    const result: SignInResult = { userId, connection: tx.connection };
    if (tokens.scope !== undefined) result.scope = tokens.scope;
    const claims = tokens.claims();
    if (claims) result.claims = { ...claims };
    return result;
  }

  async function vaultFetch(
    userId: string,
    url: string | URL,
    init: RequestInit = {},
    o?: ConnectionOptions,
  ) {
    const connection = connectionOf(o);
    const replayable =
      init.body === undefined || init.body === null || !(init.body instanceof ReadableStream);
    const send = (set: TokenSet) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `${set.tokenType === 'DPoP' ? 'DPoP' : 'Bearer'} ${set.accessToken}`);
      return fetchImpl(url, { ...init, headers });
    };
    const first = await ensureFresh(userId, connection);
    const res = await send(first);
    if (res.status !== 401 || !replayable) return res;
    await res.body?.cancel();
    // One refresh (unless another caller already replaced the token), one retry.
    const next = await ensureFresh(userId, connection, first.accessToken);
    return send(next);
  }

  return {
    save,
    async getValidAccessToken(userId, o) {
      return (await ensureFresh(userId, connectionOf(o))).accessToken;
    },
    signOut,
    status,
    async cleanup() {
      return store.purge(clock.now());
    },
    keepAlive,
    async rekey() {
      const result = await rekeyStore(store, keys);
      metrics.rekeyed.inc(result.rekeyed);
      return result;
    },
    startSignIn,
    finishSignIn,
    fetch: vaultFetch,
    subscribe: (event, fn) => emitter.subscribe(event, fn),
    metrics,
    issuer,
    upstream,
    async close() {
      keepAliveCancel?.();
      keepAliveCancel = undefined;
      cleanupCancel?.();
      cleanupCancel = undefined;
      await store.close();
    },
  };
}
