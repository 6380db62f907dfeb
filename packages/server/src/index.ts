export { type Clock, systemClock } from '@tessera/protocol';
export { ADMIN_DEFAULTS, DEFAULTS, DEMO_DEFAULTS } from './config/defaults.js';
export { describeDefault, exampleConfigFile, renderConfigDocs } from './config/describe-config.js';
export { LIMIT_TABLE, LIMITS } from './config/limits.js';
export {
  CONFIG_KEYS,
  type ConfigInput,
  FILE_KEYS,
  type LoadConfigOptions,
  loadConfig,
  parseDuration,
  type TesseraConfig,
} from './config/load-config.js';
export { formatDuration, parseSecret, parseSetting, redactUrl } from './config/parse-setting.js';
export {
  type ConfigKey,
  flagOf,
  LOG_LEVELS,
  type LogLevel,
  SCHEMA,
  SETTING_GROUPS,
  SETTING_KEYS,
  type Setting,
  type SettingGroup,
  type SettingKey,
  SIGNING_ALGS,
  type SigningAlg,
} from './config/schema.js';
export { hashPassword, verifyPassword } from './crypto/password.js';
export { loadMasterSecret } from './crypto/secrets.js';
export { type CleanupReport, cleanup } from './domain/cleanup.js';
export type { TesseraContext } from './domain/context.js';
export { decideRefresh, type RefreshDecision } from './domain/decide-refresh.js';
export { introspectToken } from './domain/introspect-token.js';
export {
  type CreateClientInput,
  type CreateUserInput,
  createUser,
  saveClient,
} from './domain/manage-directory.js';
export { readAccessToken } from './domain/read-access-token.js';
export { requestableScopes } from './domain/resolve-scope.js';
export { revokeFamily } from './domain/revoke-family.js';
export { revokeToken } from './domain/revoke-token.js';
export { refreshTokens } from './domain/rotate-refresh-token.js';
export {
  ConfigError,
  DuplicateError,
  hasErrorCode,
  InputError,
  KeyRotationTooSoonError,
  SERVER_ERRORS,
  type ServerErrorCode,
  StoreUnavailableError,
  TesseraServerError,
} from './errors.js';
export { type BuildAppOptions, buildApp, registerTessera, type StartupNotice } from './http/build-app.js';
export { KeyRing, type KeyRingOptions } from './keys/key-ring.js';
export { ManualClock } from './manual-clock.js';
export { ManualTimers } from './manual-timers.js';
export { createLogger, REDACT_PATHS } from './observability/logger.js';
export * from './ports/index.js';
export { FailoverRateLimitStore } from './stores/failover-rate-limit-store.js';
export { LocalRevocationSignal } from './stores/memory/local-revocation-signal.js';
export { MemoryRateLimitStore } from './stores/memory/memory-rate-limit-store.js';
export {
  describeStore,
  inspectStore,
  type OpenedStores,
  openStores,
  POSTGRES_STORE_PACKAGE,
  type PostgresStoreModule,
  type PostgresStoreOptions,
  type StoreReport,
} from './stores/open-stores.js';
export {
  openSqliteStores,
  type SqliteOptions,
  type SqliteStores,
} from './stores/sqlite/open-sqlite-stores.js';
export { type CreateTesseraOptions, createTessera, masterSecretFile, type Tessera } from './tessera.js';
export { type TesseraPlugin, type TesseraPluginOptions, tessera, withPrefix } from './tessera-plugin.js';
export { jwtFormat } from './tokens/jwt-format.js';
export { opaqueFormat } from './tokens/opaque-format.js';
export { pasetoFormat } from './tokens/paseto-format.js';
export { type AccessTokenClaims, MAX_ACCESS_TOKEN_BYTES, type TokenFormat } from './tokens/token-format.js';
export { SERVER_VERSION } from './version.js';
