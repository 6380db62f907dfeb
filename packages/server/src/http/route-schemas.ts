import { AUTH_API_PATH, ENDPOINTS, REVOCATION_FEED_METADATA } from '@tessera/protocol';

// The JSON schemas of every route, for the OpenAPI document (`/openapi.json`). They describe;
// they do not validate or serialise: the routes parse their input themselves (strict parsers,
// the project's error shape for every refusal) and answer with JSON.stringify, so adding a
// schema here changes no answer. A test compares the document with real answers.

type Schema = Record<string, unknown>;

/** The one error shape of every refusal (docs/errors.md). */
export const ERROR_SCHEMA: Schema = {
  $id: 'TesseraError',
  type: 'object',
  description:
    'Every refusal: the OAuth `error`, a Tessera `error_code` from the one table, and whether a retry may succeed.',
  required: ['error', 'error_description', 'error_code', 'retryable'],
  additionalProperties: false,
  properties: {
    error: { type: 'string', description: 'The OAuth error (RFC 6749 §5.2, RFC 7009, RFC 6750).' },
    error_description: { type: 'string' },
    error_code: { type: 'string', description: 'The Tessera error code (docs/errors.md).' },
    retryable: {
      type: 'boolean',
      description: 'True when the same request may succeed later (then Retry-After is set).',
    },
    session_end_reason: {
      type: 'string',
      description:
        'Present when the request failed because the session had ended: why it ended (logout, admin_revoked, idle_expired, absolute_expired, reuse_detected, …; SESSION_END_REASONS of @tessera/protocol).',
    },
  },
};

const error = (description: string): Schema => ({
  description,
  content: { 'application/json': { schema: { $ref: 'TesseraError#' } } },
});

const REFUSED = {
  400: error(
    'Bad input: a missing, repeated or malformed parameter, or the grant refused (invalid_grant, token_reused, …).',
  ),
  401: error('Client authentication failed (invalid_client), with a Basic challenge when Basic was tried.'),
  413: error('The body is over the size limit.'),
  415: error(
    'The body is neither application/x-www-form-urlencoded nor application/json as the route takes.',
  ),
};
const RATE_LIMITED = {
  429: error('Too many requests from this address; Retry-After says when to try again.'),
};
const STORE_DOWN = { 503: error('The token store is unreachable (fail closed); retryable.') };
const DUPLICATE_QUERY = { 400: error('A query parameter was sent more than once.') };

const TOKEN_RESPONSE: Schema = {
  type: 'object',
  required: ['access_token', 'token_type', 'expires_in', 'scope', 'revocation_endpoint'],
  additionalProperties: false,
  properties: {
    access_token: { type: 'string' },
    token_type: { type: 'string', enum: ['Bearer', 'DPoP'] },
    expires_in: { type: 'integer', minimum: 0, description: 'Seconds until the access token expires.' },
    refresh_token: {
      type: 'string',
      description: 'Absent for client_credentials and in browser cookie mode.',
    },
    refresh_token_expires_in: { type: 'integer', minimum: 0 },
    scope: { type: 'string' },
    revocation_endpoint: { type: 'string' },
  },
};

const tokenResponse = (description: string): Schema => ({
  description,
  headers: { 'cache-control': { schema: { type: 'string', const: 'no-store' } } },
  content: { 'application/json': { schema: TOKEN_RESPONSE } },
});

const formBody = (properties: Record<string, Schema>, required: string[]): Schema => ({
  content: {
    'application/x-www-form-urlencoded': {
      schema: { type: 'object', required, properties },
    },
  },
});
const jsonBody = (properties: Record<string, Schema>, required: string[]): Schema => ({
  content: { 'application/json': { schema: { type: 'object', required, properties } } },
});
const str = (description: string): Schema => ({ type: 'string', description });

const CLIENT_AUTH = {
  client_id: str(
    'The client, for public clients and client_secret_post (confidential clients may use Basic).',
  ),
  client_secret: str('client_secret_post; prefer HTTP Basic (client_secret_basic).'),
};

/** The `DPoP` request header (RFC 9449) of the routes that take a proof. */
const DPOP_REQUEST_HEADER: Schema = {
  type: 'object',
  properties: {
    DPoP: {
      type: 'string',
      description:
        'A DPoP proof (RFC 9449 §4): a dpop+jwt JWS signed with ES256, EdDSA or RS256 whose htm and htu name this request. Required for clients added with --dpop and for DPoP-bound sessions; at most one, of at most 8 KiB. A proof binds a new session to its key (token_type DPoP, cnf.jkt).',
    },
  },
};

/** The `DPoP-Nonce` answer header, sent to clients added with --dpop-nonce. */
const DPOP_NONCE_HEADER: Schema = {
  description:
    'The server nonce (RFC 9449 §8) the next proof must carry; with a 400 use_dpop_nonce, the one to retry with.',
  schema: { type: 'string' },
};

/** `responses` with `DPoP-Nonce` added to the headers of the statuses that may carry it. */
function withDpopNonce(responses: Record<number, Schema>, statuses = [200, 400]): Record<number, Schema> {
  const out: Record<number, Schema> = { ...responses };
  for (const status of statuses) {
    const response = out[status];
    if (response === undefined) continue;
    const headers = (response.headers as Record<string, Schema> | undefined) ?? {};
    out[status] = { ...response, headers: { ...headers, 'DPoP-Nonce': DPOP_NONCE_HEADER } };
  }
  return out;
}

const ok = (description: string, schema: Schema, type = 'application/json'): Schema => ({
  description,
  content: { [type]: { schema } },
});

/** An OpenAPI operation: its documentation and its responses by status. */
export interface RouteSchema {
  tags: string[];
  summary: string;
  description?: string;
  body?: Schema;
  /** Request headers, as a JSON schema of an object (OpenAPI header parameters). */
  headers?: Schema;
  response: Record<number, Schema>;
}

/** Every route's schema, by `METHOD path` (the path without any prefix the server is mounted at). */
export const ROUTE_SCHEMAS: Record<string, RouteSchema> = {
  [`POST ${ENDPOINTS.token}`]: {
    tags: ['oauth'],
    summary: 'Token endpoint (RFC 6749): refresh_token, password and client_credentials grants',
    description:
      'Every refresh rotates the refresh token. Concurrent refreshes of one token get one answer; a retry of the parent within the grace period gets the same child; an older token ends the session (token_reused).',
    body: {
      description: 'application/x-www-form-urlencoded',
      ...formBody(
        {
          grant_type: { type: 'string', enum: ['refresh_token', 'password', 'client_credentials'] },
          refresh_token: str('refresh_token grant'),
          username: str('password grant (first-party clients, off unless enabled per client)'),
          password: str('password grant'),
          scope: str('space-separated scopes; default: the client’s default scope'),
          nonce: str('a fresh value per refresh; a reused one is refused (replay_detected)'),
          ...CLIENT_AUTH,
        },
        ['grant_type'],
      ),
    },
    headers: DPOP_REQUEST_HEADER,
    response: withDpopNonce({
      200: tokenResponse('New tokens.'),
      ...REFUSED,
      ...RATE_LIMITED,
      ...STORE_DOWN,
    }),
  },
  [`POST ${ENDPOINTS.revocation}`]: {
    tags: ['oauth'],
    summary: 'Revocation (RFC 7009): a refresh token ends its session; an access token is revoked',
    body: formBody(
      {
        token: str('the token to revoke'),
        token_type_hint: str('access_token or refresh_token'),
        ...CLIENT_AUTH,
      },
      ['token'],
    ),
    headers: DPOP_REQUEST_HEADER,
    response: withDpopNonce({
      200: { type: 'null', description: 'Revoked, or unknown (RFC 7009 answers 200 either way). No body.' },
      ...REFUSED,
      ...STORE_DOWN,
    }),
  },
  [`POST ${ENDPOINTS.introspection}`]: {
    tags: ['oauth'],
    summary: 'Introspection (RFC 7662); requires client authentication',
    body: formBody(
      {
        token: str('the token to introspect'),
        token_type_hint: str('access_token or refresh_token'),
        ...CLIENT_AUTH,
      },
      ['token'],
    ),
    response: {
      200: ok('Unknown, expired, revoked and other clients’ tokens are exactly {"active":false}.', {
        oneOf: [
          {
            type: 'object',
            required: ['active'],
            additionalProperties: false,
            properties: { active: { const: false } },
          },
          {
            type: 'object',
            required: ['active', 'token_type', 'scope', 'client_id', 'sub', 'exp', 'iat', 'iss'],
            properties: {
              active: { const: true },
              token_type: { type: 'string', enum: ['Bearer', 'DPoP', 'refresh_token'] },
              scope: { type: 'string' },
              client_id: { type: 'string' },
              sub: { type: 'string' },
              username: { type: 'string' },
              exp: { type: 'integer' },
              iat: { type: 'integer' },
              iss: { type: 'string' },
              aud: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
              jti: { type: 'string' },
              sid: { type: 'string' },
              roles: { type: 'array', items: { type: 'string' } },
              cnf: { type: 'object', properties: { jkt: { type: 'string' } } },
            },
          },
        ],
      }),
      ...REFUSED,
    },
  },
  [`POST ${ENDPOINTS.login}`]: {
    tags: ['first-party'],
    summary: 'Sign in with a username and password (JSON); the client authenticates as at the token endpoint',
    description: `In browser cookie mode the refresh token is set as an HttpOnly cookie (scoped to ${AUTH_API_PATH}) and left out of the body; the request then needs the CSRF header.`,
    body: jsonBody({ username: str('the user'), password: str('the password'), ...CLIENT_AUTH }, [
      'username',
      'password',
    ]),
    headers: DPOP_REQUEST_HEADER,
    response: withDpopNonce({
      200: tokenResponse('Signed in.'),
      ...REFUSED,
      401: error(
        'Wrong username or password (the answer does not say which), or client authentication failed.',
      ),
      403: error('Cookie mode: the CSRF header is missing or the request is cross-site.'),
      ...RATE_LIMITED,
    }),
  },
  [`POST ${ENDPOINTS.refresh}`]: {
    tags: ['first-party'],
    summary:
      'Refresh (JSON), or in cookie mode with the refresh-token cookie; the same rules as the refresh grant',
    body: jsonBody(
      {
        refresh_token: str('absent in cookie mode'),
        nonce: str('a fresh value per refresh'),
        ...CLIENT_AUTH,
      },
      [],
    ),
    headers: DPOP_REQUEST_HEADER,
    response: withDpopNonce({
      200: tokenResponse('New tokens.'),
      ...REFUSED,
      403: error('Cookie mode: the CSRF header is missing or the request is cross-site.'),
      ...RATE_LIMITED,
    }),
  },
  [`POST ${ENDPOINTS.logout}`]: {
    tags: ['first-party'],
    summary:
      'Sign out: ends the caller’s session (its refresh tokens and access tokens) and clears the cookie',
    body: jsonBody({ refresh_token: str('absent in cookie mode'), ...CLIENT_AUTH }, []),
    headers: {
      type: 'object',
      properties: {
        Authorization: str(
          'Bearer <access token>, or DPoP <access token> with a DPoP proof (with ath) for a DPoP-bound token; instead of a refresh token',
        ),
        ...(DPOP_REQUEST_HEADER.properties as Record<string, Schema>),
      },
    },
    response: {
      204: {
        type: 'null',
        description:
          'Signed out (also for a token that is unknown or already ended, or a client that is unknown).',
      },
      400: REFUSED[400],
      403: error('Cookie mode: the CSRF header is missing or the request is cross-site.'),
      413: REFUSED[413],
      415: REFUSED[415],
    },
  },
  [`GET ${ENDPOINTS.metadata}`]: {
    tags: ['discovery'],
    summary: 'Authorization-server metadata (RFC 8414)',
    response: {
      200: ok('The issuer and its endpoints.', {
        type: 'object',
        required: [
          'issuer',
          'token_endpoint',
          'revocation_endpoint',
          'introspection_endpoint',
          'jwks_uri',
          REVOCATION_FEED_METADATA,
          'grant_types_supported',
          'token_endpoint_auth_methods_supported',
        ],
        properties: {
          issuer: { type: 'string' },
          token_endpoint: { type: 'string' },
          revocation_endpoint: { type: 'string' },
          introspection_endpoint: { type: 'string' },
          jwks_uri: { type: 'string' },
          [REVOCATION_FEED_METADATA]: { type: 'string' },
          grant_types_supported: { type: 'array', items: { type: 'string' } },
          token_endpoint_auth_methods_supported: { type: 'array', items: { type: 'string' } },
          dpop_signing_alg_values_supported: { type: 'array', items: { type: 'string' } },
        },
      }),
      ...DUPLICATE_QUERY,
    },
  },
  [`GET ${ENDPOINTS.jwks}`]: {
    tags: ['discovery'],
    summary: 'The public signing keys: current, next and recently retired (RFC 7517)',
    response: {
      200: ok('A JWK set.', {
        type: 'object',
        required: ['keys'],
        properties: {
          keys: {
            type: 'array',
            items: {
              type: 'object',
              required: ['kty', 'kid'],
              properties: { kty: { type: 'string' }, kid: { type: 'string' } },
            },
          },
        },
      }),
      ...DUPLICATE_QUERY,
    },
  },
  [`GET ${ENDPOINTS.revocationFeed}`]: {
    tags: ['resource-servers'],
    summary:
      'Revoked sessions and token ids, for resource servers: a JSON snapshot, or Server-Sent Events with Accept: text/event-stream',
    description:
      'Requires the client authentication of a resource-server client. Resume a stream with Last-Event-ID.',
    response: {
      200: {
        description: 'The notices after Last-Event-ID (or all current ones).',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['seq', 'notices'],
              additionalProperties: false,
              properties: {
                seq: { type: 'integer' },
                notices: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['seq', 'kind', 'value', 'exp'],
                    properties: {
                      seq: { type: 'integer' },
                      kind: { type: 'string', enum: ['family', 'jti'] },
                      value: { type: 'string' },
                      exp: { type: 'integer' },
                    },
                  },
                },
              },
            },
          },
          'text/event-stream': { schema: { type: 'string' } },
        },
      },
      400: DUPLICATE_QUERY[400],
      401: REFUSED[401],
      403: error('The client is not a resource server.'),
    },
  },
  'GET /healthz': {
    tags: ['health'],
    summary: 'Liveness',
    response: {
      200: ok('The process answers.', {
        type: 'object',
        required: ['status'],
        additionalProperties: false,
        properties: { status: { const: 'ok' } },
      }),
      ...DUPLICATE_QUERY,
    },
  },
  'GET /readyz': {
    tags: ['health'],
    summary: 'Readiness: the store answers',
    response: {
      200: ok('Ready.', {
        type: 'object',
        required: ['status'],
        additionalProperties: false,
        properties: { status: { const: 'ready' } },
      }),
      ...DUPLICATE_QUERY,
      503: error('The store is unreachable.'),
    },
  },
  'GET /metrics': {
    tags: ['health'],
    summary: 'Prometheus metrics',
    response: {
      200: ok('The Prometheus text format.', { type: 'string' }, 'text/plain'),
      ...DUPLICATE_QUERY,
    },
  },
};
