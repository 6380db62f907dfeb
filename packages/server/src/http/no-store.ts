import type { FastifyInstance, onSendHookHandler } from 'fastify';

/**
 * Answers that carry tokens, or say anything about them, must never be stored by a browser or
 * a proxy (RFC 6749 §5.1, RFC 7662 §4). The hook runs on every answer of the routes it is
 * added to, success and error alike, so no handler can forget it.
 */
export const noStore: onSendHookHandler = async (_request, reply, payload) => {
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
  return payload;
};

/**
 * Registers `routes` in a plugin of their own whose every answer is `Cache-Control: no-store`
 * and `Pragma: no-cache`. Encapsulated: routes registered elsewhere (discovery, health) keep
 * their own caching.
 */
export async function tokenBearingRoutes(
  app: FastifyInstance,
  routes: (scope: FastifyInstance) => Promise<void> | void,
): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook('onSend', noStore);
    await routes(scope);
  });
}
