import { TesseraError } from '@tessera/protocol';
import type { FastifyInstance } from 'fastify';
import type { TesseraContext } from '../../domain/context.js';
import { sendError } from '../error-handler.js';

/** Liveness and readiness (the store answers). */
export function healthRoutes(app: FastifyInstance, ctx: TesseraContext) {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (request, reply) => {
    try {
      await ctx.stores.ping();
      return { status: 'ready' };
    } catch (err) {
      request.log.warn({ err: { message: (err as Error).message } }, 'store not ready');
      return sendError(reply, new TesseraError('temporarily_unavailable', 'The store is not reachable'));
    }
  });
}
