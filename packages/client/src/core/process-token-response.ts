import { errorFromResponse, type TokenResponse } from '@tessera/protocol';
import { unreachable } from './unreachable.js';

/**
 * The process half of a token request: a token answer becomes a token set; an OAuth error
 * answer the `TesseraError` of the protocol's table, so retry-or-sign-out is decided the same way
 * for every OAuth server. `now` (wall clock) dates an HTTP-date `Retry-After`.
 *
 * What cannot be the OAuth server's answer is {@link unreachable}, never a sign-out and never
 * stored: a body cut off mid-way, a redirect (a captive portal's login page), `511`, and below
 * 500 anything that is not a JSON object (an OAuth server answers errors in JSON, RFC 6749 §5.2)
 * or a success without an `access_token`. A 5xx is the server's own trouble, transient whatever
 * its body.
 */
export async function processTokenResponse(response: Response, now: number): Promise<TokenResponse> {
  const { status } = response;
  let json: { access_token?: unknown } | undefined;
  try {
    json = await response.json();
  } catch (cause) {
    // Not JSON is for the status to judge; a body that broke off never arrived.
    if (!(cause instanceof SyntaxError)) throw unreachable('Token answer cut off', cause);
  }
  const ok = status > 199 && status < 300;
  // `opaqueredirect` (status 0) is how a browser shows a redirect it was told not to follow.
  if (
    ok
      ? typeof json?.access_token !== 'string'
      : status < 400 || status === 511 || (status < 500 && typeof json !== 'object')
  ) {
    throw unreachable(`Not an OAuth answer (HTTP ${status})`);
  }
  if (!ok) throw errorFromResponse(status, json, response.headers.get('retry-after'), now);
  return json as TokenResponse;
}
