import { TesseraError } from '@tessera/protocol';

const marked = new WeakSet<TesseraError>();

/**
 * A retryable error for a token request the OAuth server never answered: refused, reset, DNS,
 * timed out (a black hole), cut off mid-body, or answered by something else on the way (a
 * captive portal's page, a redirect, a proxy's HTML). The client keeps the session, turns
 * `offline` and probes with backoff; none of these ever signs a user out.
 */
export function unreachable(description: string, cause?: unknown): TesseraError {
  const error = new TesseraError('temporarily_unavailable', description, { cause });
  marked.add(error);
  return error;
}

/** True for an error made by {@link unreachable}. */
export function isUnreachable(error: unknown): boolean {
  return error instanceof TesseraError && marked.has(error);
}
