/**
 * Test helpers for code built on the SDK (`@tessera/client/testing`, Node only: it runs on
 * `node:test`). `describeStorageConformance` is the suite every storage adapter passes.
 */
export { describeStorageConformance } from './describe-storage-conformance.js';
