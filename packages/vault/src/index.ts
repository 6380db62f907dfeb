/** `@tessera/vault`: the server-side token vault (Node only). Middleware under `/express` and `/fastify`. */
export type { Clock, SetTimer } from './clock.js';
export { createTokenVault } from './create-token-vault.js';
export { generateVaultKey } from './crypto/generate-vault-key.js';
export { loadVaultKeys, type VaultKeys, type VaultKeysInput } from './crypto/vault-keys.js';
export { DEFAULTS, VAULT_ENV } from './defaults.js';
export {
  DecryptionFailed,
  type DecryptionFailure,
  ReauthenticationRequired,
  RefreshDeferred,
  SignInFailed,
  UnsupportedTokenType,
  type UpstreamError,
  UpstreamUnavailable,
  VaultConfigError,
} from './errors.js';
export type { VaultEventName, VaultEvents } from './events.js';
export type { TokenEndpointJson, TokenSet } from './lifecycle/token-set.js';
export type { VaultMetrics } from './metrics.js';
export { type RekeyVaultOptions, rekeyVault } from './rekey-vault.js';
export { openVaultStore } from './store/open-vault-store.js';
export { openPostgresVaultStore, type PostgresVaultStoreOptions } from './store/postgres-store.js';
export { openSqliteVaultStore } from './store/sqlite-store.js';
export type {
  ConnectionRow,
  ConnectionState,
  NewTokenSet,
  RowPatch,
  SealedColumns,
  VaultStore,
} from './store/vault-store.js';
export type {
  ConnectionOptions,
  ConnectionStatus,
  RekeyResult,
  SignInResult,
  StartSignInOptions,
  TokenVault,
  TokenVaultOptions,
  VaultLogger,
} from './token-vault.js';
export type { ClientAuthMethod, ClientPrivateKey } from './upstream/upstream.js';
