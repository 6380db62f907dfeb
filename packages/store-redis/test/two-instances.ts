import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ENDPOINTS, encodeBasicCredentials } from '@tessera/protocol';
import {
  type ConfigInput,
  type CreateTesseraOptions,
  createTessera,
  createUser,
  loadConfig,
  ManualClock,
  openSqliteStores,
  saveClient,
  type Tessera,
} from '@tessera/server';
import { freePort } from '@tessera/test-support';
import { openRedis, type RedisCoordination } from '../src/index.js';

export const PASSWORD = 'correct horse battery staple';
export const RS_SECRET = 'resource-server-secret-0123456789';

export interface Instance {
  tessera: Tessera;
  url: string;
  redis: RedisCoordination;
  logs: string[];
  /** POST a form to the token endpoint (from `ip`); status and parsed body. */
  token(
    form: Record<string, string>,
    ip?: string,
  ): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
  /** POST /api/auth/login as `username` (from `ip`). */
  login(username: string, password: string, ip?: string): Promise<{ status: number; body: any }>;
  logout(refreshToken: string): Promise<number>;
  /** The JSON snapshot of the revocation feed, read from this instance. */
  feed(): Promise<{ seq: number; notices: { kind: string; value: string }[] }>;
}

/**
 * Two servers on one SQLite file and one Redis, with one virtual clock and one issuer (the load
 * balancer's URL; here instance B's), as two `tessera serve` behind a load balancer would run.
 */
export async function startTwoInstances(
  redisUrl: string,
  prefix: string,
  config: ConfigInput = {},
  options: Pick<CreateTesseraOptions, 'setTimer'> = {},
): Promise<{ a: Instance; b: Instance; clock: ManualClock; aliceId: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-redis-'));
  const db = join(dir, 'tessera.db');
  const masterSecret = randomBytes(32);
  const clock = new ManualClock(Date.now());
  const [portA, portB] = [await freePort(), await freePort()];
  const issuer = `http://127.0.0.1:${portB}`;
  const start = async (port: number): Promise<Instance> => {
    const logs: string[] = [];
    // Each instance opens the database and Redis as `tessera serve` does (stores/open-stores.ts),
    // with the test's clock for the replay store's first epoch.
    const durable = openSqliteStores({ path: db });
    const redis = await openRedis({
      url: redisUrl,
      prefix,
      durableReplay: durable.replay,
      now: () => clock.now(),
      readyTimeoutMs: 5000,
    });
    const tessera = await createTessera({
      config: loadConfig({
        env: {},
        overrides: {
          db,
          port,
          issuer,
          logLevel: 'info',
          passwordHashCost: 10,
          rateLimitLogin: 0,
          rateLimitRefresh: 0,
          rateLimitClientAuth: 0,
          directoryCacheTtl: 0,
          ...config,
        },
      }),
      clock,
      masterSecret,
      background: false,
      logDestination: new Writable({
        write(chunk, _enc, cb) {
          logs.push(String(chunk));
          cb();
        },
      }),
      stores: durable,
      replayStore: redis.replay,
      rateLimitStore: redis.rateLimits,
      revocationSignal: redis.revocationSignal,
      eventSignal: redis.eventSignal,
      ...options,
    });
    const url = await tessera.listen();
    const inject = async (path: string, payload: string, type: string, ip = '127.0.0.1') => {
      const res = await tessera.app.inject({
        method: 'POST',
        url: path,
        payload,
        headers: { 'content-type': type },
        remoteAddress: ip,
      });
      let body: unknown;
      try {
        body = res.body === '' ? undefined : JSON.parse(res.body);
      } catch {
        body = res.body;
      }
      return { status: res.statusCode, body: body as any, headers: res.headers as Record<string, unknown> };
    };
    return {
      tessera,
      url,
      redis,
      logs,
      token: (form, ip) =>
        inject(
          ENDPOINTS.token,
          new URLSearchParams(form).toString(),
          'application/x-www-form-urlencoded',
          ip,
        ),
      login: (username, password, ip) =>
        inject(
          ENDPOINTS.login,
          JSON.stringify({ username, password, client_id: 'web' }),
          'application/json',
          ip,
        ),
      async logout(refreshToken) {
        const res = await tessera.app.inject({
          method: 'POST',
          url: ENDPOINTS.logout,
          payload: JSON.stringify({ refresh_token: refreshToken }),
          headers: { 'content-type': 'application/json' },
        });
        return res.statusCode;
      },
      async feed() {
        const res = await tessera.app.inject({
          method: 'GET',
          url: ENDPOINTS.revocationFeed,
          headers: { accept: 'application/json', authorization: encodeBasicCredentials('api', RS_SECRET) },
        });
        if (res.statusCode !== 200) throw new Error(`feed: HTTP ${res.statusCode} ${res.body}`);
        return JSON.parse(res.body);
      },
    };
  };
  const a = await start(portA);
  const alice = await createUser(a.tessera.ctx, { username: 'alice', password: PASSWORD, roles: ['admin'] });
  await createUser(a.tessera.ctx, { username: 'bob', password: PASSWORD, roles: [] });
  await saveClient(a.tessera.ctx, { id: 'web', public: true, defaultScope: 'openid' });
  await saveClient(a.tessera.ctx, {
    id: 'api',
    public: false,
    secret: RS_SECRET,
    introspectAny: true,
    grantTypes: [],
  });
  const b = await start(portB);
  return {
    a,
    b,
    clock,
    aliceId: alice.id,
    async close() {
      await Promise.allSettled([a.tessera.close(), b.tessera.close()]);
      await Promise.allSettled([a.redis.close(), b.redis.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
