import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.TESSERA_TEST_REDIS_URL;

/**
 * Whether Redis tests run: always when `TESSERA_TEST_REDIS_URL` is set; on CI a missing URL is a
 * failure, not a skip.
 */
export function redisSkip(): false | string {
  if (REDIS_URL) return false;
  if (process.env.CI) throw new Error('TESSERA_TEST_REDIS_URL must be set on CI');
  return 'TESSERA_TEST_REDIS_URL is not set';
}

/** A key prefix of its own for one test run. */
export function testPrefix(): string {
  return `tessera-test:${process.pid}-${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key under `prefix` (the run's own), through a connection of its own. */
export async function dropPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}

/** How many keys are under `prefix`. */
export async function countKeys(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    n += keys.length;
  } while (cursor !== '0');
  return n;
}
