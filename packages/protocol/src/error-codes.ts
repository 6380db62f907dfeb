/**
 * The one table of Tessera error codes. The server, the resource-server middleware, the SDK and
 * the dashboard all read it; nothing else declares an error code. Append only: a code, once
 * published, keeps its meaning. `docs/errors.md` is generated from it (`npm run docs:errors`).
 *
 * - `status`: the HTTP status the authorization server answers with.
 * - `error`: the OAuth `error` value (RFC 6749 §5.2, RFC 7009, RFC 6750, RFC 9449) sent on the wire.
 * - `retryable`: a client may try the same request again later (the answer carries `Retry-After`).
 * - `endsSession`: the session can never recover; the SDK signs the user out on this code alone.
 * - `message`: the default `error_description`.
 */
export const ERROR_CODES = {
  invalid_request: {
    status: 400,
    error: 'invalid_request',
    retryable: false,
    endsSession: false,
    message: 'The request is missing a parameter or is otherwise malformed',
  },
  duplicate_parameter: {
    status: 400,
    error: 'invalid_request',
    retryable: false,
    endsSession: false,
    message: 'A parameter was sent more than once',
  },
  payload_too_large: {
    status: 413,
    error: 'invalid_request',
    retryable: false,
    endsSession: false,
    message: 'The request body is larger than allowed',
  },
  unsupported_media_type: {
    status: 415,
    error: 'invalid_request',
    retryable: false,
    endsSession: false,
    message: 'The request content type is not supported here',
  },
  invalid_client: {
    status: 401,
    error: 'invalid_client',
    retryable: false,
    endsSession: false,
    message: 'Client authentication failed',
  },
  unauthorized_client: {
    status: 400,
    error: 'unauthorized_client',
    retryable: false,
    endsSession: false,
    message: 'The client is not allowed to use this grant type',
  },
  unsupported_grant_type: {
    status: 400,
    error: 'unsupported_grant_type',
    retryable: false,
    endsSession: false,
    message: 'The grant type is not supported',
  },
  unsupported_token_type: {
    status: 400,
    error: 'unsupported_token_type',
    retryable: false,
    endsSession: false,
    message: 'The token type is not supported',
  },
  invalid_scope: {
    status: 400,
    error: 'invalid_scope',
    retryable: false,
    endsSession: false,
    message: 'The requested scope is invalid or exceeds what was granted',
  },
  invalid_credentials: {
    status: 401,
    error: 'invalid_grant',
    retryable: false,
    endsSession: false,
    message: 'Invalid username or password',
  },
  invalid_grant: {
    status: 400,
    error: 'invalid_grant',
    retryable: false,
    endsSession: true,
    message: 'The grant is invalid',
  },
  invalid_token: {
    status: 400,
    error: 'invalid_grant',
    retryable: false,
    endsSession: true,
    message: 'The token is malformed or unknown',
  },
  token_expired: {
    status: 400,
    error: 'invalid_grant',
    retryable: false,
    endsSession: true,
    message: 'The refresh token has expired',
  },
  token_reused: {
    status: 400,
    error: 'invalid_grant',
    retryable: false,
    endsSession: true,
    message: 'Token has been rotated and grace period has expired',
  },
  token_revoked: {
    status: 400,
    error: 'invalid_grant',
    retryable: false,
    endsSession: true,
    message: 'The token has been revoked',
  },
  invalid_token_state: {
    status: 400,
    error: 'invalid_grant',
    retryable: false,
    endsSession: true,
    message: 'The token is in a state that does not allow this operation',
  },
  session_expired: {
    status: 400,
    error: 'invalid_grant',
    retryable: false,
    endsSession: true,
    message: 'The session has ended',
  },
  client_mismatch: {
    status: 400,
    error: 'invalid_grant',
    retryable: false,
    endsSession: true,
    message: 'The token was issued to another client',
  },
  replay_detected: {
    status: 400,
    error: 'invalid_request',
    retryable: false,
    endsSession: false,
    message: 'This request was already seen (replayed nonce)',
  },
  use_dpop_nonce: {
    status: 400,
    error: 'use_dpop_nonce',
    retryable: true,
    endsSession: false,
    message: 'Authorization server requires a DPoP nonce in the proof',
  },
  invalid_dpop_proof: {
    status: 400,
    error: 'invalid_dpop_proof',
    retryable: false,
    endsSession: false,
    message: 'The DPoP proof is invalid',
  },
  rotation_in_progress: {
    status: 503,
    error: 'temporarily_unavailable',
    retryable: true,
    endsSession: false,
    message: 'A rotation of this token is in progress; retry shortly',
  },
  rate_limited: {
    status: 429,
    error: 'temporarily_unavailable',
    retryable: true,
    endsSession: false,
    message: 'Too many requests; retry later',
  },
  temporarily_unavailable: {
    status: 503,
    error: 'temporarily_unavailable',
    retryable: true,
    endsSession: false,
    message: 'The service is temporarily unavailable; retry later',
  },
  server_error: {
    status: 500,
    error: 'server_error',
    retryable: true,
    endsSession: false,
    message: 'An unexpected error occurred',
  },
  not_found: {
    status: 404,
    error: 'not_found',
    retryable: false,
    endsSession: false,
    message: 'Not found',
  },
  method_not_allowed: {
    status: 405,
    error: 'invalid_request',
    retryable: false,
    endsSession: false,
    message: 'Method not allowed',
  },
  access_token_missing: {
    status: 401,
    error: 'invalid_request',
    retryable: false,
    endsSession: false,
    message: 'No access token was presented',
  },
  access_token_invalid: {
    status: 401,
    error: 'invalid_token',
    retryable: false,
    endsSession: false,
    message: 'The access token is invalid',
  },
  access_token_expired: {
    status: 401,
    error: 'invalid_token',
    retryable: false,
    endsSession: false,
    message: 'The access token has expired',
  },
  insufficient_scope: {
    status: 403,
    error: 'insufficient_scope',
    retryable: false,
    endsSession: false,
    message: 'The access token does not carry the required scope or role',
  },
  forbidden: {
    status: 403,
    error: 'access_denied',
    retryable: false,
    endsSession: false,
    message: 'Not allowed',
  },
  reauthentication_required: {
    status: 401,
    error: 'invalid_token',
    retryable: false,
    endsSession: true,
    message: 'Sign in again: the upstream provider no longer accepts this session',
  },
  headers_too_large: {
    status: 431,
    error: 'invalid_request',
    retryable: false,
    endsSession: false,
    message: 'The request headers are larger than allowed',
  },
  request_timeout: {
    status: 408,
    error: 'invalid_request',
    retryable: true,
    endsSession: false,
    message: 'The request did not arrive in time',
  },
} as const satisfies Record<string, ErrorDefinition>;

export interface ErrorDefinition {
  readonly status: number;
  readonly error: string;
  readonly retryable: boolean;
  readonly endsSession: boolean;
  readonly message: string;
}

/** A code from the table: the only codes a `TesseraError` is built with. */
export type KnownErrorCode = keyof typeof ERROR_CODES;
/**
 * A code as read off the wire: a newer server may send one this version does not know, so the
 * type stays open, as `jose` types its codes. `TesseraError.fromWire` turns it into a known one.
 */
export type ErrorCode = KnownErrorCode | (string & {});

/** True when `code` is in the table. */
export function isKnownErrorCode(code: unknown): code is KnownErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/** The table's row for `code`, or `undefined` for a code this version does not know. */
export function describeError(code: unknown): ErrorDefinition | undefined {
  return isKnownErrorCode(code) ? ERROR_CODES[code] : undefined;
}
