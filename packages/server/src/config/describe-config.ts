import { LIMIT_TABLE } from './limits.js';
import { FILE_KEYS } from './load-config.js';
import { formatDuration } from './parse-setting.js';
import {
  flagOf,
  SCHEMA,
  SETTING_GROUPS,
  SETTING_KEYS,
  type Setting,
  type SettingGroup,
  type SettingKey,
} from './schema.js';

/** A setting's value as a person writes it: durations as `15m`, numbers with their unit. */
export function formatSettingValue(spec: Setting, value: unknown): string {
  if (spec.kind === 'duration' && typeof value === 'number') return formatDuration(value);
  return String(value);
}

/** The default of a setting in words, for help texts and docs (`15m`, `http://{host}:{port}`, `unset`). */
export function describeDefault(key: SettingKey): string {
  const spec: Setting = SCHEMA[key];
  if (spec.computed !== undefined) return spec.computed;
  if (spec.default === undefined) return 'unset';
  const value = formatSettingValue(spec, spec.default);
  return spec.kind === 'int' && spec.unit ? `${value} ${spec.unit}` : value;
}

/** The value a JSON file would hold for a setting: its default, or the schema's example. */
function exampleValue(key: SettingKey): string | number | boolean | undefined {
  const spec: Setting = SCHEMA[key];
  const value = spec.default ?? spec.example;
  if (spec.kind === 'duration' && typeof value === 'number') return formatDuration(value);
  return value;
}

/**
 * A complete example configuration file: every key a file may hold, with its default, or an
 * example value for the few without one (issuer, audience, default login client).
 */
export function exampleConfigFile(): string {
  const file: Record<string, string | number | boolean | undefined> = {};
  for (const key of FILE_KEYS) file[key] = exampleValue(key);
  return `${JSON.stringify(file, null, 2)}\n`;
}

const cell = (text: string) => text.replace(/\|/g, '\\|');
const code = (text: string) => `\`${text}\``;

function defaultCell(spec: Setting): string {
  if (spec.computed !== undefined) return spec.computed;
  if (spec.default === undefined) return 'unset';
  const value = code(formatSettingValue(spec, spec.default));
  return spec.kind === 'int' && spec.unit ? `${value} ${spec.unit}` : value;
}

function settingRow(key: SettingKey): string {
  const spec: Setting = SCHEMA[key];
  const flag = flagOf(key);
  const value = defaultCell(spec);
  const extra = [
    spec.demo !== undefined ? `demo: ${code(formatSettingValue(spec, spec.demo))}` : undefined,
    spec.admin !== undefined ? `admin commands: ${code(formatSettingValue(spec, spec.admin))}` : undefined,
  ].filter((x) => x !== undefined);
  const defaults = extra.length > 0 ? `${value} (${extra.join('; ')})` : value;
  const allowed = spec.kind === 'enum' ? ` One of ${spec.values.map(code).join(', ')}.` : '';
  return `| ${[
    spec.file === false ? '—' : code(key),
    flag ? code(flag) : '—',
    code(spec.env),
    defaults,
    `${spec.doc}${allowed}`,
  ]
    .map(cell)
    .join(' | ')} |`;
}

/**
 * The README's generated configuration reference: one table per group of settings (key, flag,
 * variable, default, meaning), the example file, and the internal limits. `npm run docs:config`
 * writes it between the README's markers; a test fails when the README differs.
 */
export function renderConfigDocs(): string {
  const out: string[] = [];
  for (const group of Object.keys(SETTING_GROUPS) as SettingGroup[]) {
    const keys = SETTING_KEYS.filter((k) => SCHEMA[k].group === group);
    if (keys.length === 0) continue;
    out.push(
      `#### ${SETTING_GROUPS[group]}`,
      '',
      '| key (file) | flag | environment | default | meaning |',
      '| --- | --- | --- | --- | --- |',
      ...keys.map(settingRow),
      '',
    );
  }
  out.push(
    '#### Example configuration file',
    '',
    `Every key a file may hold (${FILE_KEYS.length}), camelCase, with its default, or an example value where`,
    'there is none. Durations take seconds or `30s` / `15m` / `12h` / `14d`; a file may hold any subset.',
    '',
    '```json',
    exampleConfigFile().trimEnd(),
    '```',
    '',
    '#### Internal limits (not configurable)',
    '',
    'Fixed numbers the server uses, declared once in `packages/server/src/config/limits.ts`:',
    '',
    '| limit | value | why |',
    '| --- | --- | --- |',
    ...Object.entries(LIMIT_TABLE).map(
      ([k, v]) => `| ${code(k)} | ${code(String(v.value))} | ${cell(v.doc)} |`,
    ),
  );
  return `${out.join('\n')}\n`;
}
