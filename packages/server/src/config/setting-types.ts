/**
 * The shape of one setting of the configuration schema (`schema.ts`): its kind, bounds, sources
 * and documentation. The settings themselves are in `schema.ts`.
 */
import type { SettingGroup } from './schema.js';

export interface SettingBase {
  /** Environment variable; every variable the server and CLI read is named here. */
  env: `TESSERA_${string}`;
  /** What it does and why the default is what it is; one line. */
  doc: string;
  group: SettingGroup;
  /** `false`: not settable by a command-line flag (secrets would show in the process list). */
  flag?: false;
  /** `false`: not accepted in the JSON file. */
  file?: false;
  /** `secret`: never echoed in messages and kept out of `TesseraConfig`; `source`: where the others come from. */
  role?: 'secret' | 'source';
  /** Shown in docs when the default is computed at load (e.g. the issuer from host and port). */
  computed?: string;
  /** A realistic value for the README's example file when there is no default. */
  example?: string | number | boolean;
  /** Unit shown in docs for numbers that are not durations. */
  unit?: string;
}

export interface NumberSetting extends SettingBase {
  /** `duration`: whole seconds, or `30s`/`15m`/`12h`/`14d`; `int`: a whole number; `port`: 0 to 65535. */
  kind: 'duration' | 'int' | 'port';
  default: number | undefined;
  demo?: number;
  admin?: number;
  min?: number;
  max?: number;
}

export interface StringSetting extends SettingBase {
  /**
   * `url`: an absolute http(s) URL without query or fragment; `secret`: base64url of at least 32
   * bytes; `dsn`: a connection URL of one of `schemes`, whose password is never echoed.
   */
  kind: 'string' | 'url' | 'path' | 'secret' | 'dsn';
  /** The URL schemes a `dsn` accepts, without `:`. */
  schemes?: readonly string[];
  default: string | undefined;
  demo?: string;
  admin?: string;
}

export interface BoolSetting extends SettingBase {
  kind: 'bool';
  default: boolean;
  demo?: boolean;
  admin?: boolean;
}

export interface EnumSetting extends SettingBase {
  kind: 'enum';
  values: readonly string[];
  default: string | undefined;
  demo?: string;
  admin?: string;
}

export type Setting = NumberSetting | StringSetting | BoolSetting | EnumSetting;
