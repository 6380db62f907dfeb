import { createCipheriv, createDecipheriv } from 'node:crypto';
import { randomBytesFast } from './random.js';

/** AES-256-GCM with a random 96-bit IV: `iv || tag || ciphertext`. `aad` binds the box to its context. */
export function seal(key: Uint8Array, plaintext: Uint8Array, aad: string): Buffer {
  const iv = randomBytesFast(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

/** Opens a box made by `seal`; `undefined` when the key, AAD or box is wrong. */
export function open(key: Uint8Array, box: Uint8Array, aad: string): Buffer | undefined {
  if (box.length < 28) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, box.subarray(0, 12));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(box.subarray(12, 28));
    return Buffer.concat([decipher.update(box.subarray(28)), decipher.final()]);
  } catch {
    return undefined;
  }
}
