import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ENDPOINTS, type TokenResponse } from '@tessera/protocol';
import {
  createTessera,
  createUser,
  loadConfig,
  ManualClock,
  saveClient,
  type Tessera,
} from '@tessera/server';
import { freePort } from '@tessera/test-support';

export const ADMIN = { username: 'admin', password: 'admin-password' };
export const USER_PASSWORD = 'correct horse battery staple';

/** Real browsers' user agents, so that the sessions list shows parsed devices. */
export const AGENTS = {
  chromeMac:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  firefoxWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0',
  safariIphone:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1',
} as const;

export interface DashboardServer {
  tessera: Tessera;
  clock: ManualClock;
  url: string;
  /** A real sign-in of a user over the first-party login endpoint, from `ip` with `userAgent`. */
  login(
    username: string,
    from?: { ip?: string; userAgent?: string; clientId?: string },
  ): Promise<TokenResponse & { sid: string }>;
  /** A refresh as the user's app sends it. */
  refresh(
    refreshToken: string,
    from?: { ip?: string; userAgent?: string; clientId?: string },
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

/**
 * A listening server on a fresh SQLite file, on virtual time, behind a trusted proxy (so that a
 * test can sign in "from" different IPs with `X-Forwarded-For`), seeded with the admin, the users
 * carol and dave, the non-admin bob, and the public clients `web` and `mobile`.
 */
export async function startDashboardServer(): Promise<DashboardServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-dashboard-'));
  const clock = new ManualClock(Date.UTC(2026, 0, 12, 9, 30));
  const port = await freePort();
  const config = loadConfig({
    env: {},
    overrides: {
      db: join(dir, 'tessera.db'),
      host: '127.0.0.1',
      port,
      logLevel: 'warn',
      passwordHashCost: 10,
      rateLimitLogin: 0,
      rateLimitRefresh: 0,
      rateLimitClientAuth: 0,
      trustProxy: true,
    },
  });
  const tessera = await createTessera({
    config,
    clock,
    background: false,
    logDestination: new Writable({ write: (_c, _e, cb) => cb() }),
  });
  const { ctx } = tessera;
  await createUser(ctx, { username: ADMIN.username, password: ADMIN.password, roles: ['admin'] });
  for (const username of ['carol', 'dave', 'bob']) {
    await createUser(ctx, { username, password: USER_PASSWORD, roles: ['user'] });
  }
  await saveClient(ctx, { id: 'web', name: 'Web app', public: true });
  await saveClient(ctx, { id: 'mobile', name: 'Mobile app', public: true });
  const url = await tessera.listen();

  const headers = (from: { ip?: string; userAgent?: string }) => ({
    ...(from.ip ? { 'x-forwarded-for': from.ip } : {}),
    'user-agent': from.userAgent ?? AGENTS.chromeMac,
  });
  return {
    tessera,
    clock,
    url,
    async login(username, from = {}) {
      const res = await fetch(`${url}${ENDPOINTS.login}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers(from) },
        body: JSON.stringify({ username, password: USER_PASSWORD, client_id: from.clientId ?? 'web' }),
      });
      const body = (await res.json()) as TokenResponse;
      if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(body)}`);
      return { ...body, sid: sidOf(body.access_token) };
    },
    async refresh(refreshToken, from = {}) {
      const res = await fetch(`${url}${ENDPOINTS.token}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers(from) },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          client_id: from.clientId ?? 'web',
          refresh_token: refreshToken,
        }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    async close() {
      await tessera.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The `sid` claim of a JWT access token (read, not verified: the test's own token). */
function sidOf(jwt: string): string {
  const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
    sid?: string;
  };
  if (!payload.sid) throw new Error('the access token has no sid');
  return payload.sid;
}
