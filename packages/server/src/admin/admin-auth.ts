import { ADMIN_CSRF_HEADER, TesseraError } from '@tessera/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticateUser } from '../domain/authenticate-user.js';
import { recordEvents, type TesseraContext } from '../domain/context.js';
import type { LoginThrottle } from '../domain/login-throttle.js';
import { bodyOfType, required } from '../http/parse-body.js';
import type { RateLimits } from '../http/rate-limits.js';
import { type AdminSession, type AdminSessions, csrfMatches } from './admin-sessions.js';

/** The role that opens the dashboard and the admin API. */
export const ADMIN_ROLE = 'admin';

/** `__Host-tessera_admin` over https (Secure, Path=/); `tessera_admin` under the API's path on plain http. */
export function adminCookieFor(issuer: string, apiPath: string) {
  const url = new URL(issuer);
  const secure = url.protocol === 'https:';
  return {
    name: secure ? '__Host-tessera_admin' : 'tessera_admin',
    path: secure ? '/' : apiPath,
    secure,
    origin: url.origin,
  };
}
export type AdminCookie = ReturnType<typeof adminCookieFor>;

declare module 'fastify' {
  interface FastifyRequest {
    admin?: AdminSession;
  }
}

/**
 * The admin a route's `requireAdmin` pre-handler signed in. A route without that pre-handler
 * calling it is a programming error, not a request to answer: it throws.
 */
export function signedInAdmin(request: FastifyRequest): AdminSession {
  if (!request.admin) throw new Error('an admin route ran without its requireAdmin pre-handler');
  return request.admin;
}

/**
 * The sign-in and the guard. Anonymous: 401 `sign_in_required`; signed in without the admin
 * role: 403 `forbidden`; a state-changing call without the session's CSRF token in
 * `ADMIN_CSRF_HEADER`, or with a foreign `Origin`: 403.
 */
export function adminAuth(
  ctx: TesseraContext,
  sessions: AdminSessions,
  throttle: LoginThrottle,
  limits: RateLimits,
  cookie: AdminCookie,
) {
  const setCookie = (reply: FastifyReply, value: string, maxAgeS: number) =>
    reply.setCookie(cookie.name, value, {
      path: cookie.path,
      httpOnly: true,
      sameSite: 'strict',
      secure: cookie.secure,
      maxAge: maxAgeS,
    });

  /** What a signed-in page is told: who, the CSRF token, until when. */
  const describe = (s: AdminSession) => ({
    username: s.username,
    csrfToken: s.csrf,
    csrfHeader: ADMIN_CSRF_HEADER,
    expiresAt: sessions.expiresAt(s),
  });

  function checkOrigin(request: FastifyRequest): void {
    const origin = request.headers.origin;
    const own = `${request.protocol}://${request.host}`;
    if (origin === undefined || (origin !== cookie.origin && origin !== own)) {
      throw new TesseraError(
        'forbidden',
        'Admin calls that change state must come from the dashboard’s origin',
      );
    }
  }

  /** The guard of every route but the sign-in and the document. */
  async function requireAdmin(request: FastifyRequest): Promise<void> {
    const session = sessions.touch(request.cookies[cookie.name]);
    if (!session) throw new TesseraError('sign_in_required', 'Sign in to the dashboard first');
    // The role is read again on every call: taking it away takes effect at once.
    const user = await ctx.stores.directory.findUserById(session.userId);
    if (!user || user.disabled || !user.roles.includes(ADMIN_ROLE)) {
      throw new TesseraError('forbidden', 'This account is not an administrator');
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      checkOrigin(request);
      if (!csrfMatches(session, request.headers[ADMIN_CSRF_HEADER.toLowerCase()])) {
        throw new TesseraError('forbidden', `Send the CSRF token of your session in ${ADMIN_CSRF_HEADER}`);
      }
    }
    request.admin = session;
  }

  function routes(app: FastifyInstance): void {
    app.post('/session', { preHandler: limits.login }, async (request, reply) => {
      checkOrigin(request);
      const params = bodyOfType(request, 'application/json');
      const username = required(params, 'username');
      const password = required(params, 'password');
      // The same lockout as every sign-in: failures count per username, in the rate-limit store.
      const user = await authenticateUser(ctx, throttle, {
        username,
        password,
        clientId: 'tessera-admin',
        ip: request.ip,
      });
      if (!user.roles.includes(ADMIN_ROLE)) {
        throw new TesseraError('forbidden', 'This account is not an administrator');
      }
      const { id, session } = sessions.start(user.id, user.username);
      setCookie(reply, id, Math.ceil((sessions.expiresAt(session) - session.createdAt) / 1000));
      await recordEvents(ctx, [
        { at: ctx.clock.now(), type: 'admin.signed_in', userId: user.id, data: { ip: request.ip } },
      ]);
      return describe(session);
    });
    app.get('/session', { preHandler: requireAdmin }, async (request) => describe(signedInAdmin(request)));
    app.delete('/session', { preHandler: requireAdmin }, async (request, reply) => {
      sessions.end(request.cookies[cookie.name]);
      setCookie(reply, '', 0);
      return reply.code(204).send();
    });
  }

  return { requireAdmin, routes };
}
