import type { RateLimitStore, ReplayStore, RevocationSignal } from '@tessera/server';
import type { Redis } from 'ioredis';
import {
  CONNECTION_DEFAULTS,
  connectRedis,
  type RedisConnectionOptions,
  unavailable,
  whenReady,
} from './connect.js';
import { RedisRateLimitStore } from './rate-limit-store.js';
import { RedisReplayStore } from './replay-store.js';
import { RedisRevocationSignal } from './revocation-signal.js';

export interface OpenRedisOptions extends RedisConnectionOptions {
  /** Prefix of every key and channel, so several deployments can share one Redis (default `tessera:`). */
  prefix?: string;
  /** The durable state's replay store: lets a first start tell itself apart from a data loss (see `RedisReplayStore.init`). */
  durableReplay?: ReplayStore;
  /** How long `openRedis` waits for a first connection before it returns anyway (ms); default 2000. */
  readyTimeoutMs?: number;
  /** The server's clock, for the replay store's first epoch (default `Date.now`). */
  now?: () => number;
}

/** Everything several instances share through Redis, ready to hand to `createTessera`. */
export interface RedisCoordination {
  /** `createTessera({ replayStore })`. */
  replay: RedisReplayStore;
  /** `createTessera({ rateLimitStore })`. */
  rateLimits: RateLimitStore;
  /** `createTessera({ revocationSignal })`. */
  revocationSignal: RevocationSignal;
  /** `createTessera({ eventSignal })`: wakes the dashboard's live event tails (channel `<prefix>events`). */
  eventSignal: RevocationSignal;
  /** The command connection (for `tessera doctor` and tests). */
  redis: Redis;
  /** Throws `StoreUnavailableError` when Redis does not answer `PING`. */
  ping(): Promise<void>;
  /** Closes both connections. */
  close(): Promise<void>;
}

export const DEFAULT_PREFIX = 'tessera:';

/**
 * Opens the Redis side of a multi-instance deployment: one command connection (replay store,
 * rate limits, publishing) and one subscriber connection (revocation fan-out). It waits up to
 * `readyTimeoutMs` for Redis; when Redis is not there yet it returns all the same, and the
 * connections keep trying: meanwhile the replay store refuses (503), the rate limits count per
 * instance and the feed polls its store.
 *
 * @example
 * const redis = await openRedis({ url: 'redis://127.0.0.1:6379', durableReplay: stores.replay });
 * const tessera = await createTessera({ stores, replayStore: redis.replay, rateLimitStore: redis.rateLimits, revocationSignal: redis.revocationSignal });
 */
export async function openRedis(options: OpenRedisOptions): Promise<RedisCoordination> {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const redis = connectRedis(options);
  const subscriber = connectRedis(options);
  const replay = new RedisReplayStore(redis, {
    prefix,
    ...(options.durableReplay ? { durable: options.durableReplay } : {}),
  });
  const rateLimits = new RedisRateLimitStore(redis, { prefix });
  const revocationSignal = new RedisRevocationSignal(redis, subscriber, { prefix });
  const eventSignal = new RedisRevocationSignal(redis, subscriber, { prefix, channel: 'events' });
  const close = async () => {
    await Promise.allSettled([quit(redis), quit(subscriber)]);
  };
  const now = options.now ?? Date.now;
  try {
    await whenReady(redis, options.readyTimeoutMs ?? CONNECTION_DEFAULTS.connectTimeoutMs);
    await replay.init(now());
  } catch {
    // Not reachable yet: the connections keep trying, and the first connection does the
    // replay store's first-start check. Until then inserts fail closed.
    redis.once('ready', () => void replay.init(now()).catch(() => {}));
  }
  return {
    replay,
    rateLimits,
    revocationSignal,
    eventSignal,
    redis,
    async ping() {
      try {
        await redis.ping();
      } catch (err) {
        throw unavailable('PING', err);
      }
    },
    close,
  };
}

async function quit(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
