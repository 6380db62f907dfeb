import { TesseraError } from '@tessera/protocol';
import type { FastifyInstance } from 'fastify';
import type { TesseraContext } from '../../domain/context.js';
import { sendError } from '../error-handler.js';

/** Liveness, readiness (the store answers) and Prometheus metrics. */
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

  app.get('/metrics', async (_request, reply) => {
    ctx.metrics.signingKeyAge.set(ctx.keyRing.currentAge() / 1000);
    reply.type(ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });
}
