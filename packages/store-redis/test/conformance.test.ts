import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { openSqliteStores } from '@tessera/server';
import { describeRateLimitStoreConformance, describeReplayStoreConformance } from '@tessera/server/testing';
import type { Redis } from 'ioredis';
import { connectRedis, RedisRateLimitStore, RedisReplayStore, whenReady } from '../src/index.js';
import { countKeys, dropPrefix, REDIS_URL, redisSkip, testPrefix } from './redis-fixtures.js';

const skip = redisSkip();
const prefix = testPrefix();

describe('Redis adapters against the conformance suites', { skip }, () => {
  const url = REDIS_URL as string;
  const connections: ReturnType<typeof connectRedis>[] = [];
  // The durable state beside Redis: it tells the replay store it is a first start, not a loss.
  const durable = openSqliteStores({ path: ':memory:' });
  const replayStore = async (redis: Redis, p: string) => {
    const store = new RedisReplayStore(redis, { prefix: p, durable: durable.replay });
    await store.init(Date.now());
    return store;
  };
  const connect = async () => {
    const redis = connectRedis({ url });
    connections.push(redis);
    await whenReady(redis, 5000);
    return redis;
  };

  after(async () => {
    await dropPrefix(url, prefix);
    await Promise.all(connections.map((r) => r.quit()));
    await durable.close();
  });

  describeReplayStoreConformance('redis', async () => {
    const redis = await connect();
    return {
      store: await replayStore(redis, `${prefix}replay-${connections.length}:`),
      close: async () => {},
    };
  });

  describeRateLimitStoreConformance('redis', async () => {
    const redis = await connect();
    return new RedisRateLimitStore(redis, { prefix: `${prefix}rl-${connections.length}:` });
  });

  it('every key the adapters write carries a TTL, and lives under the prefix', async () => {
    const redis = await connect();
    const p = `${prefix}ttl:`;
    const now = Date.now();
    await (await replayStore(redis, p)).insertIfAbsent('k', now + 10_000, now);
    await new RedisRateLimitStore(redis, { prefix: p }).hit('k', 60_000, now);
    const keys = await redis.keys(`${p}*`);
    assert.equal(await countKeys(redis, p), 3, keys.join(', '));
    for (const key of keys) {
      const ttl = await redis.pttl(key);
      if (key.endsWith('replay-epoch')) assert.equal(ttl, -1, 'the epoch has no TTL');
      else assert.ok(ttl > 0, `${key} has a TTL`);
    }
  });

  it('two stores on one prefix (two instances) share one single-use key and one budget', async () => {
    const a = await connect();
    const b = await connect();
    const p = `${prefix}shared:`;
    const now = Date.now();
    const ra = await replayStore(a, p);
    const rb = await replayStore(b, p);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? ra : rb).insertIfAbsent('n', now + 60_000, now)),
    );
    assert.equal(answers.filter(Boolean).length, 1);
    const la = new RedisRateLimitStore(a, { prefix: p });
    const lb = new RedisRateLimitStore(b, { prefix: p });
    const counts = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? la : lb).hit('ip', 60_000, now)),
    );
    assert.deepEqual(
      counts.map((c) => c.count).sort((x, y) => x - y),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
  });
});
