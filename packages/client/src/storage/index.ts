/** Browser storage adapters (`@tessera/client/storage`). Memory storage is in the core. */

export type { IndexedDbStorageOptions } from './indexed-db.js';
export { indexedDbStorage } from './indexed-db.js';
export { memoryStorage } from './memory.js';
export { webStorage } from './web-storage.js';
