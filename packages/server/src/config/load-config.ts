import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { parseSetting } from './parse-setting.js';
import {
  CONFIG_KEYS,
  type ConfigKey,
  flagOf,
  SCHEMA,
  SETTING_KEYS,
  type Setting,
  type SettingKey,
  type TesseraConfig,
} from './schema.js';

export { parseDuration } from './parse-setting.js';
export { CONFIG_KEYS, type TesseraConfig } from './schema.js';

/** Declared with the server's other errors; re-exported where configuration is loaded. */
export { ConfigError };

/** Every key a JSON config file may hold, in the schema's order. */
export const FILE_KEYS: readonly ConfigKey[] = CONFIG_KEYS.filter(
  (k) => (SCHEMA[k] as Setting).file !== false,
);

/** Raw values by setting key: strings from flags and the environment, JSON values from code. */
export type ConfigInput = Partial<Record<ConfigKey, string | number | boolean | undefined>>;

export interface LoadConfigOptions {
  /** Values from command-line flags (highest precedence). */
  flags?: ConfigInput;
  /** Environment variables; defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** A JSON config file (`--config`); else `TESSERA_CONFIG` from `env`. */
  file?: string;
  /** Values given in code, below the file and above the defaults (tests, embedders, `tessera demo`). */
  overrides?: ConfigInput;
}

/**
 * Builds the configuration: flags > environment (`TESSERA_*`) > config file > code > defaults,
 * every setting from `SCHEMA`. Validates every value once and throws a `ConfigError` naming the
 * first bad key and its source; the result is frozen.
 *
 * @example
 * const config = loadConfig({ flags: { port: 8080 } });
 */
export function loadConfig(options: LoadConfigOptions = {}): Readonly<TesseraConfig> {
  const env = options.env ?? process.env;
  const fileSource = options.file !== undefined ? flagOf('config') : SCHEMA.config.env;
  const filePath = options.file ?? nonEmpty(env[SCHEMA.config.env]);
  const fileValues = filePath === undefined ? {} : readConfigFile(filePath, fileSource);

  const out: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const spec: Setting = SCHEMA[key];
    if (spec.role === 'source') continue;
    const inConfig = spec.role === undefined;
    const flag = flagOf(key);
    const sources: [string, unknown][] = [
      ...(flag && inConfig ? [[flag, options.flags?.[key as ConfigKey]] as [string, unknown]] : []),
      [spec.env, env[spec.env]],
      ...(spec.file !== false ? [[`"${key}" in ${filePath}`, fileValues[key]] as [string, unknown]] : []),
      ...(inConfig ? [[key, options.overrides?.[key as ConfigKey]] as [string, unknown]] : []),
    ];
    const found = sources.find(([, v]) => v !== undefined && v !== '');
    if (!found) {
      if (inConfig) out[key] = spec.default;
      continue;
    }
    const [source, raw] = found;
    let value: unknown;
    try {
      value = parseSetting(spec, raw);
    } catch (err) {
      // A secret is never repeated, not even a wrong one; nor is a connection URL (its password).
      const quiet = spec.role === 'secret' || spec.kind === 'secret' || spec.kind === 'dsn';
      const got = quiet ? '' : `, got ${JSON.stringify(raw)}`;
      throw new ConfigError(`Invalid configuration: ${source}: ${(err as Error).message}${got}`);
    }
    if (inConfig) out[key] = value;
  }

  // Every setting has its default by now; only the computed ones (issuer, audience) may be missing.
  const config = out as Omit<{ -readonly [K in ConfigKey]: TesseraConfig[K] }, 'issuer' | 'audience'> & {
    issuer: string | undefined;
    audience: string | undefined;
  };
  if (config.issuer === undefined) {
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    config.issuer = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${config.port}`;
  }
  config.issuer = config.issuer.replace(/\/+$/, '');
  config.audience ??= config.issuer;
  if (config.refreshIdleTtl > config.refreshAbsoluteTtl) {
    throw new ConfigError(
      `Invalid configuration: ${SCHEMA.refreshIdleTtl.env} must not exceed ${SCHEMA.refreshAbsoluteTtl.env}` +
        ` (${config.refreshIdleTtl}s > ${config.refreshAbsoluteTtl}s)`,
    );
  }
  checkRedisPrefix(config.redisPrefix);
  return Object.freeze(config as TesseraConfig);
}

/** The Redis key prefix: printable, no spaces, short (it starts every key). */
function checkRedisPrefix(prefix: string): void {
  if (!/^[\x21-\x7e]{1,64}$/.test(prefix)) {
    throw new ConfigError(
      `Invalid configuration: ${SCHEMA.redisPrefix.env}: expected 1 to 64 printable ASCII characters without spaces`,
    );
  }
}

function readConfigFile(path: string, source: string | undefined): Record<string, unknown> {
  let values: unknown;
  try {
    values = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(
      `Invalid configuration: ${source}: cannot read config file ${path}: ${(err as Error).message}`,
    );
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new ConfigError(`Invalid configuration: config file ${path} must hold a JSON object`);
  }
  for (const key of Object.keys(values)) {
    if (!Object.hasOwn(SCHEMA, key)) {
      throw new ConfigError(
        `Invalid configuration: unknown key "${key}" in ${path} (keys are camelCase, e.g. "accessTokenTtl")`,
      );
    }
    const spec: Setting = SCHEMA[key as SettingKey];
    if (spec.file === false) {
      throw new ConfigError(
        `Invalid configuration: "${key}" in ${path}: may not be set in a file; use ${spec.env}`,
      );
    }
  }
  return values as Record<string, unknown>;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
