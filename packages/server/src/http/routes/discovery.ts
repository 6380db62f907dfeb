import { DPOP_SIGNING_ALGS, ENDPOINTS, REVOCATION_FEED_METADATA } from '@tessera/protocol';
import type { FastifyInstance } from 'fastify';
import { LIMITS } from '../../config/limits.js';
import type { TesseraContext } from '../../domain/context.js';

/** RFC 8414 metadata and the JWKS. */
export function discoveryRoutes(app: FastifyInstance, ctx: TesseraContext) {
  const { issuer } = ctx.config;
  const authMethods = ['client_secret_basic', 'client_secret_post', 'none'];
  const metadata = () => ({
    issuer,
    token_endpoint: `${issuer}${ENDPOINTS.token}`,
    revocation_endpoint: `${issuer}${ENDPOINTS.revocation}`,
    introspection_endpoint: `${issuer}${ENDPOINTS.introspection}`,
    jwks_uri: `${issuer}${ENDPOINTS.jwks}`,
    [REVOCATION_FEED_METADATA]: `${issuer}${ENDPOINTS.revocationFeed}`,
    grant_types_supported: ['refresh_token', 'password', 'client_credentials'],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: authMethods,
    revocation_endpoint_auth_methods_supported: authMethods,
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    dpop_signing_alg_values_supported: [...DPOP_SIGNING_ALGS],
    ...Object.assign({}, ...[...ctx.formats.values()].map((f) => f.metadata?.() ?? {})),
  });

  app.get(ENDPOINTS.metadata, async (_request, reply) => {
    reply.header('cache-control', `public, max-age=${LIMITS.metadataMaxAgeSeconds}`);
    return metadata();
  });

  app.get(ENDPOINTS.jwks, async (_request, reply) => {
    // Short cache: the next key is published well before it signs, so a minute of staleness is safe.
    reply.header('cache-control', `public, max-age=${LIMITS.jwksMaxAgeSeconds}`);
    return ctx.keyRing.jwks();
  });
}
