import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ENDPOINTS } from '@tessera/protocol';
import { createResourceServer, type ResourceServer } from '@tessera/resource';
import { tesseraResource } from '@tessera/resource/fastify';
import {
  type CreateTesseraOptions,
  createTessera,
  createUser,
  DEMO_DEFAULTS,
  type LoadConfigOptions,
  loadConfig,
  loadMasterSecret,
  saveClient,
  type Tessera,
  type TesseraConfig,
} from '@tessera/server';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { DEMO_VERSION } from './version.js';
import { loadWebAssets, type WebAssets } from './web-assets.js';

/** The demo's fixed, public credentials (a demo, never a deployment). */
export const DEMO_USERS = [
  { username: 'demo', password: 'demo-password', roles: ['user'] },
  { username: 'admin', password: 'admin-password', roles: ['admin'] },
] as const;

/** The browser client (cookie mode) and the protected API's resource-server client. */
export const DEMO_CLIENT_ID = 'demo-web';
export const DEMO_API_CLIENT_ID = 'demo-api';
export const DEMO_SCOPE = 'demo:read';

export interface DemoOptions {
  /**
   * The inputs to `loadConfig`, with the demo's own values (`DEMO_DEFAULTS`: port 4100,
   * `.tessera/demo.db`, 20-second access tokens so silent refreshes are visible, `demo-web` as
   * the default login client) below the caller's; or a configuration already loaded that way
   * (`tessera demo` loads it with `overrides: DEMO_DEFAULTS`), used as it is.
   */
  config?: Readonly<TesseraConfig> | LoadConfigOptions;
  /** Environment for the master secret (`TESSERA_SECRET`); default `process.env`. */
  env?: Record<string, string | undefined>;
  /** The 32-byte master secret; default `TESSERA_SECRET` or the key file beside the database. */
  masterSecret?: Uint8Array;
  /** Stores to serve with instead of SQLite at the configured `db` (opened on that file by the caller). */
  stores?: CreateTesseraOptions['stores'];
  /** Receives start-up notices instead of the log (`tessera demo` prints them in its banner). */
  onNotice?: CreateTesseraOptions['onNotice'];
  /** More versions for the start-up log line (the CLI adds its own), beside the demo's. */
  versions?: Record<string, string>;
}

export interface RunningDemo {
  /** The page, the API and the issuer: one origin. */
  url: string;
  tessera: Tessera;
  close(): Promise<void>;
}

/**
 * Starts the demo: the authorization server (SQLite), the demo page and a protected API, all on
 * one origin, so the refresh cookie is first-party and `SameSite=Strict`. Seeds the demo users and
 * clients (idempotent) and bundles the page with esbuild.
 *
 * @example
 * const demo = await startDemo({ config: { flags: { port: 4100 } } });
 * console.log(`open ${demo.url}`);
 */
export async function startDemo(options: DemoOptions = {}): Promise<RunningDemo> {
  const config = isLoaded(options.config)
    ? options.config
    : loadConfig({
        ...options.config,
        overrides: { ...DEMO_DEFAULTS, ...options.config?.overrides },
      });
  const { db } = config;
  if (db !== ':memory:') mkdirSync(dirname(db), { recursive: true });
  const assets = await loadWebAssets();
  const tessera = await createTessera({
    config,
    versions: { demo: DEMO_VERSION, ...options.versions },
    masterSecret: options.masterSecret ?? loadMasterSecret(db, options.env ?? process.env),
    ...(options.stores ? { stores: options.stores } : {}),
    ...(options.onNotice ? { onNotice: options.onNotice } : {}),
  });
  try {
    const apiSecret = await seed(tessera);
    const rs = createResourceServer({
      issuer: config.issuer,
      audience: config.audience,
      clientId: DEMO_API_CLIENT_ID,
      clientSecret: apiSecret,
      requiredClaims: ['sid'],
      // Same process: no discovery round trip (whose failure, before we listen, would be cached).
      jwksUri: `${config.issuer}${ENDPOINTS.jwks}`,
      introspectionEndpoint: `${config.issuer}${ENDPOINTS.introspection}`,
      revocationsEndpoint: `${config.issuer}${ENDPOINTS.revocationFeed}`,
      // The feed starts when the app is ready, a moment before it listens: retry quickly.
      reconnectInitialMs: 100,
      reconnectMaxMs: 5_000,
    });
    // Before the server closes: its own feed connection would otherwise keep the close waiting.
    tessera.app.addHook('preClose', async () => rs.close());
    await tessera.app.register(demoRoutes, { tessera, assets, rs });
    await tessera.listen();
    // The API answers 503 until the revocation feed has its first snapshot: wait for it (bounded).
    await Promise.race([rs.ready(), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
  } catch (err) {
    await tessera.close();
    throw err;
  }
  return { url: config.issuer, tessera, close: () => tessera.close() };
}

function isLoaded(value: DemoOptions['config']): value is Readonly<TesseraConfig> {
  return value !== undefined && typeof (value as Partial<TesseraConfig>).issuer === 'string';
}

/** Users and clients; replaces the clients each start (the API's secret is new every time, never shown). */
async function seed(tessera: Tessera): Promise<string> {
  const { ctx } = tessera;
  for (const user of DEMO_USERS) {
    if (!(await ctx.stores.directory.findUserByUsername(user.username))) {
      await createUser(ctx, { username: user.username, password: user.password, roles: [...user.roles] });
    }
  }
  await saveClient(ctx, {
    id: DEMO_CLIENT_ID,
    name: 'Tessera demo (browser)',
    public: true,
    cookieMode: true,
    allowedScopes: [DEMO_SCOPE],
    defaultScope: DEMO_SCOPE,
    // Lifetimes from the configuration (the demo's 20 s access tokens, or the user's own).
    accessTokenTtl: null,
    refreshGracePeriod: null,
  });
  const apiSecret = randomBytes(32).toString('base64url');
  await saveClient(ctx, {
    id: DEMO_API_CLIENT_ID,
    name: 'Tessera demo API',
    public: false,
    secret: apiSecret,
    grantTypes: [],
    introspectAny: true,
  });
  return apiSecret;
}

interface DemoRouteOptions {
  tessera: Tessera;
  assets: WebAssets;
  rs: ResourceServer;
}

/** The page and `GET /api/demo/me`, protected by @tessera/resource like any API would be. */
async function demoRoutes(app: FastifyInstance, { tessera, assets, rs }: DemoRouteOptions) {
  const { stores } = tessera.ctx;
  await app.register(tesseraResource, { server: rs });
  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
  });
  const page = (type: string, body: string) => async (_request: unknown, reply: FastifyReply) =>
    reply
      .type(type)
      .header('cache-control', 'no-cache')
      .header(
        'content-security-policy',
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
      )
      .send(body);
  app.get('/', page('text/html; charset=utf-8', assets.html));
  app.get('/app.js', page('text/javascript; charset=utf-8', assets.js));
  app.get('/app.css', page('text/css; charset=utf-8', assets.css));
  // Browsers ask for an icon on every page; without one each visit logs a 404.
  app.get('/favicon.svg', page('image/svg+xml', assets.icon));
  app.get('/favicon.ico', page('image/svg+xml', assets.icon));

  app.get(
    '/api/demo/me',
    { onRequest: app.requireAuth({ scopes: [DEMO_SCOPE] }) },
    async (request, reply) => {
      const auth = request.auth;
      if (auth === null) throw new Error('requireAuth runs before this handler and sets request.auth');
      const user = await stores.directory.findUserById(auth.sub);
      // Private: the SDK's offline cache may keep it in memory, no shared cache may.
      reply.header('cache-control', 'private, no-cache');
      return {
        user: user?.username ?? auth.sub,
        roles: auth.roles,
        scope: auth.scope,
        session: auth.sid,
        issuedAt: auth.claims.iat,
        expiresAt: auth.exp,
        serverTime: Date.now(),
      };
    },
  );
}
