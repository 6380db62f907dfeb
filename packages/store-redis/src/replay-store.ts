import type { ReplayStore } from '@tessera/server';
import { StoreUnavailableError } from '@tessera/server';
import type { Redis } from 'ioredis';
import { unavailable } from './connect.js';

/**
 * KEYS[1] the value's key, KEYS[2] the store's epoch. ARGV[1] expiresAt, ARGV[2] now (ms),
 * ARGV[3] the extra real-time TTL. Answers 1 (recorded), 0 (already recorded), or -epoch when
 * the store's epoch is too recent to be sure the key was never recorded before it.
 *
 * A key holds its own expiry, compared with the caller's `now` (the server's clock), so expiry
 * follows the server's clock; Redis's TTL (the same span plus a margin) only frees the memory.
 * A missing epoch means Redis lost its data (or never had any): the epoch becomes `now`.
 */
const INSERT_SCRIPT = `
local exp = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local epoch = tonumber(redis.call('GET', KEYS[2]))
if not epoch then
  redis.call('SET', KEYS[2], ARGV[2])
  epoch = now
end
if now - epoch < exp - now then
  return -epoch - 1
end
local held = tonumber(redis.call('GET', KEYS[1]))
if held and held > now then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', math.max(1, exp - now) + tonumber(ARGV[3]))
return 1
`;

/** Redis's own TTL outlasts a key's expiry by this much (clocks drift; the expiry decides). */
const TTL_MARGIN_MS = 60_000;

/** The durable store's record that this deployment has used a Redis replay store with a prefix. */
const MARKER_TTL_MS = 100 * 365 * 86_400_000;

type InsertCommand = (
  key: string,
  epochKey: string,
  exp: string,
  now: string,
  margin: string,
) => Promise<number>;

export interface RedisReplayStoreOptions {
  /** Key prefix shared with the other adapters (default `tessera:`). */
  prefix: string;
  /**
   * The durable state's own replay store (SQLite or PostgreSQL). `init` records there that this
   * deployment uses Redis with this prefix, which tells a fresh Redis (first start: no epoch
   * wait) from one that lost its data (an epoch wait).
   */
  durable?: ReplayStore;
}

/**
 * The replay store on Redis: `insertIfAbsent` is one Lua script (atomic on the Redis server, so
 * of many concurrent inserts of one key across every instance exactly one answers true). It
 * fails closed: an unreachable Redis, a timeout or an error throws `StoreUnavailableError`, never
 * true.
 *
 * **The epoch check.** Redis may lose what it held (a restart without persistence, a failover
 * to a replica that lagged). Every key remembered before the loss is gone, so a nonce accepted
 * just before it would be accepted again. The store keeps an epoch: the server time from which
 * its memory is complete. When the epoch key is missing the store has lost its data, and the
 * epoch becomes now. An insert whose lifetime (`expiresAt - now`) reaches back before the epoch
 * is refused with `StoreUnavailableError` (503, retryable): the same key might have been
 * recorded, and still be live, before the loss. Once `now - epoch` exceeds the lifetime, every
 * key recorded before the loss has expired anyway and inserts are answered again.
 */
export class RedisReplayStore implements ReplayStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #durable: ReplayStore | undefined;
  readonly #insert: InsertCommand;

  constructor(redis: Redis, options: RedisReplayStoreOptions) {
    this.#redis = redis;
    this.#prefix = options.prefix;
    this.#durable = options.durable;
    if (!('tesseraReplayInsert' in redis)) {
      redis.defineCommand('tesseraReplayInsert', { numberOfKeys: 2, lua: INSERT_SCRIPT });
    }
    const command = (redis as unknown as { tesseraReplayInsert: InsertCommand }).tesseraReplayInsert;
    this.#insert = command.bind(redis);
  }

  get epochKey(): string {
    return `${this.#prefix}replay-epoch`;
  }

  /**
   * Sets the epoch when this deployment has never used this Redis prefix before (recorded in the
   * durable store): a fresh start has nothing to forget, so no insert waits. Otherwise a missing
   * epoch is left for the first insert, which starts the wait. Without a durable store, every
   * missing epoch is treated as a loss.
   */
  async init(now: number): Promise<void> {
    if (!this.#durable) return;
    const first = await this.#durable.insertIfAbsent(
      `redis-replay-store:${this.#prefix}`,
      now + MARKER_TTL_MS,
      now,
    );
    if (!first) return;
    try {
      // Two instances starting together on a fresh deployment: the one that recorded the marker
      // writes 0, over whatever epoch the other may have just started.
      await this.#redis.set(this.epochKey, '0');
    } catch (err) {
      throw unavailable('replay store (epoch)', err);
    }
  }

  async insertIfAbsent(key: string, expiresAt: number, now: number): Promise<boolean> {
    let answer: number;
    try {
      answer = await this.#insert(
        `${this.#prefix}replay:${key}`,
        this.epochKey,
        String(Math.ceil(expiresAt)),
        String(Math.floor(now)),
        String(TTL_MARGIN_MS),
      );
    } catch (err) {
      throw unavailable('replay store', err);
    }
    if (answer < 0) {
      const epoch = -answer - 1;
      const until = epoch + (expiresAt - now);
      throw new StoreUnavailableError(
        `the Redis replay store lost its data at ${new Date(epoch).toISOString()}; values this long-lived are refused until ${new Date(until).toISOString()}`,
      );
    }
    return answer === 1;
  }
}
