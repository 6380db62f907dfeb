import type { RateLimitCount, RateLimitStore } from '@tessera/server';
import type { Redis } from 'ioredis';
import { unavailable } from './connect.js';

/**
 * KEYS[1] the counter (a hash: `c` count, `r` window end). ARGV[1] windowMs, ARGV[2] now,
 * ARGV[3] the extra real-time TTL. A window starts at the first hit after the previous one ended.
 */
const HIT_SCRIPT = `
local now = tonumber(ARGV[2])
local reset = tonumber(redis.call('HGET', KEYS[1], 'r'))
if not reset or reset <= now then
  reset = now + tonumber(ARGV[1])
  redis.call('HSET', KEYS[1], 'c', 1, 'r', reset)
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[3]))
  return {1, reset}
end
return {redis.call('HINCRBY', KEYS[1], 'c', 1), reset}
`;

/** Redis's TTL outlasts a window by this much; the window end stored in the key decides. */
const TTL_MARGIN_MS = 60_000;

type HitCommand = (key: string, windowMs: string, now: string, margin: string) => Promise<[number, number]>;

/**
 * The `RateLimitStore` on Redis, shared by every instance that uses the same Redis and prefix:
 * a `hit` is one Lua script (atomic, so racing instances get distinct counts), `peek` one
 * `HMGET`, `reset` one `DEL`. Windows follow the caller's `now` (the server's clock); Redis's
 * TTL only frees the memory. An unreachable Redis throws `StoreUnavailableError`; the server
 * decides what a limit does then (it falls back to per-instance counting, see
 * `FailoverRateLimitStore` in `@tessera/server`).
 */
export class RedisRateLimitStore implements RateLimitStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #hit: HitCommand;

  constructor(redis: Redis, options: { prefix: string }) {
    this.#redis = redis;
    this.#prefix = options.prefix;
    if (!('tesseraRateLimitHit' in redis)) {
      redis.defineCommand('tesseraRateLimitHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
    }
    const command = (redis as unknown as { tesseraRateLimitHit: HitCommand }).tesseraRateLimitHit;
    this.#hit = command.bind(redis);
  }

  #key(key: string): string {
    return `${this.#prefix}rl:${key}`;
  }

  async hit(key: string, windowMs: number, now: number): Promise<RateLimitCount> {
    try {
      const [count, resetAt] = await this.#hit(
        this.#key(key),
        String(Math.ceil(windowMs)),
        String(Math.floor(now)),
        String(TTL_MARGIN_MS),
      );
      return { count: Number(count), resetAt: Number(resetAt) };
    } catch (err) {
      throw unavailable('rate-limit store', err);
    }
  }

  async peek(key: string, now: number): Promise<RateLimitCount | undefined> {
    let fields: (string | null)[];
    try {
      fields = await this.#redis.hmget(this.#key(key), 'c', 'r');
    } catch (err) {
      throw unavailable('rate-limit store', err);
    }
    const [count, resetAt] = fields;
    if (count == null || resetAt == null) return undefined;
    const end = Number(resetAt);
    if (end <= now) return undefined;
    return { count: Number(count), resetAt: end };
  }

  async reset(key: string): Promise<void> {
    try {
      await this.#redis.del(this.#key(key));
    } catch (err) {
      throw unavailable('rate-limit store', err);
    }
  }
}
