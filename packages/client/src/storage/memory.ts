import type { TokenStorage } from '../core/types.js';

/**
 * Keeps the session in memory only (the default): it ends with the page or process.
 *
 * @example
 * createTesseraClient({ tokenEndpoint, clientId, storage: memoryStorage() });
 */
export function memoryStorage(): TokenStorage {
  const values = new Map<string, string>();
  return {
    get: (key) => values.get(key) ?? null,
    set: (key, value) => {
      values.set(key, value);
    },
    remove: (key) => {
      values.delete(key);
    },
  };
}
