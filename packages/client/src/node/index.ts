/** Node-only parts (`@tessera/client/node`): they import `node:` modules, so the browser core never does. */
export { inProcessCoordinator } from '../coordinator/in-process.js';
export type { EncryptedFileStorageOptions } from './encrypted-file-storage.js';
export { encryptedFileStorage } from './encrypted-file-storage.js';
