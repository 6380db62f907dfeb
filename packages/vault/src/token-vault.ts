import type { Registry } from 'prom-client';
import type { Clock, SetTimer } from './clock.js';
import type { VaultKeysInput } from './crypto/vault-keys.js';
import type { DecryptionFailed, UpstreamError } from './errors.js';
import type { VaultEventName, VaultEvents } from './events.js';
import type { TokenEndpointJson } from './lifecycle/token-set.js';
import type { VaultMetrics } from './metrics.js';
import type { PostgresVaultStoreOptions } from './store/postgres-store.js';
import type { RekeyReport } from './store/rekey-store.js';
import type { ConnectionState, VaultStore } from './store/vault-store.js';
import type { ClientAuthMethod, ClientPrivateKey, Upstream } from './upstream/upstream.js';

/**
 * The vault's public shape: its options, the `TokenVault` it returns and what its methods
 * answer. The behaviour lives in `lifecycle/` (refresh, save, sign-out, status, keep-alive),
 * `sign-in/`, `upstream/` and `store/`; `create-token-vault.ts` wires them together.
 */

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
  /**
   * The upstream as openid-client knows it (metadata, client authentication). Throws
   * `UpstreamUnavailable` while it has not been discovered (it was down when the vault started).
   */
  readonly upstream: Upstream;
  /** Resolves with the upstream once discovered (trying now if due); `UpstreamUnavailable` while it cannot be. */
  upstreamReady(): Promise<Upstream>;
  close(): Promise<void>;
}

/** What `vault.rekey()` did: connections and pending sign-ins re-encrypted under the current key. */
export type RekeyResult = RekeyReport;
