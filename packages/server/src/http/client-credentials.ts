import type { FastifyRequest } from 'fastify';
import type { ClientCredentials } from '../domain/authenticate-client.js';
import type { Params } from './parse-body.js';

/**
 * What a request offers to authenticate its client (RFC 6749 §2.3): the `Authorization`
 * header and the `client_id` / `client_secret` parameters.
 *
 * @param basicOnly pass only a Basic `Authorization` on (the first-party endpoints, where a
 *   Bearer header is the caller's access token, not client authentication).
 */
export function clientCredentials(
  request: FastifyRequest,
  params: Params,
  { basicOnly = false } = {},
): ClientCredentials {
  const authorization = request.headers.authorization;
  return {
    authorization: basicOnly && !authorization?.startsWith('Basic ') ? undefined : authorization,
    clientId: params.client_id,
    clientSecret: params.client_secret,
    ip: request.ip,
  };
}
