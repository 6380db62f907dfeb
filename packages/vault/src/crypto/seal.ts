import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DecryptionFailed } from '../errors.js';
import type { VaultKeys } from './vault-keys.js';

/** Where a sealed value lives; bound into the ciphertext as associated data. */
export interface SealContext {
  userId: string;
  connection: string;
  column: string;
}

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

// The associated data is a JSON array, so no choice of ids can make two contexts collide.
function aad(ctx: SealContext): Buffer {
  return Buffer.from(JSON.stringify(['tessera-vault', VERSION, ctx.userId, ctx.connection, ctx.column]));
}

/**
 * Encrypts `plaintext` with AES-256-GCM under the current key: a fresh random 96-bit IV per
 * value, the key id beside the value, and the user, connection and column as associated data.
 * Result: `v1.<key id>.<iv>.<ciphertext+tag>` (base64url parts).
 */
export function seal(keys: VaultKeys, ctx: SealContext, plaintext: string): string {
  const key = keys.keys.get(keys.current);
  if (!key) throw new Error(`vault key "${keys.current}" is the current key but is not among the keys`);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(ctx));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${VERSION}.${keys.current}.${iv.toString('base64url')}.${body.toString('base64url')}`;
}

/** The key id a sealed value names, or `undefined` if it is not a sealed value. */
export function sealedKeyId(sealed: string): string | undefined {
  const parts = sealed.split('.');
  return parts.length === 4 && parts[0] === VERSION ? parts[1] : undefined;
}

/** Decrypts a value from `seal`; any failure is a `DecryptionFailed`, never a plaintext or a `TypeError`. */
export function unseal(keys: VaultKeys, ctx: SealContext, sealed: string): string {
  const parts = sealed.split('.');
  const [version, keyId, ivText, bodyText] = parts;
  const where = { userId: ctx.userId, connection: ctx.connection, column: ctx.column };
  if (parts.length !== 4 || version !== VERSION || !keyId || !ivText || !bodyText) {
    throw new DecryptionFailed('malformed', where);
  }
  const key = keys.keys.get(keyId);
  if (!key) throw new DecryptionFailed('unknown_key', { ...where, keyId });
  const iv = Buffer.from(ivText, 'base64url');
  const body = Buffer.from(bodyText, 'base64url');
  if (iv.length !== IV_BYTES || body.length < TAG_BYTES)
    throw new DecryptionFailed('malformed', { ...where, keyId });
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(ctx));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(body.subarray(0, body.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    throw new DecryptionFailed('authentication_failed', { ...where, keyId });
  }
}
