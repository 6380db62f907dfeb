import { readFileSync } from 'node:fs';
import { DEFAULTS, LOG_LEVELS, SIGNING_ALGS } from './defaults.js';

/** The validated, frozen configuration of one server. Durations are in seconds. */
export interface TesseraConfig {
  host: string;
  port: number;
  db: string;
  issuer: string;
  audience: string;
  accessTokenTtl: number;
  refreshGracePeriod: number;
  refreshIdleTtl: number;
  refreshAbsoluteTtl: number;
  accessTokenFormat: string;
  signingAlg: (typeof SIGNING_ALGS)[number];
  keyRotationInterval: number;
  keyRingRefreshInterval: number;
  rateLimitLogin: number;
  rateLimitRefresh: number;
  loginFailuresPerUser: number;
  loginLockoutWindow: number;
  bodyLimit: number;
  coalesceTimeout: number;
  nonceTtl: number;
  revocationFeedPoll: number;
  revocationFeedKeepalive: number;
  directoryCacheTtl: number;
  cleanupInterval: number;
  sqliteSynchronous: 'NORMAL' | 'FULL';
  passwordHashCost: number;
  logLevel: (typeof LOG_LEVELS)[number];
  trustProxy: boolean;
  loginDefaultClientId: string | undefined;
}

type Kind = 'duration' | 'int' | 'port' | 'string' | 'url' | 'bool' | readonly string[];

/** Each key: its type and its environment variable. Flags use the kebab-case key (`--access-token-ttl`). */
const SCHEMA: { [K in keyof TesseraConfig]: { kind: Kind; env: string; min?: number; max?: number } } = {
  host: { kind: 'string', env: 'TESSERA_HOST' },
  port: { kind: 'port', env: 'TESSERA_PORT' },
  db: { kind: 'string', env: 'TESSERA_DB' },
  issuer: { kind: 'url', env: 'TESSERA_ISSUER' },
  audience: { kind: 'string', env: 'TESSERA_AUDIENCE' },
  accessTokenTtl: { kind: 'duration', env: 'TESSERA_ACCESS_TOKEN_TTL', min: 1, max: 24 * 3600 },
  refreshGracePeriod: { kind: 'duration', env: 'TESSERA_REFRESH_GRACE_PERIOD', min: 0, max: 3600 },
  refreshIdleTtl: { kind: 'duration', env: 'TESSERA_REFRESH_IDLE_TTL', min: 1 },
  refreshAbsoluteTtl: { kind: 'duration', env: 'TESSERA_REFRESH_ABSOLUTE_TTL', min: 1 },
  accessTokenFormat: { kind: 'string', env: 'TESSERA_ACCESS_TOKEN_FORMAT' },
  signingAlg: { kind: SIGNING_ALGS, env: 'TESSERA_SIGNING_ALG' },
  keyRotationInterval: { kind: 'duration', env: 'TESSERA_KEY_ROTATION_INTERVAL', min: 0 },
  keyRingRefreshInterval: { kind: 'duration', env: 'TESSERA_KEY_RING_REFRESH_INTERVAL', min: 1 },
  rateLimitLogin: { kind: 'int', env: 'TESSERA_RATE_LIMIT_LOGIN', min: 0 },
  rateLimitRefresh: { kind: 'int', env: 'TESSERA_RATE_LIMIT_REFRESH', min: 0 },
  loginFailuresPerUser: { kind: 'int', env: 'TESSERA_LOGIN_FAILURES_PER_USER', min: 0 },
  loginLockoutWindow: { kind: 'duration', env: 'TESSERA_LOGIN_LOCKOUT_WINDOW', min: 1 },
  bodyLimit: { kind: 'int', env: 'TESSERA_BODY_LIMIT', min: 1024, max: 64 * 1024 },
  coalesceTimeout: { kind: 'duration', env: 'TESSERA_COALESCE_TIMEOUT', min: 1, max: 120 },
  nonceTtl: { kind: 'duration', env: 'TESSERA_NONCE_TTL', min: 1 },
  revocationFeedPoll: { kind: 'duration', env: 'TESSERA_REVOCATION_FEED_POLL', min: 1, max: 60 },
  revocationFeedKeepalive: { kind: 'duration', env: 'TESSERA_REVOCATION_FEED_KEEPALIVE', min: 1, max: 60 },
  directoryCacheTtl: { kind: 'duration', env: 'TESSERA_DIRECTORY_CACHE_TTL', min: 0, max: 300 },
  cleanupInterval: { kind: 'duration', env: 'TESSERA_CLEANUP_INTERVAL', min: 0 },
  sqliteSynchronous: { kind: ['NORMAL', 'FULL'], env: 'TESSERA_SQLITE_SYNCHRONOUS' },
  passwordHashCost: { kind: 'int', env: 'TESSERA_PASSWORD_HASH_COST', min: 10, max: 20 },
  logLevel: { kind: LOG_LEVELS, env: 'TESSERA_LOG_LEVEL' },
  trustProxy: { kind: 'bool', env: 'TESSERA_TRUST_PROXY' },
  loginDefaultClientId: { kind: 'string', env: 'TESSERA_LOGIN_DEFAULT_CLIENT_ID' },
};

export const CONFIG_KEYS = Object.keys(SCHEMA) as (keyof TesseraConfig)[];

/** A configuration value that is wrong; the message names the key and where it came from. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Parses `900`, `30s`, `15m`, `12h` or `14d` into seconds. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0) return value;
    throw new Error('expected a whole number of seconds');
  }
  const match = /^(\d+)\s*(s|m|h|d)?$/.exec(value.trim());
  if (!match) throw new Error('expected a duration like 900, 30s, 15m, 12h or 14d');
  return Number(match[1]) * (UNITS[match[2] ?? 's'] ?? 1);
}

export type ConfigInput = Partial<Record<keyof TesseraConfig, string | number | boolean | undefined>>;

export interface LoadConfigOptions {
  /** Values from command-line flags (highest precedence). */
  flags?: ConfigInput;
  /** Environment variables; defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** A JSON config file (`--config` / `TESSERA_CONFIG`). */
  file?: string;
  /** Values given in code (lowest precedence above the defaults); used by tests and embedders. */
  overrides?: ConfigInput;
}

/**
 * Builds the configuration: flags > environment (`TESSERA_*`) > config file > code > defaults.
 * Validates every key and throws a `ConfigError` naming the first bad one.
 *
 * @example
 * const config = loadConfig({ flags: { port: 8080 } });
 */
export function loadConfig(options: LoadConfigOptions = {}): Readonly<TesseraConfig> {
  const env = options.env ?? process.env;
  const filePath = options.file ?? env.TESSERA_CONFIG;
  let fileValues: Record<string, unknown> = {};
  if (filePath) {
    try {
      fileValues = JSON.parse(readFileSync(filePath, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(
        `Invalid configuration: cannot read config file ${filePath}: ${(err as Error).message}`,
      );
    }
    if (typeof fileValues !== 'object' || fileValues === null || Array.isArray(fileValues)) {
      throw new ConfigError(`Invalid configuration: config file ${filePath} must hold a JSON object`);
    }
    for (const key of Object.keys(fileValues)) {
      if (!Object.hasOwn(SCHEMA, key)) {
        throw new ConfigError(`Invalid configuration: unknown key "${key}" in ${filePath}`);
      }
    }
  }

  const out: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const spec = SCHEMA[key];
    const sources: [string, unknown][] = [
      [`--${kebab(key)}`, options.flags?.[key]],
      [spec.env, env[spec.env]],
      [`"${key}" in ${filePath}`, fileValues[key]],
      [key, options.overrides?.[key]],
    ];
    const found = sources.find(([, v]) => v !== undefined && v !== '');
    if (!found) {
      out[key] = DEFAULTS[key];
      continue;
    }
    const [source, raw] = found;
    try {
      out[key] = coerce(spec.kind, raw, spec.min, spec.max);
    } catch (err) {
      throw new ConfigError(
        `Invalid configuration: ${source}: ${(err as Error).message}, got ${JSON.stringify(raw)}`,
      );
    }
  }

  const config = out as unknown as TesseraConfig;
  if (config.issuer === undefined) {
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    config.issuer = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${config.port}`;
  }
  config.issuer = config.issuer.replace(/\/+$/, '');
  if (config.audience === undefined) config.audience = config.issuer;
  if (config.refreshIdleTtl > config.refreshAbsoluteTtl) {
    throw new ConfigError(
      'Invalid configuration: TESSERA_REFRESH_IDLE_TTL must not exceed TESSERA_REFRESH_ABSOLUTE_TTL' +
        ` (${config.refreshIdleTtl}s > ${config.refreshAbsoluteTtl}s)`,
    );
  }
  return Object.freeze(config);
}

function coerce(kind: Kind, raw: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): unknown {
  if (Array.isArray(kind)) {
    if (typeof raw === 'string' && kind.includes(raw)) return raw;
    throw new Error(`expected one of ${kind.join(', ')}`);
  }
  switch (kind) {
    case 'duration':
    case 'int':
    case 'port': {
      const n = kind === 'duration' ? parseDuration(raw as string | number) : toInt(raw);
      const lo = kind === 'port' ? 0 : min;
      const hi = kind === 'port' ? 65535 : max;
      if (n < lo || n > hi)
        throw new Error(`expected a value from ${lo} to ${hi}${kind === 'duration' ? ' seconds' : ''}`);
      return n;
    }
    case 'bool':
      if (raw === true || raw === 'true' || raw === '1') return true;
      if (raw === false || raw === 'false' || raw === '0') return false;
      throw new Error('expected true or false');
    case 'url': {
      if (typeof raw !== 'string') throw new Error('expected a URL');
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw new Error('expected an absolute http(s) URL');
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('expected an http(s) URL');
      if (url.search || url.hash) throw new Error('the issuer must not have a query or fragment');
      return raw;
    }
    default:
      if (typeof raw !== 'string' && typeof raw !== 'number') throw new Error('expected a string');
      return String(raw);
  }
}

function toInt(raw: unknown): number {
  const n =
    typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n)) throw new Error('expected a whole number');
  return n;
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
