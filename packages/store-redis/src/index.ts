export {
  CONNECTION_DEFAULTS,
  connectRedis,
  type RedisConnectionOptions,
  whenReady,
} from './connect.js';
export { DEFAULT_PREFIX, type OpenRedisOptions, openRedis, type RedisCoordination } from './open-redis.js';
export { RedisRateLimitStore } from './rate-limit-store.js';
export { RedisReplayStore, type RedisReplayStoreOptions } from './replay-store.js';
export { RedisRevocationSignal } from './revocation-signal.js';
