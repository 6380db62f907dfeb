import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { failureParts } from '../core/answers.js';
import type { AuthInfo, AuthResult, RequireAuthOptions } from '../core/auth-result.js';
import { createResourceServer, type ResourceServer } from '../core/create-resource-server.js';
import type { ResourceServerOptions } from '../core/options.js';
import { checkAccess } from '../core/require-auth.js';
import { nodeSources } from './node-sources.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller, set by `requireAuth` (or the global hook); `null` before. */
    auth: AuthInfo | null;
  }
  interface FastifyInstance {
    /** A hook (`onRequest` or `preHandler`) that refuses requests without a valid token. */
    requireAuth(
      required?: RequireAuthOptions,
    ): (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    /** The core, for `status()` and `stats()` (e.g. in a readiness route). */
    resourceServer: ResourceServer;
  }
}

/** Plugin options: the core's options, or an existing core. */
export type TesseraFastifyOptions = (ResourceServerOptions | { server: ResourceServer }) & {
  /** Guard every route of this instance (`true`, or with scopes and roles). */
  global?: boolean | RequireAuthOptions;
};

function send(reply: FastifyReply, result: Extract<AuthResult, { ok: false }>): FastifyReply {
  const { status, headers, body } = failureParts(result);
  return reply.code(status).headers(headers).send(body);
}

/**
 * Fastify plugin: decorates `request.auth` and `fastify.requireAuth(...)`. Not encapsulated
 * (like `fastify-plugin`), so the decorators are visible to the routes of the registering
 * instance.
 *
 * @example
 * await app.register(tesseraResource, { issuer, audience: 'https://api.example.com' });
 * app.get('/orders', { onRequest: app.requireAuth({ scopes: ['orders:read'] }) }, (req) => req.auth);
 */
export async function tesseraResource(app: FastifyInstance, opts: TesseraFastifyOptions): Promise<void> {
  const owned = !('server' in opts);
  const rs = 'server' in opts ? opts.server : createResourceServer(opts);
  app.decorate('resourceServer', rs);
  app.decorateRequest('auth', null);
  app.decorate('requireAuth', (required?: RequireAuthOptions) => {
    return async function tesseraRequireAuth(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      // Already authenticated by an earlier hook: only the access rules remain.
      if (request.auth !== null) {
        const access = required ? checkAccess(request.auth, required, rs.config) : undefined;
        if (access && !access.ok) await send(reply, access);
        return;
      }
      const result = await rs.authenticateSources(nodeSources(request.raw, request.body), required);
      if (!result.ok) {
        await send(reply, result);
        return;
      }
      request.auth = result.auth;
    };
  });
  if (opts.global) app.addHook('onRequest', app.requireAuth(opts.global === true ? undefined : opts.global));
  app.addHook('onReady', async () => rs.start());
  // preClose: the feed's stream must end before the server waits for its connections to close.
  if (owned) app.addHook('preClose', async () => rs.close());
}

// What `fastify-plugin` sets, written out so the adapter needs no extra dependency.
Object.assign(tesseraResource, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: '@tessera/resource',
  [Symbol.for('plugin-meta')]: { name: '@tessera/resource', fastify: '5.x' },
});

export default tesseraResource;
