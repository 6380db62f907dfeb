/** One row of the table (positional, see below); the literal types are kept. */
function row<
  const S extends number,
  const E extends string,
  const R extends boolean,
  const X extends boolean,
>(
  status: S,
  error: E,
  retryable: R,
  endsSession: X,
  message: string,
): {
  readonly status: S;
  readonly error: E;
  readonly retryable: R;
  readonly endsSession: X;
  readonly message: string;
} {
  return { status, error, retryable, endsSession, message };
}

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
 *
 * Each row is written `row(status, error, retryable, endsSession, message)`: the table ships in
 * every browser bundle of the SDK, and positional rows keep it small.
 */
export const ERROR_CODES = {
  invalid_request: row(
    400,
    'invalid_request',
    false,
    false,
    'The request is missing a parameter or is otherwise malformed',
  ),
  duplicate_parameter: row(400, 'invalid_request', false, false, 'A parameter was sent more than once'),
  payload_too_large: row(413, 'invalid_request', false, false, 'The request body is larger than allowed'),
  unsupported_media_type: row(
    415,
    'invalid_request',
    false,
    false,
    'The request content type is not supported here',
  ),
  invalid_client: row(401, 'invalid_client', false, false, 'Client authentication failed'),
  unauthorized_client: row(
    400,
    'unauthorized_client',
    false,
    false,
    'The client is not allowed to use this grant type',
  ),
  unsupported_grant_type: row(400, 'unsupported_grant_type', false, false, 'The grant type is not supported'),
  unsupported_token_type: row(400, 'unsupported_token_type', false, false, 'The token type is not supported'),
  invalid_scope: row(
    400,
    'invalid_scope',
    false,
    false,
    'The requested scope is invalid or exceeds what was granted',
  ),
  invalid_credentials: row(401, 'invalid_grant', false, false, 'Invalid username or password'),
  invalid_grant: row(400, 'invalid_grant', false, true, 'The grant is invalid'),
  invalid_token: row(400, 'invalid_grant', false, true, 'The token is malformed or unknown'),
  token_expired: row(400, 'invalid_grant', false, true, 'The refresh token has expired'),
  token_reused: row(400, 'invalid_grant', false, true, 'Token has been rotated and grace period has expired'),
  token_revoked: row(400, 'invalid_grant', false, true, 'The token has been revoked'),
  invalid_token_state: row(
    400,
    'invalid_grant',
    false,
    true,
    'The token is in a state that does not allow this operation',
  ),
  session_expired: row(400, 'invalid_grant', false, true, 'The session has ended'),
  client_mismatch: row(400, 'invalid_grant', false, true, 'The token was issued to another client'),
  replay_detected: row(
    400,
    'invalid_request',
    false,
    false,
    'This request was already seen (replayed nonce)',
  ),
  use_dpop_nonce: row(
    400,
    'use_dpop_nonce',
    true,
    false,
    'Authorization server requires a DPoP nonce in the proof',
  ),
  invalid_dpop_proof: row(400, 'invalid_dpop_proof', false, false, 'The DPoP proof is invalid'),
  rotation_in_progress: row(
    503,
    'temporarily_unavailable',
    true,
    false,
    'A rotation of this token is in progress; retry shortly',
  ),
  rate_limited: row(429, 'temporarily_unavailable', true, false, 'Too many requests; retry later'),
  temporarily_unavailable: row(
    503,
    'temporarily_unavailable',
    true,
    false,
    'The service is temporarily unavailable; retry later',
  ),
  server_error: row(500, 'server_error', true, false, 'An unexpected error occurred'),
  not_found: row(404, 'not_found', false, false, 'Not found'),
  method_not_allowed: row(405, 'invalid_request', false, false, 'Method not allowed'),
  access_token_missing: row(401, 'invalid_request', false, false, 'No access token was presented'),
  access_token_invalid: row(401, 'invalid_token', false, false, 'The access token is invalid'),
  access_token_expired: row(401, 'invalid_token', false, false, 'The access token has expired'),
  insufficient_scope: row(
    403,
    'insufficient_scope',
    false,
    false,
    'The access token does not carry the required scope or role',
  ),
  forbidden: row(403, 'access_denied', false, false, 'Not allowed'),
  reauthentication_required: row(
    401,
    'invalid_token',
    false,
    true,
    'Sign in again: the upstream provider no longer accepts this session',
  ),
  headers_too_large: row(431, 'invalid_request', false, false, 'The request headers are larger than allowed'),
  request_timeout: row(408, 'invalid_request', true, false, 'The request did not arrive in time'),
  sign_in_required: row(401, 'access_denied', false, false, 'Sign in first'),
} satisfies Record<string, ErrorDefinition>;

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
