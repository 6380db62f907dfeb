// The virtual clock is part of the SDK's testing subpath; the tests here use it from there.
export { settle, VirtualTime } from '../../src/testing/virtual-time.js';
