/**
 * A Fastify API in its own process. `/open` answers a small JSON with no auth (the bare Fastify
 * request of the physical limit, and the protected route's baseline). With an `issuer`, the
 * `@tessera/resource` plugin guards `/protected` (default verified-token cache) and `/nocache/protected`
 * (a second plugin instance with `cacheSize: 0`: every request verifies a signature).
 */

import { tesseraResource } from '@tessera/resource/fastify';
import Fastify from 'fastify';
import { childArgs, serve } from '../lib/child.js';

interface Args {
  port: number;
  issuer?: string;
  clientId?: string;
  clientSecret?: string;
}

const args = childArgs<Args>();
const cores: Record<string, { stats(): unknown }> = {};
const app = Fastify({ logger: false });
app.get('/open', async () => ({ ok: true, sub: 'anonymous' }));

if (args.issuer) {
  const options = {
    issuer: args.issuer,
    audience: args.issuer,
    ...(args.clientId ? { clientId: args.clientId, clientSecret: args.clientSecret } : {}),
  };
  await app.register(async (scope) => {
    await scope.register(tesseraResource, options);
    cores.cached = scope.resourceServer;
    scope.get('/protected', { onRequest: scope.requireAuth() }, async (request) => ({
      ok: true,
      sub: request.auth!.sub,
    }));
  });
  await app.register(
    async (scope) => {
      await scope.register(tesseraResource, { ...options, cacheSize: 0 });
      cores.uncached = scope.resourceServer;
      scope.get('/protected', { onRequest: scope.requireAuth() }, async (request) => ({
        ok: true,
        sub: request.auth!.sub,
      }));
    },
    { prefix: '/nocache' },
  );
}

await app.listen({ host: '127.0.0.1', port: args.port });
const url = `http://127.0.0.1:${args.port}`;

serve(
  { url },
  {
    stats() {
      return Object.fromEntries(Object.entries(cores).map(([k, rs]) => [k, rs.stats()]));
    },
  },
  () => app.close(),
);
