import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import type { TokenStorage } from '../core/types.js';

/** Options of {@link encryptedFileStorage}. */
export interface EncryptedFileStorageOptions {
  /** The file; created with mode 0600. */
  path: string;
  /** 32 bytes (AES-256), e.g. from a secret manager or `crypto.randomBytes(32)`. Never stored in the file. */
  key: Uint8Array;
}

interface FileShape {
  v: 1;
  /** name → base64(iv ‖ tag ‖ ciphertext) */
  entries: Record<string, string>;
}

/**
 * Keeps sessions in one file, each value encrypted with AES-256-GCM under a random 96-bit IV and
 * bound to its name. Writes go to a temporary file that is flushed and renamed over the old one,
 * so a crash leaves the old file or the new one, never half of a rotated refresh token.
 *
 * @example
 * import { encryptedFileStorage } from '@tessera/client/node';
 * const storage = encryptedFileStorage({ path: '.tessera-session', key: Buffer.from(process.env.SESSION_KEY!, 'base64') });
 */
export function encryptedFileStorage(options: EncryptedFileStorageOptions): TokenStorage {
  if (options.key.byteLength !== 32) throw new TypeError('encryptedFileStorage needs a 32-byte key');
  const key = Buffer.from(options.key);
  let queue: Promise<unknown> = Promise.resolve();

  // Writes are read-modify-write of the whole file: serialise them within the process.
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => {});
    return run;
  };

  async function load(): Promise<FileShape> {
    try {
      const parsed = JSON.parse(await readFile(options.path, 'utf8')) as FileShape;
      return parsed.v === 1 && typeof parsed.entries === 'object' ? parsed : { v: 1, entries: {} };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { v: 1, entries: {} };
      throw error;
    }
  }

  async function save(file: FileShape): Promise<void> {
    const temp = `${options.path}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(JSON.stringify(file));
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temp, options.path);
    } catch (error) {
      await unlink(temp).catch(() => {});
      throw error;
    }
  }

  return {
    async get(name) {
      const sealed = (await load()).entries[name];
      if (sealed === undefined) return null;
      const bytes = Buffer.from(sealed, 'base64');
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
      decipher.setAAD(Buffer.from(name));
      decipher.setAuthTag(bytes.subarray(12, 28));
      return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
    },
    set: (name, value) =>
      serial(async () => {
        const iv = randomBytes(12);
        const cipher = createCipheriv('aes-256-gcm', key, iv);
        cipher.setAAD(Buffer.from(name));
        const data = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
        const file = await load();
        file.entries[name] = Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64');
        await save(file);
      }),
    remove: (name) =>
      serial(async () => {
        const file = await load();
        if (!(name in file.entries)) return;
        delete file.entries[name];
        await save(file);
      }),
  };
}
