import cookie from '@fastify/cookie';
import { TesseraError } from '@tessera/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LIMITS } from '../config/limits.js';
import type { TesseraContext } from '../domain/context.js';
import type { LoginThrottle } from '../domain/login-throttle.js';
import { revokeFamily } from '../domain/revoke-family.js';
import type { RateLimits } from '../http/rate-limits.js';
import type { FamilyRecord } from '../ports/index.js';
import { adminAuth, adminCookieFor, signedInAdmin } from './admin-auth.js';
import { eventRoutes, eventView } from './admin-events.js';
import { inspectorRoutes } from './admin-inspector.js';
import { keyRoutes } from './admin-keys.js';
import { ADMIN_API_DOCUMENT } from './admin-openapi.js';
import { overviewRoutes } from './admin-overview.js';
import { findUser, intParam, query, reasonOf } from './admin-params.js';
import { AdminSessions } from './admin-sessions.js';
import { EventTail } from './event-tail.js';
import { explainSession } from './explain-session.js';
import { toSessionView } from './session-view.js';

/** Where the admin API lives, under the server's prefix. */
export const ADMIN_API_PATH = '/admin/api';

const STATUSES = new Set(['active', 'revoked', 'expired']);

/**
 * The admin API under `/admin/api/`: sign-in, sessions (paged, filtered, revoked with a reason),
 * a session's lineage and explain-logout, events, users and keys. JSON only; every refusal in the
 * one error shape. Register it inside the server's scope (it uses the error handler and parsers).
 */
export async function adminApi(
  app: FastifyInstance,
  ctx: TesseraContext,
  throttle: LoginThrottle,
  limits: RateLimits,
): Promise<void> {
  const sessions = new AdminSessions(ctx.clock);
  const prefix = `${app.prefix}${ADMIN_API_PATH}`;
  // One reader of the lifecycle record for every live tail of this instance.
  const tail = new EventTail({
    events: ctx.stores.events,
    clock: ctx.clock,
    setTimer: ctx.setTimer,
    signal: ctx.eventSignal,
    log: ctx.log,
  });
  const auth = adminAuth(ctx, sessions, throttle, limits, adminCookieFor(ctx.config.issuer, prefix));
  await app.register(
    async (api) => {
      await api.register(cookie);
      api.addHook('onSend', async (_request, reply) => {
        reply.header('cache-control', 'no-store');
      });
      api.get('/openapi.json', async () => ADMIN_API_DOCUMENT(prefix));
      auth.routes(api);
      api.register(async (guarded) => {
        guarded.addHook('preHandler', auth.requireAdmin);
        sessionRoutes(guarded, ctx);
        directoryRoutes(guarded, ctx);
        eventRoutes(guarded, ctx, tail);
        overviewRoutes(guarded, ctx);
        inspectorRoutes(guarded, ctx);
        keyRoutes(guarded, ctx);
      });
    },
    { prefix: ADMIN_API_PATH },
  );
}

function sessionRoutes(app: FastifyInstance, ctx: TesseraContext): void {
  const names = async (families: FamilyRecord[]) => {
    const map = new Map<string, string | null>();
    for (const f of families) {
      if (!map.has(f.userId))
        map.set(f.userId, (await ctx.stores.directory.findUserById(f.userId))?.username ?? null);
    }
    return map;
  };

  app.get('/sessions', async (request) => {
    const q = query(request);
    const limit = intParam(q.limit, 50, 1, 200);
    if (q.status !== undefined && !STATUSES.has(q.status)) {
      throw new TesseraError('invalid_request', 'status: active, revoked or expired');
    }
    const user = q.user ? await findUser(ctx, q.user) : undefined;
    if (q.user && !user) return { items: [], next: null };
    const page = await ctx.stores.sessions.listFamilies({
      limit: limit + 1,
      ...(user ? { userId: user.id } : {}),
      ...(q.client ? { clientId: q.client } : {}),
      ...(q.status ? { status: q.status as FamilyRecord['status'] } : {}),
      ...(q.cursor ? { before: decodeCursor(q.cursor) } : {}),
      ...(q.since ? { createdAfter: intParam(q.since, 0, 0, Number.MAX_SAFE_INTEGER) } : {}),
    });
    const items = page.slice(0, limit);
    const usernames = await names(items);
    const now = ctx.clock.now();
    const last = items.at(-1);
    return {
      items: items.map((f) => toSessionView(f, usernames.get(f.userId) ?? null, now)),
      next: page.length > limit && last ? encodeCursor(last) : null,
    };
  });

  app.get('/sessions/:id', async (request) => {
    const family = await findFamily(ctx, request);
    const events = await ctx.stores.events.list({ familyId: family.id, limit: LIMITS.listMax });
    const tokens = await ctx.stores.sessions.listTokens(family.id);
    const now = ctx.clock.now();
    const username = (await ctx.stores.directory.findUserById(family.userId))?.username ?? null;
    return {
      session: toSessionView(family, username, now),
      // The lineage: generations and their states, never a hash or a token.
      lineage: tokens.map((t) => ({
        generation: t.generation,
        status: t.status,
        issuedAt: t.issuedAt,
        rotatedAt: t.rotatedAt,
        expiresAt: t.expiresAt,
      })),
      events: events.map(eventView),
      explanation: explainSession({ family, events, now }),
    };
  });

  app.post('/sessions/:id/revoke', async (request) => {
    const family = await findFamily(ctx, request);
    const reason = reasonOf(request);
    const admin = signedInAdmin(request);
    const revoked = await revokeFamily(ctx, family, 'admin_revoked', 'admin', {
      by: admin.username,
      note: reason,
    });
    if (revoked) await recordAdminRevocation(ctx, admin.username, reason, { session: family.id }, family);
    return { revoked: revoked ? [family.id] : [] };
  });

  const revokeAll = async (request: FastifyRequest, target: { userId?: string; clientId?: string }) => {
    const reason = reasonOf(request);
    const admin = signedInAdmin(request);
    const ended: string[] = [];
    // Page by page through the port: each page ends what it lists.
    for (;;) {
      const page = await ctx.stores.sessions.listFamilies({
        ...target,
        status: 'active',
        limit: LIMITS.listMax,
      });
      let progress = 0;
      for (const f of page) {
        if (await revokeFamily(ctx, f, 'admin_revoked', 'admin', { by: admin.username, note: reason })) {
          ended.push(f.id);
          progress++;
        }
      }
      if (page.length < LIMITS.listMax || progress === 0) break;
    }
    await recordAdminRevocation(ctx, admin.username, reason, { ...target, sessions: ended.length });
    return { revoked: ended };
  };
  app.post('/users/:id/revoke-sessions', async (request) => {
    const { id } = request.params as { id: string };
    const user = await findUser(ctx, id);
    if (!user) throw new TesseraError('not_found', 'No such user');
    return revokeAll(request, { userId: user.id });
  });
  app.post('/clients/:id/revoke-sessions', async (request) => {
    const { id } = request.params as { id: string };
    if (!(await ctx.stores.directory.findClient(id))) throw new TesseraError('not_found', 'No such client');
    return revokeAll(request, { clientId: id });
  });
}

function directoryRoutes(app: FastifyInstance, ctx: TesseraContext): void {
  app.get('/users', async (request) => {
    const q = (query(request).q ?? '').toLowerCase();
    const users = await ctx.stores.directory.listUsers();
    return {
      items: users
        .filter((u) => q === '' || u.username.toLowerCase().includes(q) || u.id === q)
        .slice(0, 100)
        .map((u) => ({
          id: u.id,
          username: u.username,
          roles: u.roles,
          disabled: u.disabled,
          createdAt: u.createdAt,
        })),
    };
  });
}

async function recordAdminRevocation(
  ctx: TesseraContext,
  admin: string,
  reason: string,
  target: Record<string, unknown>,
  family?: FamilyRecord,
): Promise<void> {
  await ctx.stores.events.append([
    {
      at: ctx.clock.now(),
      type: 'admin.session_revoked',
      familyId: family?.id ?? null,
      userId: family?.userId ?? (typeof target.userId === 'string' ? target.userId : null),
      clientId: family?.clientId ?? (typeof target.clientId === 'string' ? target.clientId : null),
      reason: 'admin_revoked',
      data: { admin, reason, target },
    },
  ]);
}

async function findFamily(ctx: TesseraContext, request: FastifyRequest): Promise<FamilyRecord> {
  const { id } = request.params as { id: string };
  const family = await ctx.stores.sessions.findFamily(id);
  if (!family) throw new TesseraError('not_found', 'No such session');
  return family;
}

/** Keyset paging: the last row's (created_at, id), opaque to the page. */
function encodeCursor(f: FamilyRecord): string {
  return Buffer.from(JSON.stringify([f.createdAt, f.id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: number; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof createdAt === 'number' && typeof id === 'string') return { createdAt, id };
  } catch {}
  throw new TesseraError('invalid_request', 'The cursor is not one this API gave out');
}
