import { ENDPOINTS, TesseraError } from '@tessera/protocol';
import type { FastifyInstance } from 'fastify';
import { requireClient } from '../../domain/authenticate-client.js';
import type { TesseraContext } from '../../domain/context.js';
import { introspectToken } from '../../domain/introspect-token.js';
import { revokeToken } from '../../domain/revoke-token.js';
import { clientCredentials } from '../client-credentials.js';
import { dpopProofOf } from '../dpop-proof.js';
import { bodyOfType, required } from '../parse-body.js';

const HINTS = ['access_token', 'refresh_token'];

/** `POST /oauth/revoke` (RFC 7009) and `POST /oauth/introspect` (RFC 7662). */
export function revokeIntrospectRoutes(app: FastifyInstance, ctx: TesseraContext) {
  app.post(ENDPOINTS.revocation, async (request, reply) => {
    const params = bodyOfType(request, 'application/x-www-form-urlencoded');
    const { client } = await requireClient(ctx, clientCredentials(request, params));
    const token = required(params, 'token');
    const hint = params.token_type_hint;
    if (hint !== undefined && !HINTS.includes(hint)) {
      throw new TesseraError(
        'unsupported_token_type',
        'token_type_hint must be access_token or refresh_token',
      );
    }
    // A proof is optional here; it is what lets a public client revoke a DPoP-bound token.
    const dpopJkt = await dpopProofOf(ctx, request, reply, client, ENDPOINTS.revocation, { optional: true });
    await revokeToken(ctx, { token, client, initiator: 'client', dpopJkt });
    return reply.code(200).send();
  });

  app.post(ENDPOINTS.introspection, async (request) => {
    const params = bodyOfType(request, 'application/x-www-form-urlencoded');
    const { client, method } = await requireClient(ctx, clientCredentials(request, params));
    if (method === 'none')
      throw new TesseraError('invalid_client', 'Introspection requires a confidential client');
    const token = required(params, 'token');
    return introspectToken(ctx, { token, client });
  });
}
