/**
 * oidc-provider's adapter on Redis, after the pattern of its own example adapter
 * (`example/adapters/redis.js` in the oidc-provider repository): each model instance is its
 * payload's JSON under `<model>:<id>` with the instance's expiry as the key's TTL (a hash with a
 * `payload` field for the consumable models, so `consume` sets one field), the keys of a grant in
 * a per-grant set (`grant:<grantId>`, for `revokeByGrantId`), and `uid:` / `userCode:` index keys.
 * Every key sits under a prefix of its own on the shared Redis service, and `close` deletes them.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Multi {
  hset(key: string, field: string, value: string): Multi;
  set(key: string, value: string): Multi;
  expire(key: string, seconds: number): Multi;
  sadd(key: string, member: string): Multi;
  del(key: string): Multi;
  exec(): Promise<unknown>;
}
interface RedisClient {
  multi(): Multi;
  ttl(key: string): Promise<number>;
  get(key: string): Promise<string | null>;
  hgetall(key: string): Promise<Record<string, string>>;
  hset(key: string, field: string, value: string): Promise<number>;
  del(...keys: string[]): Promise<number>;
  smembers(key: string): Promise<string[]>;
  scan(cursor: string, ...args: (string | number)[]): Promise<[string, string[]]>;
  quit(): Promise<unknown>;
}

const PEERS = fileURLToPath(new URL('../.peers/node_modules/', import.meta.url));
const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
]);
const CONSUMABLE = new Set([
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
]);

export async function openRedisAdapter() {
  const require = createRequire(join(PEERS, 'bench.cjs'));
  const Redis = require('ioredis') as new (url: string, opts: Record<string, unknown>) => RedisClient;
  const prefix = `tessera-bench-oidc-${process.pid}-${randomBytes(4).toString('hex')}:`;
  const url = process.env.TESSERA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const client = new Redis(url, { keyPrefix: prefix, maxRetriesPerRequest: 2, enableAutoPipelining: false });
  const grantKey = (id: string) => `grant:${id}`;

  class Adapter {
    constructor(private readonly model: string) {}
    private key(id: string) {
      return `${this.model}:${id}`;
    }
    async upsert(id: string, payload: Record<string, unknown>, expiresIn: number) {
      const key = this.key(id);
      const multi = client.multi();
      if (CONSUMABLE.has(this.model)) multi.hset(key, 'payload', JSON.stringify(payload));
      else multi.set(key, JSON.stringify(payload));
      if (expiresIn) multi.expire(key, expiresIn);
      const grantId = payload.grantId as string | undefined;
      if (GRANTABLE.has(this.model) && grantId) {
        const gk = grantKey(grantId);
        multi.sadd(gk, key);
        // The grant's set lives as long as its longest-lived member.
        const ttl = await client.ttl(gk);
        if (expiresIn > ttl) multi.expire(gk, expiresIn);
      }
      for (const [field, index] of [
        ['userCode', 'userCode'],
        ['uid', 'uid'],
      ] as const) {
        const value = payload[field] as string | undefined;
        if (value) {
          multi.set(`${index}:${value}`, id);
          if (expiresIn) multi.expire(`${index}:${value}`, expiresIn);
        }
      }
      await multi.exec();
    }
    async find(id: string) {
      if (CONSUMABLE.has(this.model)) {
        const data = await client.hgetall(this.key(id));
        if (!data || Object.keys(data).length === 0) return undefined;
        const { payload, ...rest } = data;
        return { ...rest, ...(JSON.parse(payload ?? '{}') as Record<string, unknown>) };
      }
      const data = await client.get(this.key(id));
      return data ? (JSON.parse(data) as Record<string, unknown>) : undefined;
    }
    async findByUid(uid: string) {
      const id = await client.get(`uid:${uid}`);
      return id ? this.find(id) : undefined;
    }
    async findByUserCode(userCode: string) {
      const id = await client.get(`userCode:${userCode}`);
      return id ? this.find(id) : undefined;
    }
    async consume(id: string) {
      await client.hset(this.key(id), 'consumed', String(Math.floor(Date.now() / 1000)));
    }
    async destroy(id: string) {
      await client.del(this.key(id));
    }
    async revokeByGrantId(grantId: string) {
      const multi = client.multi();
      for (const key of await client.smembers(grantKey(grantId))) multi.del(key);
      multi.del(grantKey(grantId));
      await multi.exec();
    }
  }

  return {
    Adapter,
    prefix,
    /** Deletes every key under the prefix, then disconnects. */
    async close() {
      let cursor = '0';
      do {
        // SCAN matches full key names; ioredis does not prefix the pattern, and DEL would prefix
        // again, so the prefix is cut off the names found.
        const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await client.del(...keys.map((k) => k.slice(prefix.length)));
      } while (cursor !== '0');
      await client.quit();
    },
  };
}
