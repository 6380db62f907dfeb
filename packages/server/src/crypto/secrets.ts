import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseSecret } from '../config/parse-setting.js';
import { SCHEMA } from '../config/schema.js';
import { ConfigError } from '../errors.js';

/**
 * Keys derived from the server's one master secret. The master secret never sits in the
 * database: it comes from `TESSERA_SECRET` or a key file beside the database (mode 0600),
 * so a copy of the database alone reveals no token and decrypts no signing key.
 */
export interface ServerKeys {
  /** HMAC key for the lookup hash of refresh tokens, opaque tokens and client secrets. */
  readonly tokenHash: Buffer;
  /** HMAC key for the integrity tag inside refresh tokens. */
  readonly tokenTag: Buffer;
  /** Key material for sealing the grace-period response (mixed with the parent token). */
  readonly grace: Buffer;
  /** Encrypts private signing keys at rest. */
  readonly keyEncryption: Buffer;
  /** HMAC key for nonces and other values hashed before storage. */
  readonly misc: Buffer;
}

export function deriveServerKeys(master: Uint8Array): ServerKeys {
  if (master.length < 32) throw new Error('the master secret must be at least 32 bytes');
  const derive = (label: string) =>
    Buffer.from(hkdfSync('sha256', master, new Uint8Array(0), `tessera ${label}`, 32));
  return {
    tokenHash: derive('token-hash'),
    tokenTag: derive('token-tag'),
    grace: derive('grace-seal'),
    keyEncryption: derive('key-encryption'),
    misc: derive('misc'),
  };
}

/**
 * Reads the master secret: `TESSERA_SECRET` (base64url, at least 32 bytes) if set, else the key
 * file, created with a fresh random secret on first run. An in-memory database gets an
 * ephemeral secret. A shared database (`dbPath` null: PostgreSQL) has no file beside it: every
 * instance must be given the one secret in `TESSERA_SECRET`.
 */
export function loadMasterSecret(
  dbPath: string | null,
  env: Record<string, string | undefined> = process.env,
): Buffer {
  const fromEnv = env[SCHEMA.secret.env];
  if (fromEnv) {
    try {
      return parseSecret(fromEnv);
    } catch (err) {
      throw new Error(`${SCHEMA.secret.env}: ${(err as Error).message}`);
    }
  }
  if (dbPath === null) {
    throw new ConfigError(
      `${SCHEMA.secret.env} is required with ${SCHEMA.databaseUrl.env}: every instance sharing the database needs the same master secret`,
    );
  }
  if (dbPath === ':memory:') return randomBytes(32);
  const file = `${dbPath}.key`;
  if (existsSync(file)) {
    const bytes = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
    if (bytes.length < 32) throw new Error(`the key file ${file} is damaged (expected 32 bytes, base64url)`);
    return bytes;
  }
  const secret = randomBytes(32);
  writeFileSync(file, `${secret.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return secret;
}

/** HMAC-SHA256 of `value`, base64url; the lookup hash stored instead of a secret value. */
export function hmac(key: Buffer, value: string | Uint8Array): string {
  return createHmac('sha256', key).update(value).digest('base64url');
}
