import { errorFromResponse, TesseraError, type TokenResponse } from '@tessera/protocol';

/**
 * The process half of a token request: a token answer becomes a token set, anything else a
 * `TesseraError` through the protocol's error table, so retry-or-sign-out is decided the same way
 * for every OAuth server. `now` (wall clock) dates an HTTP-date `Retry-After`.
 */
export async function processTokenResponse(response: Response, now: number): Promise<TokenResponse> {
  // A proxy's HTML error page or a captive portal reads as no body: the status decides.
  const json: unknown = await response.json().catch(() => undefined);
  if (!response.ok) throw errorFromResponse(response.status, json, response.headers.get('retry-after'), now);
  const tokens = json as Partial<TokenResponse> | undefined;
  if (typeof tokens?.access_token !== 'string') {
    throw new TesseraError('server_error', 'The token endpoint answered without an access token');
  }
  return tokens as TokenResponse;
}
