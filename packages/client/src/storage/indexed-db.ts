import type { TokenStorage } from '../core/types.js';

/** Options of {@link indexedDbStorage}. */
export interface IndexedDbStorageOptions {
  /** Database name; default `tessera`. */
  database?: string;
  /** Defaults to the global `indexedDB`. */
  indexedDB?: IDBFactory;
}

const KEY_ID = 'session-key';

/** A stored value: AES-GCM ciphertext and its IV. */
interface Sealed {
  iv: Uint8Array<ArrayBuffer>;
  data: ArrayBuffer;
}

const sameBytes = (a: unknown, b: unknown) =>
  a instanceof Uint8Array &&
  b instanceof Uint8Array &&
  a.length === b.length &&
  a.every((x, i) => x === b[i]);

function done<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = tx.onabort = () => reject(tx.error);
  });
}

/**
 * Keeps the session in IndexedDB, encrypted with AES-GCM under a non-extractable WebCrypto key
 * that itself lives in IndexedDB: script on the page can use the key but never read it out, and
 * the stored bytes alone (disk, backup, a dump of the database) reveal nothing. Each value has a
 * fresh 96-bit IV and is bound to its key name (additional data), so records cannot be swapped.
 * A record it cannot decrypt (garbled, or its key was cleared) is moved aside to
 * `<name>:unreadable:<time>` in the same store; the read throws once and later writes work.
 *
 * @example
 * createTesseraClient({ tokenEndpoint, clientId, storage: indexedDbStorage() });
 */
export function indexedDbStorage(options: IndexedDbStorageOptions = {}): TokenStorage {
  const factory = options.indexedDB ?? indexedDB;
  let db: Promise<IDBDatabase> | undefined;
  let cryptoKey: Promise<CryptoKey> | undefined;

  const open = () =>
    (db ??= new Promise((resolve, reject) => {
      const request = factory.open(options.database ?? 'tessera', 1);
      request.onupgradeneeded = () => {
        request.result.createObjectStore('keys');
        request.result.createObjectStore('values');
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    }));

  const key = () =>
    (cryptoKey ??= (async () => {
      const fresh = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
        'encrypt',
        'decrypt',
      ]);
      // Read-or-insert inside one readwrite transaction: two tabs starting at once end with one key.
      const tx = (await open()).transaction('keys', 'readwrite');
      const keys = tx.objectStore('keys');
      const existing = await done(keys.get(KEY_ID) as IDBRequest<CryptoKey | undefined>);
      if (!existing) keys.add(fresh, KEY_ID);
      await committed(tx);
      return existing ?? fresh;
    })());

  const aad = (name: string) => new TextEncoder().encode(name);

  /** Moves `record` (still the value of `name`) aside under another name, in one transaction. */
  async function quarantine(name: string, record: unknown, cause: unknown): Promise<Error> {
    const aside = `${name}:unreadable:${Date.now()}`;
    const tx = (await open()).transaction('values', 'readwrite');
    const values = tx.objectStore('values');
    // Another tab may have written a good value meanwhile: only the one we failed to read goes.
    const current = await done(values.get(name) as IDBRequest<Sealed | undefined>);
    if (current && sameBytes(current.iv, (record as Sealed).iv)) {
      values.put(current, aside);
      values.delete(name);
    }
    await committed(tx);
    return new Error(`The stored session "${name}" was unreadable; moved to "${aside}", starting clean`, {
      cause,
    });
  }

  return {
    async get(name) {
      const tx = (await open()).transaction('values', 'readonly');
      const record = await done(tx.objectStore('values').get(name) as IDBRequest<Sealed | undefined>);
      if (!record) return null;
      const cryptoKey = await key();
      try {
        const plain = await crypto.subtle.decrypt(
          { name: 'AES-GCM', iv: record.iv, additionalData: aad(name) },
          cryptoKey,
          record.data,
        );
        return new TextDecoder().decode(plain);
      } catch (cause) {
        // Garbled, or sealed under a key that is gone: kept beside it, and the name starts clean.
        throw await quarantine(name, record, cause);
      }
    },
    async set(name, value) {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const data = await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv, additionalData: aad(name) },
        await key(),
        new TextEncoder().encode(value),
      );
      const tx = (await open()).transaction('values', 'readwrite');
      tx.objectStore('values').put({ iv, data }, name);
      await committed(tx);
    },
    async remove(name) {
      const tx = (await open()).transaction('values', 'readwrite');
      tx.objectStore('values').delete(name);
      await committed(tx);
    },
  };
}
