import { randomBytes } from 'node:crypto';

/** A new vault key: 32 random bytes, base64 (what `tessera vault keygen` prints). */
export function generateVaultKey(): string {
  return randomBytes(32).toString('base64');
}
