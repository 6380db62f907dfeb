import * as oidc from 'openid-client';

/** What a failed upstream call was, for the refresh decision. */
export type UpstreamFailure =
  /** The grant is dead (`invalid_grant`): the user must sign in again. */
  | { kind: 'invalid_grant'; error: string; description?: string; status?: number }
  /** No answer (refused, reset, timed out): the request may or may not have reached the upstream. */
  | { kind: 'network'; error: string; description?: string }
  /** The upstream is there but cannot serve now (5xx, 429, `temporarily_unavailable`). */
  | { kind: 'unavailable'; error: string; description?: string; status?: number; retryAfterS?: number }
  /** Any other refusal (`invalid_client`, a malformed answer): not the user's fault, not fixed by retrying soon. */
  | { kind: 'rejected'; error: string; description?: string; status?: number };

/**
 * Reads any error from openid-client (or fetch) into an `UpstreamFailure`; never copies a
 * token. `now` is the vault's clock, for a `Retry-After` given as a date.
 */
export function classifyUpstreamError(err: unknown, now: number): UpstreamFailure {
  if (err instanceof oidc.ResponseBodyError) {
    const base = {
      error: err.error,
      status: err.status,
      ...(err.error_description ? { description: err.error_description } : {}),
    };
    if (err.error === 'invalid_grant') return { kind: 'invalid_grant', ...base };
    if (err.status >= 500 || err.status === 429 || err.error === 'temporarily_unavailable') {
      const retryAfterS = parseRetryAfter(err.response.headers.get('retry-after'), now);
      return { kind: 'unavailable', ...base, ...(retryAfterS === undefined ? {} : { retryAfterS }) };
    }
    return { kind: 'rejected', ...base };
  }
  if (err instanceof oidc.WWWAuthenticateChallengeError) {
    return { kind: 'rejected', error: 'invalid_client', status: err.status };
  }
  if (err instanceof TypeError) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return {
      kind: 'network',
      error: 'network_error',
      description: cause?.code ?? cause?.message ?? err.message,
    };
  }
  if (err instanceof oidc.ClientError) {
    if (err.code === 'OAUTH_TIMEOUT' || err.code === 'OAUTH_ABORT') {
      return { kind: 'network', error: 'timeout', description: err.message };
    }
    const response = err.cause instanceof Response ? err.cause : undefined;
    if (response) {
      const status = response.status;
      if (status >= 500 || status === 429) {
        const retryAfterS = parseRetryAfter(response.headers.get('retry-after'), now);
        return {
          kind: 'unavailable',
          error: 'temporarily_unavailable',
          status,
          description: err.message,
          ...(retryAfterS === undefined ? {} : { retryAfterS }),
        };
      }
      return { kind: 'rejected', error: 'invalid_response', status, description: err.message };
    }
    return { kind: 'rejected', error: 'invalid_response', description: err.message };
  }
  return {
    kind: 'rejected',
    error: 'client_error',
    description: err instanceof Error ? err.message : String(err),
  };
}

/**
 * `Retry-After` in seconds: delta-seconds as given, an HTTP date measured from `now` (the
 * vault's clock, so virtual time in tests and one clock for every decision).
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}
