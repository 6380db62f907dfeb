import { readFileSync } from 'node:fs';
import { VAULT_ENV } from '../defaults.js';
import { VaultConfigError } from '../errors.js';

/** `{ current: 'k2', k1: '<base64 32 bytes>', k2: '<base64 32 bytes>' }`: the key ids and the one that encrypts. */
export type VaultKeysInput = { current: string } & Record<string, string>;

/** Parsed keys: every id with its 32 bytes, and the id that encrypts new values. */
export interface VaultKeys {
  readonly current: string;
  readonly keys: ReadonlyMap<string, Buffer>;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Reads the keys from `input`, else `TESSERA_VAULT_KEYS` (JSON), else the JSON file named by
 * `TESSERA_VAULT_KEYS_FILE`. A missing, short, long, malformed or unknown current key is a
 * `VaultConfigError` that names the key id, never its value.
 */
export function loadVaultKeys(
  input: VaultKeysInput | undefined,
  env: Record<string, string | undefined> = process.env,
): VaultKeys {
  if (input !== undefined) return parseVaultKeys(input, 'the keys option');
  const inline = env[VAULT_ENV.keys];
  const file = env[VAULT_ENV.keysFile];
  if (inline && file) {
    throw new VaultConfigError('Set TESSERA_VAULT_KEYS or TESSERA_VAULT_KEYS_FILE, not both');
  }
  if (inline) return parseVaultKeys(parseJson(inline, 'TESSERA_VAULT_KEYS'), 'TESSERA_VAULT_KEYS');
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new VaultConfigError(
        `TESSERA_VAULT_KEYS_FILE: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
    return parseVaultKeys(
      parseJson(text, `TESSERA_VAULT_KEYS_FILE (${file})`),
      `TESSERA_VAULT_KEYS_FILE (${file})`,
    );
  }
  throw new VaultConfigError(
    'No vault keys: pass keys: { current: "k1", k1: "<base64 of 32 random bytes>" } or set TESSERA_VAULT_KEYS / TESSERA_VAULT_KEYS_FILE (generate one with `tessera vault keygen`)',
  );
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new VaultConfigError(`${where}: expected JSON like {"current":"k1","k1":"<base64 32 bytes>"}`);
  }
}

/** Validates a keys object (see `loadVaultKeys`). */
export function parseVaultKeys(input: unknown, where: string): VaultKeys {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new VaultConfigError(`${where}: expected an object like {"current":"k1","k1":"<base64 32 bytes>"}`);
  }
  const record = input as Record<string, unknown>;
  const current = record.current;
  if (typeof current !== 'string' || current === '') {
    throw new VaultConfigError(`${where}: "current" must name the key id that encrypts new values`);
  }
  const keys = new Map<string, Buffer>();
  for (const [id, value] of Object.entries(record)) {
    if (id === 'current') continue;
    if (!KEY_ID.test(id)) {
      throw new VaultConfigError(`${where}: key id "${id.slice(0, 64)}" must be 1-64 of A-Z a-z 0-9 _ -`);
    }
    if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) {
      throw new VaultConfigError(`${where}: key "${id}" must be a base64 string of 32 bytes`);
    }
    const bytes = Buffer.from(value, value.includes('-') || value.includes('_') ? 'base64url' : 'base64');
    if (bytes.length !== 32) {
      throw new VaultConfigError(
        `${where}: key "${id}" is ${bytes.length} bytes; AES-256 needs exactly 32 (base64 of 32 random bytes)`,
      );
    }
    keys.set(id, bytes);
  }
  if (!keys.has(current)) {
    throw new VaultConfigError(
      `${where}: current key "${current}" is not defined (known: ${[...keys.keys()].join(', ') || 'none'})`,
    );
  }
  return { current, keys };
}
