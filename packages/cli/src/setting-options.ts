import {
  type ConfigInput,
  type ConfigKey,
  DEMO_DEFAULTS,
  describeDefault,
  flagOf,
  formatDuration,
  SCHEMA,
  SETTING_GROUPS,
  SETTING_KEYS,
  type Setting,
  type SettingKey,
} from '@tessera/server';
import { type Command, Option } from 'commander';

/** Which defaults a command's help shows: the server's, or `tessera demo`'s own. */
export type Profile = 'serve' | 'demo';

const PLACEHOLDER: Record<Setting['kind'], string> = {
  duration: 'duration',
  int: 'n',
  port: 'port',
  string: 'text',
  url: 'url',
  path: 'file',
  secret: 'secret',
  dsn: 'url',
  bool: 'bool',
  enum: 'value',
};

function defaultText(key: SettingKey, profile: Profile): string {
  const spec: Setting = SCHEMA[key];
  const demo = profile === 'demo' ? DEMO_DEFAULTS[key as ConfigKey] : undefined;
  if (demo === undefined) return describeDefault(key);
  return spec.kind === 'duration' && typeof demo === 'number' ? formatDuration(demo) : String(demo);
}

/** The commander option of one setting: its flag, value placeholder, help text and group, from `SCHEMA`. */
export function settingOption(key: SettingKey, profile: Profile = 'serve', grouped = true): Option {
  const spec: Setting = SCHEMA[key];
  const flag = flagOf(key);
  if (flag === undefined) throw new Error(`the setting ${key} has no flag`);
  const listed = spec.kind === 'enum' && spec.values.join('|').length <= 20;
  const value =
    spec.kind === 'bool' ? '[bool]' : listed ? `<${spec.values.join('|')}>` : `<${PLACEHOLDER[spec.kind]}>`;
  const oneOf = spec.kind === 'enum' && !listed ? ` One of ${spec.values.join(', ')}.` : '';
  const option = new Option(
    `${flag} ${value}`,
    `${spec.doc}${oneOf} (${spec.env}; default ${defaultText(key, profile)})`,
  );
  return grouped ? option.helpGroup(`${SETTING_GROUPS[spec.group]} options:`) : option;
}

/**
 * `--db`, `--database-url`, `--database-schema` and `--config` of the administrative commands,
 * from `SCHEMA` like `serve`'s: every command that opens the store can open either one.
 */
export const dbOption = (): Option => settingOption('db', 'serve', false);
export const databaseUrlOption = (): Option => settingOption('databaseUrl', 'serve', false);
export const databaseSchemaOption = (): Option => settingOption('databaseSchema', 'serve', false);
export const configOption = (): Option => settingOption('config', 'serve', false);

/** The setting keys that have a flag on `serve` and `demo` (every one but the env-only ones). */
export const FLAG_KEYS: readonly SettingKey[] = SETTING_KEYS.filter((k) => flagOf(k) !== undefined);

/**
 * Adds every setting that has a flag to a command (`serve`, `demo`), grouped in `--help` as in
 * the README. `flagValues` reads them back as `loadConfig` flags.
 */
export function addSettingOptions(command: Command, profile: Profile): Command {
  for (const key of FLAG_KEYS) command.addOption(settingOption(key, profile));
  return command;
}

/**
 * The values given by flags, by setting key (the `--config` file path is not a setting value and
 * is left out); flags not given are absent, so the environment, the file and the defaults apply.
 */
export function flagValues(command: Command): ConfigInput {
  const opts = command.opts<Record<string, unknown>>();
  const flags: Record<string, string | boolean> = {};
  for (const key of FLAG_KEYS) {
    if (key === 'config') continue;
    const option = command.options.find((o) => o.long === flagOf(key));
    const value = option ? opts[option.attributeName()] : undefined;
    if (typeof value === 'string' || typeof value === 'boolean') flags[key] = value;
  }
  return flags as ConfigInput;
}
