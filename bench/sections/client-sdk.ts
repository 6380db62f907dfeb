/**
 * Client SDKs, in this process: refresh requests for 1,000 concurrent "give me a token" calls at
 * expiry, added time per call with a cached token, and bundle size min+gzip.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { createTesseraClient } from '@tessera/client';
import { build } from 'esbuild';
import { median, sleep } from '../lib/stats.js';

export const PEERS_DIR = fileURLToPath(new URL('../.peers', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface SdkRow {
  name: string;
  version: string;
  /** Token requests caused by 1,000 concurrent calls at expiry. */
  refreshes: number | string;
  /** How many distinct tokens the 1,000 callers got (1 = all the same). */
  distinct: number | string;
  /** What was called 1,000 times. */
  concurrentCall: string;
  /** Added time per call with a valid cached token, nanoseconds (over awaiting a resolved value). */
  cachedNs: number;
  /** The whole call, nanoseconds. */
  cachedTotalNs: number;
  cachedCall: string;
  minBytes: number;
  gzipBytes: number;
  bundled: string;
  notes: string[];
}

/** Simulated network round trip of the fake token endpoint, so concurrent callers overlap. */
const RTT_MS = 20;

function fakeJwt(expSeconds: number, sub = 'user-1'): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'ES256', typ: 'JWT' })}.${b64({ sub, exp: expSeconds, iat: expSeconds - 3600, aud: 'authenticated', role: 'authenticated', session_id: 's1' })}.${Buffer.alloc(64, 1).toString('base64url')}`;
}

/** A local token endpoint speaking OAuth (form) and Supabase's GoTrue (JSON); counts refreshes. */
async function startFakeIssuer() {
  const counts = { oauth: 0, gotrue: 0 };
  let seq = 0;
  let current = 'access-0';
  // Every access token handed out stays valid (as at a real API): only the first, stale one is refused.
  const issued = new Set<string>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify(body));
      };
      if (url.pathname === '/token' && req.method === 'POST') {
        counts.oauth++;
        await sleep(RTT_MS);
        const n = ++seq;
        current = fakeJwt(Math.floor(Date.now() / 1000) + 3600, `user-${n}`);
        issued.add(current);
        return json(200, {
          access_token: current,
          token_type: 'Bearer',
          expires_in: 3600,
          refresh_token: `refresh-${n}`,
          scope: 'openid',
        });
      }
      if (url.pathname === '/auth/v1/token' && url.searchParams.get('grant_type') === 'refresh_token') {
        counts.gotrue++;
        await sleep(RTT_MS);
        const n = ++seq;
        const exp = Math.floor(Date.now() / 1000) + 3600;
        return json(200, {
          access_token: fakeJwt(exp, `user-${n}`),
          token_type: 'bearer',
          expires_in: 3600,
          expires_at: exp,
          refresh_token: `refresh-${n}`,
          user: { id: 'user-1', aud: 'authenticated', role: 'authenticated', email: 'a@example.com' },
        });
      }
      if (url.pathname === '/api') {
        const presented = req.headers.authorization?.replace(/^Bearer /, '') ?? '';
        if (issued.has(presented)) return json(200, { ok: true });
        return json(401, { error: 'invalid_token' });
      }
      json(404, { error: 'not_found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    base,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Nanoseconds per `await fn()`, whole and above an `await` of an already-resolved async function. */
async function addedNs(
  fn: () => Promise<unknown>,
  iterations: number,
): Promise<{ added: number; total: number }> {
  const baseline = async () => 'token';
  const timeLoop = async (f: () => Promise<unknown>) => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) await f();
    return Number(process.hrtime.bigint() - t0) / iterations;
  };
  await timeLoop(fn);
  await timeLoop(baseline);
  const diffs: number[] = [];
  const totals: number[] = [];
  for (let k = 0; k < 5; k++) {
    const b = await timeLoop(baseline);
    const t = await timeLoop(fn);
    diffs.push(t - b);
    totals.push(t);
  }
  return { added: Math.max(0, median(diffs)), total: median(totals) };
}

async function bundleSize(contents: string, resolveDir: string, options: { external?: string[] } = {}) {
  const out = await build({
    stdin: { contents, resolveDir, loader: 'ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['@tessera/source'],
    external: options.external ?? [],
    write: false,
    logLevel: 'silent',
  });
  const bytes = out.outputFiles[0]!.contents;
  return { min: bytes.length, gz: gzipSync(bytes, { level: 9 }).length };
}

const memory = () => {
  const m = new Map<string, string>();
  return {
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => {
      m.set(k, v);
    },
    removeItem: (k: string) => {
      m.delete(k);
    },
    get length() {
      return m.size;
    },
    key: (i: number) => [...m.keys()][i] ?? null,
    clear: () => m.clear(),
  };
};

export async function clientSdkBench(opts: {
  callers: number;
  iterations: number;
  log: (m: string) => void;
}): Promise<SdkRow[]> {
  const peers = createRequire(join(PEERS_DIR, 'node_modules', 'bench.cjs'));
  const version = (name: string) =>
    (
      JSON.parse(readFileSync(join(PEERS_DIR, 'node_modules', name, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  const fake = await startFakeIssuer();
  const rows: SdkRow[] = [];
  const N = opts.callers;
  try {
    opts.log('client SDK: @tessera/client');
    // --- @tessera/client -------------------------------------------------------------------------
    {
      let skew = 0;
      const client = createTesseraClient({
        tokenEndpoint: `${fake.base}/token`,
        clientId: 'web',
        clock: { now: () => Date.now() + skew },
        lifecycleEvents: false,
      });
      await client.signInWithTokens({
        access_token: 'access-initial',
        token_type: 'Bearer',
        expires_in: 3600,
        refresh_token: 'refresh-0',
        scope: 'openid',
        revocation_endpoint: '',
      });
      skew = 3_610_000; // the token expired 10 s ago
      const before = fake.counts.oauth;
      const got = await Promise.all(Array.from({ length: N }, () => client.getAccessToken()));
      const refreshes = fake.counts.oauth - before;
      opts.log(`  ${refreshes} refresh(es); timing cached calls`);
      const cached = await addedNs(() => client.getAccessToken(), opts.iterations);
      client.close();
      const size = await bundleSize("export * from '@tessera/client';", join(ROOT, 'packages/client'));
      rows.push({
        name: '@tessera/client',
        version: 'workspace',
        refreshes,
        distinct: new Set(got).size,
        concurrentCall: 'getAccessToken()',
        cachedNs: cached.added,
        cachedTotalNs: cached.total,
        cachedCall: 'getAccessToken()',
        minBytes: size.min,
        gzipBytes: size.gz,
        bundled: 'core entry (`export *`: client, memory storage, coordinators, error table)',
        notes: [],
      });
    }

    opts.log('client SDK: @supabase/auth-js');
    // --- @supabase/auth-js -----------------------------------------------------------------------
    {
      const { GoTrueClient } = peers('@supabase/auth-js') as {
        GoTrueClient: new (
          o: Record<string, unknown>,
        ) => {
          getSession(): Promise<{ data: { session: { access_token: string } | null }; error: unknown }>;
        };
      };
      const storage = memory();
      const exp = Math.floor(Date.now() / 1000) - 10;
      storage.setItem(
        'bench-sb',
        JSON.stringify({
          access_token: fakeJwt(exp),
          token_type: 'bearer',
          expires_in: 3600,
          expires_at: exp,
          refresh_token: 'refresh-0',
          user: { id: 'user-1', aud: 'authenticated', role: 'authenticated', email: 'a@example.com' },
        }),
      );
      const warn = console.warn;
      console.warn = () => {};
      try {
        const client = new GoTrueClient({
          url: `${fake.base}/auth/v1`,
          storageKey: 'bench-sb',
          storage,
          autoRefreshToken: false,
          persistSession: true,
          detectSessionInUrl: false,
        });
        const before = fake.counts.gotrue;
        const got = await Promise.all(
          Array.from({ length: N }, async () => (await client.getSession()).data.session?.access_token),
        );
        const refreshes = fake.counts.gotrue - before;
        const cached = await addedNs(() => client.getSession(), opts.iterations);
        const size = await bundleSize("export { GoTrueClient } from '@supabase/auth-js';", PEERS_DIR);
        rows.push({
          name: '@supabase/auth-js',
          version: version('@supabase/auth-js'),
          refreshes,
          distinct: new Set(got).size,
          concurrentCall: 'getSession()',
          cachedNs: cached.added,
          cachedTotalNs: cached.total,
          cachedCall: 'getSession()',
          minBytes: size.min,
          gzipBytes: size.gz,
          bundled: '`GoTrueClient` (what `createClient` uses for auth)',
          notes: [],
        });
      } finally {
        console.warn = warn;
      }
    }

    opts.log('client SDK: oidc-client-ts');
    // --- oidc-client-ts --------------------------------------------------------------------------
    {
      const oidc = peers('oidc-client-ts') as {
        UserManager: new (
          s: Record<string, unknown>,
        ) => {
          storeUser(u: unknown): Promise<void>;
          getUser(): Promise<{ access_token: string } | null>;
          signinSilent(): Promise<{ access_token: string } | null>;
        };
        User: new (s: Record<string, unknown>) => unknown;
        WebStorageStateStore: new (o: { store: unknown }) => unknown;
        InMemoryWebStorage: new () => unknown;
      };
      const settings = {
        authority: fake.base,
        client_id: 'web',
        redirect_uri: 'http://127.0.0.1/cb',
        metadata: {
          issuer: fake.base,
          authorization_endpoint: `${fake.base}/authorize`,
          token_endpoint: `${fake.base}/token`,
        },
        userStore: new oidc.WebStorageStateStore({ store: new oidc.InMemoryWebStorage() }),
        stateStore: new oidc.WebStorageStateStore({ store: new oidc.InMemoryWebStorage() }),
        automaticSilentRenew: false,
        monitorSession: false,
        loadUserInfo: false,
      };
      const um = new oidc.UserManager(settings);
      await um.storeUser(
        new oidc.User({
          access_token: 'access-initial',
          token_type: 'Bearer',
          refresh_token: 'refresh-0',
          scope: 'openid',
          profile: { sub: 'user-1', iss: fake.base, aud: 'web', exp: 0, iat: 0 },
          expires_at: Math.floor(Date.now() / 1000) - 10,
        }),
      );
      const before = fake.counts.oauth;
      let failed = 0;
      const got = await Promise.all(
        Array.from({ length: N }, async () => {
          try {
            return (await um.signinSilent())?.access_token;
          } catch {
            failed++;
            return undefined;
          }
        }),
      );
      const refreshes = fake.counts.oauth - before;
      const cached = await addedNs(() => um.getUser(), opts.iterations);
      const size = await bundleSize("export { UserManager } from 'oidc-client-ts';", PEERS_DIR);
      rows.push({
        name: 'oidc-client-ts',
        version: version('oidc-client-ts'),
        refreshes,
        distinct: new Set(got.filter(Boolean)).size,
        concurrentCall: 'signinSilent() (refresh-token path)',
        cachedNs: cached.added,
        cachedTotalNs: cached.total,
        cachedCall: 'getUser() (never refreshes)',
        minBytes: size.min,
        gzipBytes: size.gz,
        bundled: '`UserManager`',
        notes: [
          'no "get a valid token" call: `getUser()` returns the stored user even when expired, and renewal is `signinSilent()` (or its own timer, `automaticSilentRenew`); concurrent `signinSilent()` calls are not coalesced' +
            (failed ? ` (${failed} calls failed)` : ''),
        ],
      });
    }

    opts.log('client SDK: axios-auth-refresh');
    // --- axios-auth-refresh ----------------------------------------------------------------------
    {
      const axiosMod = peers('axios') as { default?: unknown } & Record<string, unknown>;
      type Cfg = { headers: Record<string, string> } & Record<string, unknown>;
      type Instance = {
        get(url: string): Promise<{ status: number }>;
        post(url: string, body: string, cfg?: unknown): Promise<{ data: { access_token: string } }>;
        interceptors: { request: { use(fn: (c: Cfg) => Cfg): void } };
      };
      const axios = (axiosMod.default ?? axiosMod) as { create(o?: Record<string, unknown>): Instance };
      const aarMod = peers('axios-auth-refresh') as { default?: unknown };
      const createAuthRefreshInterceptor = (aarMod.default ?? aarMod) as (
        instance: Instance,
        refresh: (failed: { response: { config: Cfg } }) => Promise<unknown>,
      ) => number;

      // Concurrency: 1,000 requests with an expired token all get 401; how many refreshes follow?
      let token = 'stale';
      const api = axios.create({ baseURL: fake.base });
      api.interceptors.request.use((c) => {
        c.headers.Authorization = `Bearer ${token}`;
        return c;
      });
      const refresher = axios.create({ baseURL: fake.base });
      createAuthRefreshInterceptor(api, async (failed) => {
        const r = await refresher.post('/token', 'grant_type=refresh_token&refresh_token=r&client_id=web', {
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
        token = r.data.access_token;
        failed.response.config.headers.Authorization = `Bearer ${token}`;
      });
      const before = fake.counts.oauth;
      let failures = 0;
      const statuses = await Promise.all(
        Array.from({ length: N }, () =>
          api.get('/api').then(
            (r) => r.status,
            () => {
              failures++;
              return 0;
            },
          ),
        ),
      );
      const refreshes = fake.counts.oauth - before;

      // Added time: an axios call with the token interceptor and axios-auth-refresh, minus a bare
      // axios call, both on an adapter that answers 200 at once (no network).
      const adapter = async (config: unknown) => ({
        data: {},
        status: 200,
        statusText: 'OK',
        headers: {},
        config,
      });
      const bare = axios.create({ adapter });
      const wrapped = axios.create({ adapter });
      wrapped.interceptors.request.use((c) => {
        c.headers.Authorization = `Bearer ${token}`;
        return c;
      });
      createAuthRefreshInterceptor(wrapped, async () => undefined);
      const iterations = Math.max(1000, Math.floor(opts.iterations / 10));
      const withNs = await addedNs(() => wrapped.get('/x'), iterations);
      const bareNs = await addedNs(() => bare.get('/x'), iterations);
      const size = await bundleSize("export { default } from 'axios-auth-refresh';", PEERS_DIR, {
        external: ['axios'],
      });
      rows.push({
        name: 'axios-auth-refresh',
        version: version('axios-auth-refresh'),
        refreshes,
        distinct: statuses.every((s) => s === 200) ? 1 : `${statuses.filter((s) => s !== 200).length} failed`,
        concurrentCall: 'axios `get` answered 401 (refresh on 401, not at expiry)',
        cachedNs: Math.max(0, withNs.total - bareNs.total),
        cachedTotalNs: withNs.total,
        cachedCall: 'axios call with token + refresh interceptors minus a bare axios call',
        minBytes: size.min,
        gzipBytes: size.gz,
        bundled: 'the interceptor (axios itself external, as for `@tessera/client/axios`)',
        notes: [
          'no token cache or expiry: it reacts to 401 answers and the caller attaches the token itself. ' +
            `${failures} of ${N} requests were rejected with their 401: with v5's default \`deduplicateRefresh\`, a 401 that arrives while a refresh runs is not retried, and a 401 that arrives after it finished starts another refresh`,
        ],
      });
    }
  } finally {
    await fake.close();
  }
  return rows;
}
