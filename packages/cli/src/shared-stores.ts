import type { CreateTesseraOptions, TesseraConfig } from '@tessera/server';

/**
 * What several instances share beside the database, from the configuration: with `redisUrl`,
 * the Redis replay store, rate-limit counters and revocation signal of `@tessera/store-redis`,
 * loaded only then (a deployment without Redis never loads ioredis). Without it, nothing: the
 * server keeps them in this process.
 */
export function sharedStoresFor(
  config: Pick<TesseraConfig, 'redisUrl' | 'redisPrefix'>,
): CreateTesseraOptions['openShared'] {
  const url = config.redisUrl;
  if (url === undefined) return undefined;
  return async (durable) => {
    const { openRedis } = await import('@tessera/store-redis');
    const redis = await openRedis({ url, prefix: config.redisPrefix, durableReplay: durable.replay });
    return {
      replayStore: redis.replay,
      rateLimitStore: redis.rateLimits,
      revocationSignal: redis.revocationSignal,
      close: () => redis.close(),
    };
  };
}

/** A Redis URL without its password, for banners and `tessera doctor`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(a Redis URL that does not parse)';
  }
}
