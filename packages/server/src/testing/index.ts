// `@tessera/server/testing`: what store adapters and crash tests import. Node only (`node:test`).
export { newFamily, newToken, T0 } from './fixtures.js';
export { describeRateLimitStoreConformance } from './rate-limit-store-conformance.js';
export { describeReplayStoreConformance, type OpenedPort } from './replay-store-conformance.js';
export {
  ROTATION_FAULT_POINTS,
  type RotationFaultOptions,
  type RotationFaultPoint,
  withRotationFault,
} from './rotation-fault.js';
export { describeStoreConformance } from './store-conformance.js';
