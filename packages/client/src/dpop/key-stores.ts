import type { TokenStorage } from '../core/types.js';
import { thumbprintOf } from './sign-proof.js';

/** The key pair proofs are signed with: a non-extractable private key, its public JWK and thumbprint. */
export interface DpopKeyPair {
  privateKey: CryptoKey;
  jwk: JsonWebKey;
  jkt: string;
}

/** Where the key pair lives. `load` returns the stored pair, making (and storing) one the first time. */
export interface DpopKeyStore {
  load(): Promise<DpopKeyPair>;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;

async function pairOf(privateKey: CryptoKey, publicKey: CryptoKey): Promise<DpopKeyPair> {
  const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', publicKey);
  const jwk = { kty, crv, x, y };
  return { privateKey, jwk, jkt: await thumbprintOf(jwk) };
}

/** A key pair that lives as long as the process (or the page): a new sign-in after a restart. */
export function memoryKeyStore(): DpopKeyStore {
  let pair: Promise<DpopKeyPair> | undefined;
  return {
    load() {
      pair ??= crypto.subtle
        .generateKey(ALGORITHM, false, ['sign', 'verify'])
        .then((k) => pairOf(k.privateKey, k.publicKey));
      return pair;
    },
  };
}

function done<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/**
 * The browser's store: the `CryptoKeyPair` itself in IndexedDB (structured clone keeps a
 * non-extractable key usable and unreadable), one per origin, so every tab proves the same key
 * and a refresh by any tab is accepted for the session. The first tab to store a pair wins
 * (`add` is atomic); a tab that lost the race uses the winner's.
 */
export function indexedDbKeyStore(options: { database?: string; indexedDB?: IDBFactory } = {}): DpopKeyStore {
  const factory = options.indexedDB ?? indexedDB;
  const name = options.database ?? 'tessera-dpop';
  const open = async () => {
    const request = factory.open(name, 1);
    request.onupgradeneeded = () => request.result.createObjectStore('keys');
    return done(request);
  };
  const read = async (db: IDBDatabase) =>
    done(db.transaction('keys', 'readonly').objectStore('keys').get('default')) as Promise<
      CryptoKeyPair | undefined
    >;
  return {
    async load() {
      const db = await open();
      try {
        let stored = await read(db);
        if (!stored) {
          const fresh = await crypto.subtle.generateKey(ALGORITHM, false, ['sign', 'verify']);
          try {
            await done(db.transaction('keys', 'readwrite').objectStore('keys').add(fresh, 'default'));
            stored = fresh;
          } catch {
            // Another tab stored its pair first: use that one.
            stored = await read(db);
            if (!stored) throw new Error('@tessera/client/dpop: the key pair could not be stored');
          }
        }
        return pairOf(stored.privateKey, stored.publicKey);
      } finally {
        db.close();
      }
    },
  };
}

/**
 * A store on a `TokenStorage` that encrypts at rest, i.e. Node's `encryptedFileStorage`: the
 * private key as a JWK inside the storage's value (encrypted by that storage), imported
 * non-extractable when loaded, so the running process can sign but not read it out. A storage
 * that does not say `encryptedAtRest: true` (localStorage, a plain file, memory) is refused: it
 * would keep the private key readable, which is what DPoP exists to prevent. In browsers use
 * `indexedDbKeyStore()` (a non-extractable key), the default.
 *
 * @throws TypeError when the storage does not encrypt at rest.
 */
export function storageKeyStore(storage: TokenStorage, key = 'tessera:dpop-key'): DpopKeyStore {
  if (storage.encryptedAtRest !== true) {
    throw new TypeError(
      '@tessera/client/dpop: storageKeyStore keeps the private key in the storage, so it needs one that encrypts at rest (encryptedFileStorage from @tessera/client/node); in browsers use indexedDbKeyStore()',
    );
  }
  let pair: Promise<DpopKeyPair> | undefined;
  const load = async () => {
    const stored = await storage.get(key);
    let jwk: JsonWebKey;
    if (stored) {
      jwk = JSON.parse(stored) as JsonWebKey;
    } else {
      const made = await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
      jwk = await crypto.subtle.exportKey('jwk', made.privateKey);
      await storage.set(key, JSON.stringify(jwk));
    }
    const { kty, crv, x, y } = jwk;
    const privateKey = await crypto.subtle.importKey('jwk', jwk, ALGORITHM, false, ['sign']);
    const publicKey = await crypto.subtle.importKey('jwk', { kty, crv, x, y }, ALGORITHM, true, ['verify']);
    return pairOf(privateKey, publicKey);
  };
  return {
    load() {
      pair ??= load();
      return pair;
    },
  };
}
