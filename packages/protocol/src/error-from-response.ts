import type { KnownErrorCode } from './error-codes.js';
import { TesseraError } from './tessera-error.js';

/**
 * Reads an error answer from any OAuth server into a `TesseraError`. A Tessera body's
 * `error_code` decides; a body without one (a server that is not Tessera), or with a code this
 * version does not know, is mapped by its status and OAuth `error`, so the SDK's
 * retry-or-sign-out decision works against any standard server.
 *
 * @param retryAfterHeader the `Retry-After` header: seconds, or an HTTP date read against `nowMs`.
 */
export function errorFromResponse(
  status: number,
  body: unknown,
  retryAfterHeader?: string | null,
  nowMs: number = Date.now(),
): TesseraError {
  const obj = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const description = typeof obj.error_description === 'string' ? obj.error_description : undefined;
  const retryAfter = parseRetryAfter(retryAfterHeader, nowMs);
  const reason = obj.session_end_reason;
  return TesseraError.fromWire(obj.error_code, description, {
    ...(retryAfter === undefined ? {} : { retryAfter }),
    sessionEndReason: typeof reason === 'string' ? reason : undefined,
    fallback: codeFor(status, typeof obj.error === 'string' ? obj.error : undefined),
  });
}

/** The table's code for a standard OAuth error answer (RFC 6749 §5.2, RFC 6750 §3.1, RFC 9449). */
function codeFor(status: number, oauthError: string | undefined): KnownErrorCode {
  if (status === 429) return 'rate_limited';
  if (status >= 500) return status === 503 ? 'temporarily_unavailable' : 'server_error';
  if (oauthError === 'invalid_token') return 'access_token_invalid';
  return oauthError !== undefined && (OAUTH_ERRORS as readonly string[]).includes(oauthError)
    ? (oauthError as KnownErrorCode)
    : status === 401
      ? 'invalid_client'
      : 'invalid_request';
}

/** The OAuth `error` values that are codes of the table with the same name. */
const OAUTH_ERRORS = [
  'invalid_grant',
  'invalid_client',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_request',
  'use_dpop_nonce',
  'invalid_dpop_proof',
  'temporarily_unavailable',
] as const satisfies readonly KnownErrorCode[];

function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - nowMs) / 1000));
}
