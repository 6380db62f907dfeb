import { TesseraError } from '@tessera/protocol';
import type { AuthFailure } from './auth-result.js';
import { DEFAULTS } from './defaults.js';

/**
 * Builds RFC 6750 §3 answers. A request without a token gets a bare challenge; every other
 * refusal names its OAuth `error` and a description that tells expiry apart from invalidity.
 */
export interface ChallengeOptions {
  realm?: string | undefined;
  /** `DPoP` for requests that used the DPoP scheme (RFC 9449 §7.1): the challenge then lists `algs`. */
  scheme?: 'Bearer' | 'DPoP';
  /** The `algs` parameter of a DPoP challenge. */
  algs?: string;
}

/** RFC 6750 §3: `error_description` and `scope` may only hold %x20-21 / %x23-5B / %x5D-7E. */
function quoteSafe(value: string): string {
  return value.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, ' ').slice(0, DEFAULTS.maxDescriptionLength);
}

function challenge(params: Array<[string, string | undefined]>, scheme = 'Bearer'): string {
  const parts = params
    .filter((p): p is [string, string] => p[1] !== undefined)
    .map(([k, v]) => `${k}="${quoteSafe(v)}"`);
  return parts.length === 0 ? scheme : `${scheme} ${parts.join(', ')}`;
}

/** 401 with a bare `Bearer` challenge: the client did not try (RFC 6750 §3.1). */
export function missingToken(opts: ChallengeOptions): AuthFailure {
  const error = new TesseraError('access_token_missing');
  return { ok: false, status: error.status, error, wwwAuthenticate: challenge([['realm', opts.realm]]) };
}

/** 401 `invalid_token` (expired, revoked, forged, malformed, ...). */
export function invalidToken(opts: ChallengeOptions, description?: string, expired = false): AuthFailure {
  const error = new TesseraError(expired ? 'access_token_expired' : 'access_token_invalid', description);
  return failureFrom(error, opts);
}

/** 400 `invalid_request`: the request itself is malformed (a token sent two ways, ...). */
export function invalidRequest(opts: ChallengeOptions, description: string): AuthFailure {
  return failureFrom(new TesseraError('invalid_request', description), opts);
}

/** 403 `insufficient_scope` naming the scopes the route needs. */
export function insufficientScope(
  opts: ChallengeOptions,
  scopes: readonly string[],
  description?: string,
): AuthFailure {
  const error = new TesseraError('insufficient_scope', description);
  return failureFrom(error, opts, scopes.length > 0 ? scopes.join(' ') : undefined);
}

/** Wraps any `TesseraError` thrown by a validator into an answer. */
export function failureFrom(error: TesseraError, opts: ChallengeOptions, scope?: string): AuthFailure {
  // A 5xx is the authorization server's trouble, not a bad credential: no challenge.
  if (error.status >= 500) return { ok: false, status: error.status, error, wwwAuthenticate: undefined };
  return {
    ok: false,
    status: error.status,
    error,
    wwwAuthenticate: challenge(
      [
        ['realm', opts.realm],
        ['error', error.error],
        ['error_description', error.message],
        ['scope', scope],
        ['algs', opts.scheme === 'DPoP' ? opts.algs : undefined],
      ],
      opts.scheme,
    ),
  };
}

/**
 * 401 for a DPoP request (RFC 9449 §7.1): `DPoP error="invalid_dpop_proof"` or
 * `error="use_dpop_nonce"` (with the nonce for `DPoP-Nonce`), or `error="invalid_token"`.
 */
export function dpopFailure(error: TesseraError, opts: ChallengeOptions, dpopNonce?: string): AuthFailure {
  const failure = failureFrom(error, { ...opts, scheme: 'DPoP' });
  if (error.status >= 500) return failure;
  return { ...failure, status: 401, ...(dpopNonce === undefined ? {} : { dpopNonce }) };
}

/** Headers and JSON body of a refusal, shared by every adapter. */
export function failureParts(failure: AuthFailure): {
  status: number;
  headers: Record<string, string>;
  body: ReturnType<TesseraError['toBody']>;
} {
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  if (failure.wwwAuthenticate !== undefined) headers['www-authenticate'] = failure.wwwAuthenticate;
  if (failure.error.retryAfter !== undefined) headers['retry-after'] = String(failure.error.retryAfter);
  if (failure.dpopNonce !== undefined) headers['dpop-nonce'] = failure.dpopNonce;
  return { status: failure.status, headers, body: failure.error.toBody() };
}

/** The refusal as a Fetch `Response` (the shared JSON error body, docs/errors.md). */
export function failureResponse(failure: AuthFailure): Response {
  const { status, headers, body } = failureParts(failure);
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...headers, 'content-type': 'application/json; charset=utf-8' },
  });
}
