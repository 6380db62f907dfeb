import { encodeBasicCredentials, type IntrospectionResponse } from '@tessera/protocol';

/**
 * RFC 7662 as a request/process pair: each half is testable without a server.
 */

/** Builds the introspection request, authenticated with `client_secret_basic`. */
export function buildIntrospectionRequest(
  endpoint: string,
  token: string,
  clientId: string,
  clientSecret: string,
  timeoutMs: number,
): Request {
  return new Request(endpoint, {
    method: 'POST',
    headers: {
      accept: 'application/json',
      'content-type': 'application/x-www-form-urlencoded',
      authorization: encodeBasicCredentials(clientId, clientSecret),
    },
    body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
    redirect: 'error',
    signal: AbortSignal.timeout(timeoutMs),
  });
}

/**
 * Validates an introspection answer's shape. Anything that is not a well-formed active answer
 * is read as inactive, except an answer with no `active` boolean at all, which is an error.
 */
export function processIntrospectionBody(body: unknown): IntrospectionResponse {
  if (
    typeof body !== 'object' ||
    body === null ||
    typeof (body as { active?: unknown }).active !== 'boolean'
  ) {
    throw new Error('malformed introspection answer');
  }
  const b = body as Record<string, unknown>;
  if (b.active !== true) return { active: false };
  const str = (k: string) => typeof b[k] === 'string';
  if (
    !str('sub') ||
    !str('client_id') ||
    !str('iss') ||
    typeof b.exp !== 'number' ||
    !Number.isFinite(b.exp)
  ) {
    return { active: false };
  }
  if (b.scope !== undefined && !str('scope')) return { active: false };
  const aud = b.aud;
  if (
    aud !== undefined &&
    typeof aud !== 'string' &&
    !(Array.isArray(aud) && aud.every((a) => typeof a === 'string'))
  ) {
    return { active: false };
  }
  return b as IntrospectionResponse;
}
