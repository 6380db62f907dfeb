import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { hasErrorCode, openSqliteStores } from '@tessera/server';
import { freePort } from '@tessera/test-support';
import { connectRedis, openRedis, RedisRateLimitStore, RedisReplayStore, whenReady } from '../src/index.js';
import { dropPrefix, REDIS_URL, redisSkip, testPrefix } from './redis-fixtures.js';

const skip = redisSkip();
const prefix = testPrefix();
const HOUR = 3_600_000;

describe('the replay store after Redis lost its data (epoch check)', { skip }, () => {
  const url = REDIS_URL as string;
  const redis = connectRedis({ url });
  const durable = openSqliteStores({ path: ':memory:' });
  after(async () => {
    await dropPrefix(url, prefix);
    await redis.quit();
    await durable.close();
  });

  it('a first start waits for nothing; after a loss a value accepted before it is never accepted again', async () => {
    await whenReady(redis, 5000);
    const p = `${prefix}loss:`;
    const T = 1_900_000_000_000;
    const store = new RedisReplayStore(redis, { prefix: p, durable: durable.replay });
    await store.init(T);
    assert.equal(await store.insertIfAbsent('nonce-a', T + HOUR, T), true, 'first start: no wait');
    assert.equal(await store.insertIfAbsent('nonce-a', T + HOUR + 10, T + 10), false);

    // Redis restarts empty: every key of the prefix is gone, the epoch too. The first insert after
    // it finds no epoch and starts one at its own time.
    const keys = await redis.keys(`${p}*`);
    await redis.del(...keys);
    // An instance starting now finds the deployment already recorded: no fresh start.
    const restarted = new RedisReplayStore(redis, { prefix: p, durable: durable.replay });
    await restarted.init(T + 20);

    const at = T + 30 * 60_000;
    await assert.rejects(
      store.insertIfAbsent('nonce-a', at + HOUR, at),
      (err: Error) => hasErrorCode(err, 'ERR_TESSERA_STORE_UNAVAILABLE') && /lost its data/.test(err.message),
      'the replayed nonce is refused, not accepted',
    );
    await assert.rejects(
      store.insertIfAbsent('nonce-new', at + 2 * HOUR - 1, at + HOUR - 1),
      /lost its data/,
    );
    // A value whose whole lifetime lies after the loss cannot have been seen before it.
    const later = at + HOUR;
    assert.equal(await store.insertIfAbsent('nonce-a', later + HOUR, later), true);
    assert.equal(await store.insertIfAbsent('nonce-a', later + HOUR, later + 1), false);
    // Shorter-lived values are answered sooner: one minute after the epoch, a one-minute value.
    await assert.rejects(store.insertIfAbsent('short', at + 60_000, at), /lost its data/);
    assert.equal(await store.insertIfAbsent('short', at + 120_000, at + 60_000), true);
  });

  it('fails closed when Redis cannot be reached: it throws at once, never answers true', async () => {
    const port = await freePort();
    const down = connectRedis({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 200 });
    try {
      const store = new RedisReplayStore(down, { prefix });
      const limits = new RedisRateLimitStore(down, { prefix });
      const started = Date.now();
      await assert.rejects(store.insertIfAbsent('k', Date.now() + 1000, Date.now()), (err: Error) =>
        hasErrorCode(err, 'ERR_TESSERA_STORE_UNAVAILABLE'),
      );
      await assert.rejects(limits.hit('k', 1000, Date.now()), (err: Error) =>
        hasErrorCode(err, 'ERR_TESSERA_STORE_UNAVAILABLE'),
      );
      assert.ok(Date.now() - started < 1000, 'no offline queue: refused at once');
    } finally {
      down.disconnect();
    }
  });

  it('openRedis returns while Redis is unreachable, and its messages never hold the password', async () => {
    const port = await freePort();
    const opened = await openRedis({
      url: `redis://user:hunter2-secret@127.0.0.1:${port}`,
      readyTimeoutMs: 100,
      connectTimeoutMs: 100,
    });
    try {
      const err = await opened.ping().then(
        () => undefined,
        (e: Error) => e,
      );
      assert.ok(err && hasErrorCode(err, 'ERR_TESSERA_STORE_UNAVAILABLE'));
      assert.doesNotMatch(String(err?.message), /hunter2/);
    } finally {
      await opened.close();
    }
  });
});
