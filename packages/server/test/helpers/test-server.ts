import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { TokenResponse } from '@tessera/protocol';
import { ENDPOINTS, encodeBasicCredentials } from '@tessera/protocol';
import { freePort } from '@tessera/test-support';
import {
  type ConfigInput,
  type CreateTesseraOptions,
  createTessera,
  createUser,
  loadConfig,
  ManualClock,
  saveClient,
  type Tessera,
} from '../../src/index.js';

export { freePort };

export const PASSWORD = 'correct horse battery staple';
export const SECRET = 'confidential-client-secret-0123456789';
export const RS_SECRET = 'resource-server-secret-0123456789';

export interface TestServer {
  tessera: Tessera;
  clock: ManualClock;
  /** Base URL when `listen` was asked for. */
  url: string;
  dir: string;
  dbPath: string;
  masterSecret: Buffer;
  /** Every log line the server wrote (JSON strings). */
  logs: string[];
  aliceId: string;
  /** Sign in as alice with the public client `web` (or another client). */
  login(clientId?: string): Promise<TokenResponse>;
  /** POST /oauth/token with a form body; returns status and parsed JSON. */
  token(
    form: Record<string, string>,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
  /** Refresh with the public client `web`. */
  refresh(refreshToken: string, extra?: Record<string, string>): Promise<{ status: number; body: any }>;
  introspect(token: string): Promise<any>;
  close(): Promise<void>;
}

/** The `Authorization` header of `client_secret_basic`. */
export const basic = encodeBasicCredentials;

/**
 * A server on a fresh SQLite file in a temp folder, with virtual time, seeded with:
 * user alice (password PASSWORD, role admin), public client `web`, public client `mobile`,
 * confidential client `backend` (SECRET, grants refresh_token + password + client_credentials),
 * resource server `api` (RS_SECRET, introspects any token).
 */
export async function startTestServer(
  options: {
    config?: ConfigInput;
    listen?: boolean;
    dbPath?: string;
    masterSecret?: Buffer;
    /** The virtual clock to use (with `ManualTimers` on it); a new one by default. */
    clock?: ManualClock;
  } & Partial<CreateTesseraOptions> = {},
): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-test-'));
  const dbPath = options.dbPath ?? join(dir, 'tessera.db');
  const port = options.listen ? await freePort() : 4000;
  const clock = options.clock ?? new ManualClock(Date.UTC(2026, 0, 1, 12));
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const masterSecret = options.masterSecret ?? randomBytes(32);
  const config = loadConfig({
    env: {},
    overrides: {
      db: dbPath,
      port,
      logLevel: 'info',
      passwordHashCost: 10,
      rateLimitLogin: 0,
      rateLimitRefresh: 0,
      rateLimitClientAuth: 0,
      ...options.config,
    },
  });
  const tessera = await createTessera({
    config,
    clock,
    masterSecret,
    background: options.background ?? false,
    logDestination: destination,
    ...(options.formats ? { formats: options.formats } : {}),
    ...(options.stores ? { stores: options.stores } : {}),
    ...(options.rateLimitStore ? { rateLimitStore: options.rateLimitStore } : {}),
    ...(options.setTimer ? { setTimer: options.setTimer } : {}),
    ...(options.eventSignal ? { eventSignal: options.eventSignal } : {}),
  });
  const existing = await tessera.ctx.stores.directory.findUserByUsername('alice');
  const alice =
    existing ?? (await createUser(tessera.ctx, { username: 'alice', password: PASSWORD, roles: ['admin'] }));
  if (!existing) {
    await saveClient(tessera.ctx, { id: 'web', public: true, defaultScope: 'openid profile' });
    await saveClient(tessera.ctx, { id: 'mobile', public: true });
    await saveClient(tessera.ctx, {
      id: 'backend',
      public: false,
      secret: SECRET,
      grantTypes: ['refresh_token', 'password', 'client_credentials'],
    });
    await saveClient(tessera.ctx, {
      id: 'api',
      public: false,
      secret: RS_SECRET,
      introspectAny: true,
      grantTypes: [],
    });
  }
  const url = options.listen ? await tessera.listen() : config.issuer;

  const inject = async (
    method: 'POST' | 'GET',
    path: string,
    payload: string | undefined,
    headers: Record<string, string>,
  ) => {
    const res = await tessera.app.inject({ method, url: path, payload, headers });
    let body: unknown;
    try {
      body = res.body === '' ? undefined : JSON.parse(res.body);
    } catch {
      body = res.body;
    }
    return { status: res.statusCode, body: body as any, headers: res.headers as Record<string, unknown> };
  };
  const form = (f: Record<string, string>) => new URLSearchParams(f).toString();
  const formHeaders = { 'content-type': 'application/x-www-form-urlencoded' };

  return {
    tessera,
    clock,
    url,
    dir,
    dbPath,
    masterSecret,
    logs,
    aliceId: alice.id,
    async login(clientId = 'web') {
      const res = await inject(
        'POST',
        ENDPOINTS.login,
        JSON.stringify({ username: 'alice', password: PASSWORD, client_id: clientId }),
        {
          'content-type': 'application/json',
        },
      );
      if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body as TokenResponse;
    },
    token: (f, headers = {}) => inject('POST', ENDPOINTS.token, form(f), { ...formHeaders, ...headers }),
    refresh: (refreshToken, extra = {}) =>
      inject(
        'POST',
        ENDPOINTS.token,
        form({ grant_type: 'refresh_token', client_id: 'web', refresh_token: refreshToken, ...extra }),
        formHeaders,
      ),
    async introspect(token: string) {
      const res = await inject('POST', ENDPOINTS.introspection, form({ token }), {
        ...formHeaders,
        authorization: basic('api', RS_SECRET),
      });
      if (res.status !== 200)
        throw new Error(`introspection failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
    async close() {
      await tessera.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
