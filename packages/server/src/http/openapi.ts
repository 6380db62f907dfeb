import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import type { TesseraContext } from '../domain/context.js';
import { SERVER_VERSION } from '../version.js';
import { ERROR_SCHEMA, ROUTE_SCHEMAS } from './route-schemas.js';

/** Where the OpenAPI document is served, under the server's prefix. */
export const OPENAPI_PATH = '/openapi.json';

/**
 * Attaches each route's schema (`ROUTE_SCHEMAS`) as it is added, and serves the OpenAPI 3.1
 * document that `@fastify/swagger` builds from them at `/openapi.json`. The schemas document
 * only: in this scope no schema validates a request (the routes' own parsers do, with the
 * project's error shape) and answers are serialised with JSON.stringify, as without schemas.
 * Call it before the routes are added.
 */
export async function registerOpenApi(app: FastifyInstance, ctx: TesseraContext): Promise<void> {
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.addSchema(ERROR_SCHEMA);
  app.addHook('onRoute', (route) => {
    if (typeof route.method !== 'string') return;
    const documented = ROUTE_SCHEMAS[`${route.method} ${route.routePath}`];
    if (documented) route.schema = { ...documented, ...route.schema };
  });
  const { issuer } = ctx.config;
  // Paths carry the prefix the server is mounted at; the server URL is the issuer without it.
  const prefix = app.prefix;
  const server = prefix !== '' && issuer.endsWith(prefix) ? issuer.slice(0, -prefix.length) : issuer;
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tessera authorization server',
        version: SERVER_VERSION,
        description:
          'OAuth 2.0 token, revocation and introspection endpoints, a first-party sign-in API, metadata, keys, a revocation feed for resource servers, and health. Every refusal has one shape (TesseraError). Besides the answers listed per operation, a request can be refused before it reaches one, in the same shape: 400 (malformed HTTP), 404 (no such path), 405 (a method the path does not take, with Allow), 408 (request_timeout: not received whole in time; retryable) and 431 (headers too large).',
        license: { name: 'MIT', identifier: 'MIT' },
      },
      servers: [{ url: server }],
      tags: [
        { name: 'oauth', description: 'RFC 6749, RFC 7009, RFC 7662' },
        {
          name: 'first-party',
          description: 'Sign-in API for the first-party apps (JSON, browser cookie mode)',
        },
        { name: 'discovery', description: 'RFC 8414 metadata and the JWKS' },
        { name: 'resource-servers', description: 'The revocation feed' },
        { name: 'health', description: 'Liveness, readiness, metrics' },
      ],
    },
    // Only Tessera's routes: a host's own routes (the demo's page) stay out of this document.
    hideUntagged: true,
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
  });
  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());
}
