// `@tessera/server/testing`: what store adapters import to prove themselves. Node only (`node:test`).
export { describeReplayStoreConformance, type OpenedPort } from './replay-store-conformance.js';
export { describeStoreConformance } from './store-conformance.js';
