import {
  CONFIG_KEYS,
  type ConfigKey,
  SCHEMA,
  type Schema,
  type Setting,
  type SettingKey,
  type TesseraConfig,
} from './schema.js';

export { LOG_LEVELS, type LogLevel, SIGNING_ALGS, type SigningAlg } from './schema.js';

/** A default as declared: `undefined` for settings without one and computed ones (issuer, audience). */
type Declared = {
  readonly [K in ConfigKey]: Schema[K] extends { default: undefined }
    ? TesseraConfig[K] | undefined
    : TesseraConfig[K];
};

function pick(field: 'default' | 'demo' | 'admin'): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const spec = SCHEMA[key] as Setting;
    if (field === 'default' || spec[field] !== undefined) out[key] = spec[field];
  }
  return Object.freeze(out);
}

/**
 * Every default of the authorization server, read from `SCHEMA` (where each one's reason is),
 * so it cannot disagree with the schema. Durations are in seconds.
 */
export const DEFAULTS = pick('default') as Declared;

/** What `tessera demo` uses instead of the defaults (its own port, database, 20 s tokens, default client). */
export const DEMO_DEFAULTS = pick('demo') as Partial<Declared>;

/** What the administrative commands (`users`, `clients`, `keys`, …) use instead of the defaults. */
export const ADMIN_DEFAULTS = pick('admin') as Partial<Declared>;

/** The declared default of any setting, for docs and help texts. */
export function defaultOf(key: SettingKey): unknown {
  return SCHEMA[key].default;
}
