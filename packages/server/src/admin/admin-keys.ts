import type { FastifyInstance } from 'fastify';
import type { TesseraContext } from '../domain/context.js';

/** The signing-key rings the dashboard shows. */
export const KEY_RINGS = ['jwt', 'paseto'] as const;

/** `GET /keys`: every ring's keys with their state and age. */
export function keyRoutes(app: FastifyInstance, ctx: TesseraContext): void {
  app.get('/keys', async () => {
    const now = ctx.clock.now();
    const items = [];
    for (const ring of KEY_RINGS) {
      for (const k of await ctx.stores.keys.listKeys(ring)) {
        items.push({
          ring,
          kid: k.kid,
          alg: k.alg,
          state: k.state,
          createdAt: k.createdAt,
          activatedAt: k.activatedAt,
          retiredAt: k.retiredAt,
          ageSeconds: Math.floor((now - (k.activatedAt ?? k.createdAt)) / 1000),
        });
      }
    }
    return { items };
  });
}
