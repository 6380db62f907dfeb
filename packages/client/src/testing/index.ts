/**
 * Test helpers for code built on the SDK (`@tessera/client/testing`, Node only: it runs on
 * `node:test`). `describeStorageConformance` is the suite every storage adapter passes;
 * `VirtualTime` a clock and scheduler for testing timing rules without sleeping.
 */
export type { StorageConformanceOptions } from './describe-storage-conformance.js';
export { describeStorageConformance } from './describe-storage-conformance.js';
export { settle, VirtualTime } from './virtual-time.js';
