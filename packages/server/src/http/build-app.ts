import cookie from '@fastify/cookie';
import { ENDPOINTS } from '@tessera/protocol';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { adminApi } from '../admin/admin-api.js';
import { adminStatic } from '../admin/admin-static.js';
import { LIMITS } from '../config/limits.js';
import { dummyPasswordHash } from '../crypto/password.js';
import type { TesseraContext } from '../domain/context.js';
import { LoginThrottle } from '../domain/login-throttle.js';
import { lazyChildLoggerFactory } from '../observability/request-logger.js';
import {
  clientErrorHandler,
  frameworkErrorHandler,
  refuseConnect,
  registerErrorHandling,
} from './error-handler.js';
import { tokenBearingRoutes } from './no-store.js';
import { registerOpenApi } from './openapi.js';
import { registerBodyParsers } from './parse-body.js';
import { rateLimits } from './rate-limits.js';
import { refreshCookieFor } from './refresh-cookie.js';
import { refuseAmbiguousRequest } from './refuse-ambiguous-request.js';
import { authApiRoutes } from './routes/auth-api.js';
import { discoveryRoutes } from './routes/discovery.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoute } from './routes/metrics.js';
import { revokeIntrospectRoutes } from './routes/oauth-revoke-introspect.js';
import { oauthTokenRoute } from './routes/oauth-token.js';
import { revocationRoutes } from './routes/revocations.js';

/** Something an operator should know at start (cookie mode over plain http, …). */
export interface StartupNotice {
  level: 'warn' | 'error';
  message: string;
  clients: string[];
}

export interface BuildAppOptions {
  /** Receives the start-up notices instead of the log (the CLI prints them in its banner). */
  onNotice?: (notice: StartupNotice) => void;
  /** Serve the OpenAPI document at `/openapi.json` (default true); false leaves the routes without schemas. */
  openapi?: boolean;
}

/** The Fastify application of the authorization server: its hooks, parsers and routes. */
export async function buildApp(ctx: TesseraContext, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    bodyLimit: ctx.config.bodyLimit,
    trustProxy: ctx.config.trustProxy,
    // Request ids come from us, never from a client header that could be used to forge log lines.
    genReqId: (() => {
      let n = 0;
      return () => `req-${(++n).toString(36)}`;
    })(),
    routerOptions: { ignoreTrailingSlash: true },
    // The per-request logger is made when a request first logs, not for every request.
    childLoggerFactory: lazyChildLoggerFactory,
    // Refusals before routing and before parsing get the one error shape too.
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    // Node would answer a missing Host with an empty 400 of its own; the hook below answers it.
    http: { requireHostHeader: false, connectionsCheckingInterval: LIMITS.connectionsCheckIntervalMs },
    ...connectionLimits(ctx),
  });
  applyConnectionCap(app, ctx);
  await registerTessera(app, ctx, options);
  return app;
}

/**
 * Registers the authorization server's hooks, parsers, error handler and routes on `app`: the
 * root instance of `buildApp`, or the encapsulated instance of the `tessera()` plugin, whose
 * prefix the routes then sit under.
 */
export async function registerTessera(
  app: FastifyInstance,
  ctx: TesseraContext,
  options: BuildAppOptions = {},
): Promise<void> {
  registerErrorHandling(app);
  registerBodyParsers(app, ctx.config.bodyLimit);
  if (options.openapi !== false) await registerOpenApi(app, ctx);
  app.addHook('onRequest', refuseAmbiguousRequest);
  // The dashboard's latency chart counts the endpoints that hand out tokens (under the plugin's prefix too).
  const tokenRoutes = new Set(
    [ENDPOINTS.token, ENDPOINTS.login, ENDPOINTS.refresh].map((path) => `${app.prefix}${path}`),
  );
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    ctx.metrics.requestDuration.observe(
      { route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    if (tokenRoutes.has(route)) ctx.counters.observeLatency(reply.elapsedTime);
  });
  app.addHook('onReady', async () => warnAboutCookieMode(ctx, options.onNotice));
  // The stand-in hash for unknown users is made at start, not by the first such login, which
  // would otherwise cost two hashes and so tell by its time that the user does not exist.
  app.addHook('onReady', async () => {
    await dummyPasswordHash(ctx.config.passwordHashCost);
  });
  const throttle = new LoginThrottle(
    ctx.rateLimits,
    ctx.config.loginFailuresPerUser,
    ctx.config.loginLockoutWindow * 1000,
  );
  const limits = rateLimits(ctx);
  // Every answer of these routes, errors included, is Cache-Control: no-store.
  await tokenBearingRoutes(app, async (tokens) => {
    oauthTokenRoute(tokens, ctx, throttle, limits);
    // Cookies exist only on the first-party routes: the plugin's hooks are scoped to them, so the
    // token endpoint and the rest never parse or serialise cookies.
    await tokens.register(async (firstParty) => {
      // Parses `request.cookies`; unsigned: the refresh token is its own proof.
      await firstParty.register(cookie);
      authApiRoutes(firstParty, ctx, throttle, limits);
    });
    revokeIntrospectRoutes(tokens, ctx);
    revocationRoutes(tokens, ctx);
  });
  await adminApi(app, ctx, throttle, limits);
  await adminStatic(app);
  discoveryRoutes(app, ctx);
  healthRoutes(app, ctx);
  // With a metrics port of its own (`buildMetricsApp`), the main listener has no /metrics.
  if (ctx.config.metricsPort === undefined) metricsRoute(app, ctx, { loopbackOnly: true });
}

/**
 * The listener of `metricsPort`: `/metrics` only (and the one error shape for anything else),
 * apart from the API, so it can be bound where only the scraper reaches it.
 */
export async function buildMetricsApp(ctx: TesseraContext): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    bodyLimit: 1024,
    childLoggerFactory: lazyChildLoggerFactory,
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    http: { connectionsCheckingInterval: LIMITS.connectionsCheckIntervalMs },
    ...connectionLimits(ctx),
  });
  applyConnectionCap(app, ctx);
  registerErrorHandling(app);
  app.addHook('onRequest', refuseAmbiguousRequest);
  app.removeAllContentTypeParsers();
  metricsRoute(app, ctx, { loopbackOnly: false });
  return app;
}

/**
 * Node's timeouts for slow and idle clients, from the settings: a request must arrive whole
 * within `requestTimeout` (408 otherwise), its headers within `headersTimeout` (slow-loris, and
 * connections that never send anything, are closed), and an idle keep-alive connection is closed
 * after `keepAliveTimeout`. Streams being answered (the revocation feed) are not limited.
 */
function connectionLimits(ctx: TesseraContext) {
  return {
    requestTimeout: ctx.config.requestTimeout * 1000,
    keepAliveTimeout: ctx.config.keepAliveTimeout * 1000,
  };
}

/**
 * `headersTimeout` (Node requires it to be at most `requestTimeout`), and at most
 * `maxConnections` open at once: Node closes any connection past it as it arrives. A `CONNECT`
 * (which Node hands to no route) is answered 405 rather than dropped.
 */
function applyConnectionCap(app: FastifyInstance, ctx: TesseraContext): void {
  app.server.headersTimeout = Math.min(ctx.config.headersTimeout, ctx.config.requestTimeout) * 1000;
  app.server.maxConnections = ctx.config.maxConnections;
  app.server.on('connect', refuseConnect);
}

/** At start: cookie mode over plain http is for development on localhost only; say so. */
async function warnAboutCookieMode(
  ctx: TesseraContext,
  onNotice: BuildAppOptions['onNotice'],
): Promise<void> {
  const cookie = refreshCookieFor(ctx.config.issuer);
  if (cookie.secure) return;
  const clients = await ctx.stores.directory.listClients().catch(() => []);
  const names = clients.filter((c) => c.cookieMode).map((c) => c.id);
  if (names.length === 0) return;
  const notice: StartupNotice = cookie.usable
    ? {
        level: 'warn',
        clients: names,
        message:
          'cookie mode over plain http on localhost: the refresh cookie is sent without Secure and without the __Host- prefix (development only; use an https issuer in production)',
      }
    : {
        level: 'error',
        clients: names,
        message:
          'cookie mode needs an https issuer: logins of these clients are refused while the issuer is plain http off localhost',
      };
  if (onNotice) onNotice(notice);
  else ctx.log[notice.level]({ clients: names, cookie: cookie.name }, notice.message);
}
