import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ReauthenticationRequired } from '../errors.js';
import type { TokenVault } from '../token-vault.js';
import { answerFor, NOT_SIGNED_IN } from './answers.js';
import type { UpstreamContext } from './upstream-context.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `requireUpstreamToken`; `null` before. */
    upstream: UpstreamContext | null;
  }
  interface FastifyInstance {
    /** A hook (`onRequest` or `preHandler`) that puts a valid upstream token on `request.upstream`. */
    requireUpstreamToken(options?: {
      connection?: string;
    }): (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
}

export type { UpstreamContext } from './upstream-context.js';

export interface FastifyVaultOptions {
  vault: TokenVault;
  /** How the app knows who is signed in (its session); `undefined` means nobody. */
  userId(request: FastifyRequest): string | undefined | Promise<string | undefined>;
  connection?: string;
  /** Answer a user who must sign in (again), e.g. `reply.redirect('/login')`; default 401 `reauthentication_required`. */
  onReauthenticationRequired?(request: FastifyRequest, reply: FastifyReply): Promise<void> | void;
}

/**
 * Fastify plugin: decorates `request.upstream` and `fastify.requireUpstreamToken()`. Not
 * encapsulated (like `fastify-plugin`), so routes of the registering instance see them.
 *
 * @example
 * await app.register(tesseraVault, { vault, userId: (req) => req.session.userId });
 * app.get('/api/profile', { preHandler: app.requireUpstreamToken() }, (req) => req.upstream!.fetch(url));
 */
export async function tesseraVault(app: FastifyInstance, opts: FastifyVaultOptions): Promise<void> {
  const { vault } = opts;
  app.decorateRequest('upstream', null);
  app.decorate('requireUpstreamToken', (o: { connection?: string } = {}) => {
    const connection = o.connection ?? opts.connection;
    const conn = connection === undefined ? {} : { connection };
    return async function tesseraUpstreamToken(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      try {
        const userId = await opts.userId(request);
        if (!userId) throw NOT_SIGNED_IN;
        const accessToken = await vault.getValidAccessToken(userId, conn);
        request.upstream = {
          userId,
          connection: connection ?? 'default',
          accessToken,
          fetch: (url, init) => vault.fetch(userId, url, init, conn),
        };
      } catch (err) {
        if (
          (err === NOT_SIGNED_IN || err instanceof ReauthenticationRequired) &&
          opts.onReauthenticationRequired
        ) {
          await opts.onReauthenticationRequired(request, reply);
          return;
        }
        const answer = answerFor(err, Date.now());
        if (!answer) throw err;
        await reply.code(answer.status).headers(answer.headers).send(answer.body);
      }
    };
  });
}

// What `fastify-plugin` sets, written out so the adapter needs no extra dependency.
Object.assign(tesseraVault, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: '@tessera/vault',
  [Symbol.for('plugin-meta')]: { name: '@tessera/vault', fastify: '5.x' },
});

export default tesseraVault;
