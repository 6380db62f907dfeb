// `@tessera/vault/testing`: what vault store adapters import. Node only (`node:test`).
export { describeVaultStoreConformance } from './vault-store-conformance.js';
