import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, open, readFile, rename, unlink } from 'node:fs/promises';
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

const empty = (): FileShape => ({ v: 1, entries: {} });

/**
 * Keeps sessions in one file, each value encrypted with AES-256-GCM under a random 96-bit IV and
 * bound to its name. Writes go to a temporary file that is flushed and renamed over the old one,
 * so a crash leaves the old file or the new one, never half of a rotated refresh token.
 *
 * A file it cannot read (not JSON, truncated, tampered with, or encrypted under another key) is
 * moved aside, beside it, as `<path>.unreadable-<time>` (mode 0600, bytes untouched, for a look
 * or a restore), and the storage starts clean: the read throws once (the client emits
 * `storageError` and starts signed out) and every later write works.
 *
 * @example
 * import { encryptedFileStorage } from '@tessera/client/node';
 * const storage = encryptedFileStorage({ path: '.tessera-session', key: Buffer.from(process.env.SESSION_KEY!, 'base64') });
 */
export function encryptedFileStorage(options: EncryptedFileStorageOptions): TokenStorage {
  if (options.key.byteLength !== 32) throw new TypeError('encryptedFileStorage needs a 32-byte key');
  const key = Buffer.from(options.key);
  let queue: Promise<unknown> = Promise.resolve();

  // Reads and writes are of the whole file: serialise them within the process, so a quarantine
  // never races a write.
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => {});
    return run;
  };

  /** Moves the unreadable file aside and answers the error that says so. */
  async function quarantine(cause: unknown): Promise<Error> {
    const aside = `${options.path}.unreadable-${Date.now()}-${randomBytes(3).toString('hex')}`;
    await rename(options.path, aside);
    await chmod(aside, 0o600);
    return new Error(`The session file ${options.path} was unreadable; moved to ${aside}, starting clean`, {
      cause,
    });
  }

  /** The file's contents; `unreadable` when it had to be moved aside (the contents are then empty). */
  async function load(): Promise<{ file: FileShape; unreadable?: Error }> {
    let text: string;
    try {
      text = await readFile(options.path, 'utf8');
    } catch (error) {
      // No file is an empty store; anything else (permissions, I/O) is not ours to move.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { file: empty() };
      throw error;
    }
    let cause: unknown = new TypeError('not a session file');
    try {
      const parsed = JSON.parse(text) as FileShape;
      if (parsed?.v === 1 && typeof parsed.entries === 'object' && parsed.entries !== null)
        return { file: parsed };
    } catch (error) {
      cause = error;
    }
    return { file: empty(), unreadable: await quarantine(cause) };
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

  function decrypt(name: string, sealed: string): string {
    const bytes = Buffer.from(sealed, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
    decipher.setAAD(Buffer.from(name));
    decipher.setAuthTag(bytes.subarray(12, 28));
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
  }

  return {
    encryptedAtRest: true,
    get: (name) =>
      serial(async () => {
        const { file, unreadable } = await load();
        if (unreadable) throw unreadable;
        const sealed = file.entries[name];
        if (typeof sealed !== 'string') return null;
        try {
          return decrypt(name, sealed);
        } catch (cause) {
          throw await quarantine(cause);
        }
      }),
    set: (name, value) =>
      serial(async () => {
        const iv = randomBytes(12);
        const cipher = createCipheriv('aes-256-gcm', key, iv);
        cipher.setAAD(Buffer.from(name));
        const data = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
        const { file } = await load();
        file.entries[name] = Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64');
        await save(file);
      }),
    remove: (name) =>
      serial(async () => {
        const { file } = await load();
        if (!(name in file.entries)) return;
        delete file.entries[name];
        await save(file);
      }),
  };
}
