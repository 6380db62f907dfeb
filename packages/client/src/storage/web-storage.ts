import type { TokenStorage } from '../core/types.js';

/**
 * Keeps the session in `localStorage` (shared by the tabs of an origin, survives reloads) or
 * `sessionStorage`. Plain text, readable by any script on the origin: prefer
 * {@link indexedDbStorage} where an XSS must not be able to lift the refresh token in one read.
 *
 * @example
 * createTesseraClient({ tokenEndpoint, clientId, storage: webStorage(localStorage) });
 */
export function webStorage(store: Storage = localStorage): TokenStorage {
  return {
    get: (key) => store.getItem(key),
    // setItem replaces one key at once: atomic for our purpose.
    set: (key, value) => store.setItem(key, value),
    remove: (key) => store.removeItem(key),
  };
}
