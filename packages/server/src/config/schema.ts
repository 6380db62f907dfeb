/**
 * Every setting of the authorization server, once: its default, where it may come from (flag,
 * environment variable, JSON file), its kind and bounds, and one line on why the default is what
 * it is. `TesseraConfig`, `DEFAULTS`, the CLI's flags and help texts, and the README's
 * configuration section are all derived from this table (`npm run docs:config` rewrites the
 * README; a test fails when it differs). Durations are in seconds.
 *
 * A setting has a flag `--kebab-case-key` unless `flag: false`, may sit in the JSON file under
 * its camelCase key unless `file: false`, and always has its `env` variable. `demo` and `admin`
 * are the values `tessera demo` and the administrative commands use instead of `default`, below
 * the user's own flags, environment and file.
 */

import type { Setting } from './setting-types.js';

export type { Setting } from './setting-types.js';

export const SIGNING_ALGS = ['ES256', 'EdDSA', 'RS256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Headings that group settings in `--help` and in the README. */
export const SETTING_GROUPS = {
  server: 'Server',
  storage: 'Storage and secrets',
  tokens: 'Tokens and sessions',
  limits: 'Limits',
  feed: 'Revocation feed and caches',
  logging: 'Logging',
  metrics: 'Metrics',
} as const;
export type SettingGroup = keyof typeof SETTING_GROUPS;

const MINUTE = 60;
const HOUR = 3600;
const DAY = 24 * HOUR;

export const SCHEMA = {
  // --- Server
  host: {
    kind: 'string',
    default: '127.0.0.1',
    env: 'TESSERA_HOST',
    group: 'server',
    doc: 'Interface to listen on; loopback, so nothing is exposed until an operator opens it up.',
  },
  port: {
    kind: 'port',
    default: 4000,
    demo: 4100,
    env: 'TESSERA_PORT',
    group: 'server',
    doc: 'TCP port of the HTTP server (the demo uses another, so both can run side by side).',
  },
  issuer: {
    kind: 'url',
    default: undefined,
    computed: 'http://{host}:{port}',
    example: 'https://auth.example.com',
    env: 'TESSERA_ISSUER',
    group: 'server',
    doc: 'Issuer URL (`iss`, endpoint URLs); set it to the public https URL behind a proxy.',
  },
  audience: {
    kind: 'string',
    default: undefined,
    computed: 'the issuer',
    example: 'https://api.example.com',
    env: 'TESSERA_AUDIENCE',
    group: 'server',
    doc: '`aud` of access tokens; one API by default, named like the issuer.',
  },
  trustProxy: {
    kind: 'bool',
    default: false,
    env: 'TESSERA_TRUST_PROXY',
    group: 'server',
    doc: 'Trust `X-Forwarded-For` from a proxy in front; off, so a client cannot pick the IP its rate limit counts.',
  },
  bodyLimit: {
    kind: 'int',
    default: 64 * 1024,
    min: 1024,
    max: 64 * 1024,
    unit: 'bytes',
    env: 'TESSERA_BODY_LIMIT',
    group: 'server',
    doc: 'Largest request body; 64 KiB is far above any token request and caps what is parsed.',
  },
  requestTimeout: {
    kind: 'duration',
    default: 30,
    min: 1,
    max: 10 * MINUTE,
    env: 'TESSERA_REQUEST_TIMEOUT',
    group: 'server',
    doc: "A request (headers and body) must arrive whole within this, or it is answered 408 (slow bodies); Node's `requestTimeout`.",
  },
  headersTimeout: {
    kind: 'duration',
    default: 10,
    min: 1,
    max: 10 * MINUTE,
    env: 'TESSERA_HEADERS_TIMEOUT',
    group: 'server',
    doc: "A connection must have sent a request's headers within this, or it is closed (slow-loris, idle connections); Node's `headersTimeout`, at most `requestTimeout`.",
  },
  keepAliveTimeout: {
    kind: 'duration',
    default: 5,
    min: 1,
    max: 10 * MINUTE,
    env: 'TESSERA_KEEP_ALIVE_TIMEOUT',
    group: 'server',
    doc: "An idle keep-alive connection is closed after this; Node's `keepAliveTimeout` (a proxy in front should keep its own shorter).",
  },
  maxConnections: {
    kind: 'int',
    default: 10_000,
    min: 1,
    max: 1_000_000,
    env: 'TESSERA_MAX_CONNECTIONS',
    group: 'server',
    doc: 'Open connections the server accepts at once; past it new ones are closed at once, so a flood cannot take every file descriptor.',
  },
  instanceName: {
    kind: 'string',
    default: undefined,
    example: 'auth-2',
    env: 'TESSERA_INSTANCE_NAME',
    group: 'server',
    doc: 'Name of this instance, recorded on every lifecycle event it writes (the serving instance in a lineage); unset, `<host name>:<process id>`.',
  },
  loginDefaultClientId: {
    kind: 'string',
    default: undefined,
    demo: 'demo-web',
    example: 'web',
    env: 'TESSERA_LOGIN_DEFAULT_CLIENT_ID',
    group: 'server',
    doc: 'Public client for `POST /api/auth/login` requests without `client_id`; unset, `client_id` is required.',
  },
  // --- Storage and secrets
  db: {
    kind: 'path',
    default: './tessera.db',
    demo: '.tessera/demo.db',
    env: 'TESSERA_DB',
    group: 'storage',
    doc: 'SQLite database file, the embedded store; its master secret sits beside it in `<db>.key` (mode 0600).',
  },
  databaseUrl: {
    kind: 'dsn',
    schemes: ['postgres', 'postgresql'],
    default: undefined,
    computed: 'unset: SQLite at `db`',
    example: 'postgres://tessera@db.internal:5432/tessera',
    env: 'TESSERA_DATABASE_URL',
    group: 'storage',
    doc: 'PostgreSQL URL (`postgres://…`): replaces SQLite, so several instances share one store; a password is better in `PGPASSWORD`.',
  },
  databaseSchema: {
    kind: 'string',
    default: 'public',
    env: 'TESSERA_DATABASE_SCHEMA',
    group: 'storage',
    doc: "PostgreSQL schema holding Tessera's tables (created if missing); one per deployment sharing a database.",
  },
  databasePoolSize: {
    kind: 'int',
    default: 10,
    min: 1,
    max: 1000,
    env: 'TESSERA_DATABASE_POOL_SIZE',
    group: 'storage',
    doc: 'PostgreSQL connections per instance; ten keep a rotation from waiting for one at hundreds per second.',
  },
  databasePreparedStatements: {
    kind: 'bool',
    default: true,
    env: 'TESSERA_DATABASE_PREPARED_STATEMENTS',
    group: 'storage',
    doc: 'Prepare each statement once per PostgreSQL connection (parsed and planned once); off only behind a transaction-mode pooler that drops them (PgBouncer before 1.21).',
  },
  secret: {
    kind: 'secret',
    default: undefined,
    computed: 'the key file beside the database',
    role: 'secret',
    flag: false,
    file: false,
    env: 'TESSERA_SECRET',
    group: 'storage',
    doc: 'Master secret, base64url of 32+ bytes: derives the token-hash, grace-seal and key-encryption keys.',
  },
  config: {
    kind: 'path',
    default: undefined,
    role: 'source',
    file: false,
    env: 'TESSERA_CONFIG',
    group: 'storage',
    doc: 'JSON configuration file with camelCase keys (`{"accessTokenTtl": "5m"}`); flags and environment win over it.',
  },
  sqliteSynchronous: {
    kind: 'enum',
    values: ['NORMAL', 'FULL'],
    default: 'NORMAL',
    env: 'TESSERA_SQLITE_SYNCHRONOUS',
    group: 'storage',
    doc: 'SQLite `synchronous`: NORMAL survives a process crash in WAL mode; FULL also survives power loss.',
  },
  sqliteCacheMiB: {
    kind: 'int',
    default: 64,
    min: 1,
    max: 16 * 1024,
    unit: 'MiB',
    env: 'TESSERA_SQLITE_CACHE_MIB',
    group: 'storage',
    doc: "SQLite page cache; rotations read random pages and SQLite's 2 MiB default sends most to the OS.",
  },
  cleanupInterval: {
    kind: 'duration',
    default: HOUR,
    min: 0,
    env: 'TESSERA_CLEANUP_INTERVAL',
    group: 'storage',
    doc: 'How often expired rows are deleted (0: never; run `tessera cleanup`); hourly keeps the tables small.',
  },
  eventRetention: {
    kind: 'duration',
    default: 30 * DAY,
    min: 0,
    max: 10 * 365 * DAY,
    env: 'TESSERA_EVENT_RETENTION',
    group: 'storage',
    doc: 'Lifecycle events and dashboard counters older than this are deleted by cleanup (0: kept for ever); a month answers "why was I logged out?" for any live session.',
  },
  redisUrl: {
    kind: 'dsn',
    schemes: ['redis', 'rediss'],
    default: undefined,
    example: 'redis://127.0.0.1:6379',
    env: 'TESSERA_REDIS_URL',
    group: 'storage',
    doc: 'Redis (`redis://` or `rediss://`) shared by several instances: replay store, rate limits, lockouts, revocation fan-out; unset, all in this process.',
  },
  redisPrefix: {
    kind: 'string',
    default: 'tessera:',
    env: 'TESSERA_REDIS_PREFIX',
    group: 'storage',
    doc: 'Prefix of every Redis key and channel, so several deployments can share one Redis.',
  },
  // --- Tokens and sessions
  accessTokenTtl: {
    kind: 'duration',
    default: 15 * MINUTE,
    demo: 20,
    min: 1,
    max: DAY,
    env: 'TESSERA_ACCESS_TOKEN_TTL',
    group: 'tokens',
    doc: 'Access-token lifetime: 15 minutes bounds a stolen token (the demo uses 20 s to show refreshes).',
  },
  accessTokenFormat: {
    kind: 'string',
    default: 'jwt',
    env: 'TESSERA_ACCESS_TOKEN_FORMAT',
    group: 'tokens',
    doc: 'Format for clients that name none: `jwt`, `opaque`, `paseto` or a registered custom format.',
  },
  refreshGracePeriod: {
    kind: 'duration',
    default: 5 * MINUTE,
    min: 0,
    max: HOUR,
    env: 'TESSERA_REFRESH_GRACE_PERIOD',
    group: 'tokens',
    doc: 'How long the parent of a rotated refresh token still returns the same child, for apps killed mid-refresh.',
  },
  refreshIdleTtl: {
    kind: 'duration',
    default: 14 * DAY,
    min: 1,
    env: 'TESSERA_REFRESH_IDLE_TTL',
    group: 'tokens',
    doc: 'Idle lifetime of a refresh token, renewed by each rotation: two weeks away signs a user out.',
  },
  refreshAbsoluteTtl: {
    kind: 'duration',
    default: 30 * DAY,
    min: 1,
    env: 'TESSERA_REFRESH_ABSOLUTE_TTL',
    group: 'tokens',
    doc: 'Absolute lifetime of a session, never renewed: at least one fresh sign-in a month.',
  },
  signingAlg: {
    kind: 'enum',
    values: SIGNING_ALGS,
    default: 'ES256',
    env: 'TESSERA_SIGNING_ALG',
    group: 'tokens',
    doc: 'Algorithm of new signing keys; ES256 is short, fast and supported by every JOSE library.',
  },
  keyRotationInterval: {
    kind: 'duration',
    default: 90 * DAY,
    min: 0,
    env: 'TESSERA_KEY_ROTATION_INTERVAL',
    group: 'tokens',
    doc: 'Scheduled signing-key rotation (0: only by CLI or API); quarterly limits what one key signs.',
  },
  keyRingRefreshInterval: {
    kind: 'duration',
    default: 30,
    min: 1,
    env: 'TESSERA_KEY_RING_REFRESH_INTERVAL',
    group: 'tokens',
    doc: 'How often a running server re-reads the key ring, so a rotation by another process is picked up.',
  },
  coalesceTimeout: {
    kind: 'duration',
    default: 10,
    min: 1,
    max: 120,
    env: 'TESSERA_COALESCE_TIMEOUT',
    group: 'tokens',
    doc: 'How long refreshes of one token wait for the rotation in flight before `rotation_in_progress` (retryable).',
  },
  nonceTtl: {
    kind: 'duration',
    default: DAY,
    min: 1,
    env: 'TESSERA_NONCE_TTL',
    group: 'tokens',
    doc: 'How long a refresh `nonce` is remembered for replay detection; a day outlasts any retry.',
  },
  dpopProofWindow: {
    kind: 'duration',
    default: 60,
    min: 1,
    max: 10 * MINUTE,
    env: 'TESSERA_DPOP_PROOF_WINDOW',
    group: 'tokens',
    doc: 'A DPoP proof is accepted while its `iat` is within this many seconds of now, either way; its `jti` is remembered as long.',
  },
  dpopNoncePeriod: {
    kind: 'duration',
    default: 5 * MINUTE,
    min: 10,
    max: DAY,
    env: 'TESSERA_DPOP_NONCE_PERIOD',
    group: 'tokens',
    doc: 'Server DPoP nonces (clients added with `--dpop-nonce`) change this often; the previous one is still accepted.',
  },
  // --- Limits
  rateLimitLogin: {
    kind: 'int',
    default: 30,
    min: 0,
    unit: 'per minute',
    env: 'TESSERA_RATE_LIMIT_LOGIN',
    group: 'limits',
    doc: 'Logins and password grants per minute per IP (0: off); enough for a shared office, slow for password guessing.',
  },
  rateLimitRefresh: {
    kind: 'int',
    default: 600,
    min: 0,
    unit: 'per minute',
    env: 'TESSERA_RATE_LIMIT_REFRESH',
    group: 'limits',
    doc: 'Other token requests and refreshes per minute per IP (0: off); a retry of a refresh in flight or in grace by the same client is free.',
  },
  rateLimitClientAuth: {
    kind: 'int',
    default: 10,
    min: 0,
    unit: 'per minute',
    env: 'TESSERA_RATE_LIMIT_CLIENT_AUTH',
    group: 'limits',
    doc: 'Failed client authentications per minute per client id and per IP, on every endpoint (0: off); a right secret never fails.',
  },
  loginFailuresPerUser: {
    kind: 'int',
    default: 10,
    min: 0,
    env: 'TESSERA_LOGIN_FAILURES_PER_USER',
    group: 'limits',
    doc: 'Failed logins per username within the lockout window before further attempts are refused (0: off).',
  },
  loginLockoutWindow: {
    kind: 'duration',
    default: 15 * MINUTE,
    min: 1,
    env: 'TESSERA_LOGIN_LOCKOUT_WINDOW',
    group: 'limits',
    doc: 'Window of the per-username failed-login limit; long enough to stop guessing, short for a locked-out user.',
  },
  passwordHashCost: {
    kind: 'int',
    default: 17,
    min: 10,
    max: 20,
    env: 'TESSERA_PASSWORD_HASH_COST',
    group: 'limits',
    doc: "scrypt cost log2(N) of new password hashes: 17 is OWASP's minimum (N=2^17, r=8, p=1); stored with each hash.",
  },
  // --- Revocation feed and caches
  revocationFeedPoll: {
    kind: 'duration',
    default: 1,
    min: 1,
    max: 60,
    env: 'TESSERA_REVOCATION_FEED_POLL',
    group: 'feed',
    doc: 'How often the revocation feed looks for new notices (also from other instances): revoked within seconds.',
  },
  revocationFeedKeepalive: {
    kind: 'duration',
    default: 25,
    min: 1,
    max: 60,
    env: 'TESSERA_REVOCATION_FEED_KEEPALIVE',
    group: 'feed',
    doc: "Keep-alive comment interval on the revocation feed, well under the middleware's 90 s silence limit.",
  },
  directoryCacheTtl: {
    kind: 'duration',
    default: 5,
    min: 0,
    max: 300,
    env: 'TESSERA_DIRECTORY_CACHE_TTL',
    group: 'feed',
    doc: 'How long client and user records stay cached; changes made by another process show within this time.',
  },
  // --- Logging
  logLevel: {
    kind: 'enum',
    values: LOG_LEVELS,
    default: 'info',
    demo: 'warn',
    admin: 'warn',
    env: 'TESSERA_LOG_LEVEL',
    group: 'logging',
    doc: 'pino level; `info` logs each request (never tokens, secrets, cookies or passwords); the demo and admin commands use `warn`.',
  },
  // --- Metrics
  metricsToken: {
    kind: 'secret',
    default: undefined,
    flag: false,
    file: false,
    env: 'TESSERA_METRICS_TOKEN',
    group: 'metrics',
    doc: 'When set (base64url of 32+ bytes), `/metrics` requires `Authorization: Bearer <it>` from every address; unset, it answers loopback only.',
  },
  metricsPort: {
    kind: 'port',
    default: undefined,
    example: 9464,
    env: 'TESSERA_METRICS_PORT',
    group: 'metrics',
    doc: 'Serve `/metrics` on this port of `metricsHost` instead of the main one, which then has no `/metrics`.',
  },
  metricsHost: {
    kind: 'string',
    default: '127.0.0.1',
    env: 'TESSERA_METRICS_HOST',
    group: 'metrics',
    doc: 'Interface of the separate metrics port; loopback, so only a scraper on this machine reaches it unless opened up.',
  },
} as const satisfies Record<string, Setting>;

export type Schema = typeof SCHEMA;
export type SettingKey = keyof Schema;

type NumberKind = 'duration' | 'int' | 'port';
type StringKind = 'string' | 'url' | 'path' | 'secret' | 'dsn';

/** The value type of one setting, from its kind. */
export type SettingValue<S> = S extends { kind: 'enum'; values: readonly (infer V)[] }
  ? V
  : S extends { kind: NumberKind }
    ? number
    : S extends { kind: StringKind }
      ? string
      : S extends { kind: 'bool' }
        ? boolean
        : never;

/** Keys that make up `TesseraConfig`: not the secret, not the file the settings come from. */
export type ConfigKey = {
  [K in SettingKey]: Schema[K] extends { role: 'secret' | 'source' } ? never : K;
}[SettingKey];

/**
 * The validated, frozen configuration of one server, derived from `SCHEMA`. A setting without a
 * default is `undefined` when unset, except computed ones (issuer, audience), which always hold a value.
 */
export type TesseraConfig = {
  readonly [K in ConfigKey]: Schema[K] extends { default: undefined; computed?: undefined }
    ? SettingValue<Schema[K]> | undefined
    : SettingValue<Schema[K]>;
};

/** Every setting key, in the table's order. */
export const SETTING_KEYS = Object.keys(SCHEMA) as SettingKey[];

/** The keys of `TesseraConfig`: every setting but the secret and the file the settings come from. */
export const CONFIG_KEYS = SETTING_KEYS.filter((k) => {
  const role = (SCHEMA[k] as Setting).role;
  return role === undefined;
}) as ConfigKey[];

/** `accessTokenTtl` → `access-token-ttl`; `sqliteCacheMiB` → `sqlite-cache-mib`. */
function kebabCase(key: string): string {
  return key.replace(/MiB$/, 'Mib').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The command-line flag of a setting, or `undefined` when it has none. */
export function flagOf(key: SettingKey): string | undefined {
  const spec: Setting = SCHEMA[key];
  return spec.flag === false ? undefined : `--${kebabCase(key)}`;
}
