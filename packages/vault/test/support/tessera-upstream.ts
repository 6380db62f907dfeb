import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENDPOINTS, encodeBasicCredentials } from '@tessera/protocol';
import {
  createTessera,
  createUser,
  loadConfig,
  ManualClock,
  saveClient,
  type Tessera,
} from '@tessera/server';
import type { TokenEndpointJson } from '../../src/index.js';
import { type FaultProxy, freePort, startProxy } from './proxy.js';

export const BACKEND_SECRET = 'vault-backend-secret-0123456789';
const PASSWORD = 'correct horse battery staple';

/** Tessera's own server as the upstream, behind a fault proxy whose URL is the issuer. */
export interface TesseraUpstream {
  issuer: string;
  proxy: FaultProxy;
  tessera: Tessera;
  clock: ManualClock;
  /** Signs a user in with the password grant (client `backend`), bypassing the proxy: the answer to `save`. */
  signIn(username?: string): Promise<TokenEndpointJson>;
  /** Rotations and grace answers counted by the server itself. */
  refreshes(): Promise<{ rotated: number; grace: number; failed: number }>;
  close(): Promise<void>;
}

export async function startTesseraUpstream(
  options: { accessTokenTtl?: number; users?: string[] } = {},
): Promise<TesseraUpstream> {
  const dir = mkdtempSync(join(tmpdir(), 'vault-upstream-'));
  const proxy = await startProxy();
  const port = await freePort();
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
  const tessera = await createTessera({
    config: loadConfig({
      env: {},
      overrides: {
        db: join(dir, 'upstream.db'),
        port,
        issuer: proxy.url,
        logLevel: 'silent',
        passwordHashCost: 10,
        rateLimitLogin: 0,
        rateLimitRefresh: 0,
        accessTokenTtl: options.accessTokenTtl ?? 900,
      },
    }),
    clock,
    masterSecret: randomBytes(32),
    background: false,
  });
  for (const username of options.users ?? ['alice', 'bob']) {
    await createUser(tessera.ctx, { username, password: PASSWORD });
  }
  await saveClient(tessera.ctx, {
    id: 'backend',
    public: false,
    secret: BACKEND_SECRET,
    grantTypes: ['refresh_token', 'password'],
  });
  await tessera.listen();
  proxy.setTarget(port);
  return {
    issuer: proxy.url,
    proxy,
    tessera,
    clock,
    async signIn(username = 'alice') {
      const res = await tessera.app.inject({
        method: 'POST',
        url: ENDPOINTS.token,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: encodeBasicCredentials('backend', BACKEND_SECRET),
        },
        payload: new URLSearchParams({ grant_type: 'password', username, password: PASSWORD }).toString(),
      });
      if (res.statusCode !== 200) throw new Error(`sign-in failed: ${res.statusCode} ${res.body}`);
      return JSON.parse(res.body) as TokenEndpointJson;
    },
    async refreshes() {
      const metric = await tessera.ctx.metrics.refreshes.get();
      const by = (r: string) =>
        metric.values.filter((v) => v.labels.result === r).reduce((a, v) => a + v.value, 0);
      const total = metric.values.reduce((a, v) => a + v.value, 0);
      return { rotated: by('rotated'), grace: by('grace'), failed: total - by('rotated') - by('grace') };
    },
    async close() {
      await proxy.close();
      await tessera.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
