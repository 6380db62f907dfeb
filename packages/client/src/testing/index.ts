/**
 * Test helpers for code built on the SDK (`@tessera/client/testing`, Node only: it runs on
 * `node:test`). `describeStorageConformance` is the suite every storage adapter passes.
 */
export type { StorageConformanceOptions } from './describe-storage-conformance.js';
export { describeStorageConformance } from './describe-storage-conformance.js';
