import { CSRF_HEADER, CSRF_HEADER_VALUE, encodeBasicCredentials } from '@tessera/protocol';

/**
 * The token requests of the SDK, each built as a standard Fetch `Request` without sending it
 * (the request half of oauth4webapi's request/process pairs): testable without a server, and
 * the same bytes for every OAuth server.
 */

/** What every token request needs to know about the client. */
export interface RequestConfig {
  clientId: string;
  /** Confidential clients (Node backends) only. */
  clientSecret: string | undefined;
  /** Cookie mode: the browser's cookies go along, with the CSRF header the server requires. */
  cookie: boolean;
}

/**
 * A POST with the client authentication rule, written once: a confidential client authenticates
 * with `client_secret_basic` and names itself nowhere else; a public client names itself with
 * `client_id` in the body. `named: false` is for the cookie endpoints, whose session names the client.
 */
function post(
  config: RequestConfig,
  url: string,
  body: URLSearchParams | Record<string, string>,
  named = true,
) {
  const form = body instanceof URLSearchParams;
  const headers: Record<string, string> = {
    accept: 'application/json',
    'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json',
  };
  if (config.cookie) headers[CSRF_HEADER] = CSRF_HEADER_VALUE;
  if (config.clientSecret !== undefined) {
    headers.authorization = encodeBasicCredentials(config.clientId, config.clientSecret);
  } else if (named) {
    if (form) body.set('client_id', config.clientId);
    else body.client_id = config.clientId;
  }
  return new Request(url, {
    method: 'POST',
    headers,
    body: form ? body : JSON.stringify(body),
    cache: 'no-store',
    // Only cookie mode needs cookies; everywhere else a stray cookie must not authenticate anything.
    credentials: config.cookie ? 'include' : 'omit',
    // A token endpoint never redirects: a redirect is a captive portal or a proxy's login page.
    redirect: 'manual',
  });
}

/** RFC 6749 §6: `grant_type=refresh_token`, with a fresh `nonce` when given (Tessera's replay check). */
export function refreshRequest(
  config: RequestConfig,
  url: string,
  refreshToken: string,
  nonce?: string,
): Request {
  const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken });
  if (nonce !== undefined) body.set('nonce', nonce);
  return post(config, url, body);
}

/** Cookie mode: `POST /api/auth/refresh`; the browser sends the refresh cookie, the body only the nonce. */
export function cookieRefreshRequest(config: RequestConfig, url: string, nonce?: string): Request {
  return post(config, url, nonce === undefined ? {} : { nonce }, false);
}

/** Tessera's JSON login, `POST /api/auth/login {username, password, client_id}`. */
export function loginRequest(
  config: RequestConfig,
  url: string,
  username: string,
  password: string,
): Request {
  return post(config, url, { username, password });
}

/** RFC 7009 revocation of a refresh token (its whole family, at Tessera). */
export function revocationRequest(config: RequestConfig, url: string, refreshToken: string): Request {
  return post(config, url, new URLSearchParams({ token: refreshToken, token_type_hint: 'refresh_token' }));
}

/** Cookie mode: `POST /api/auth/logout`; the server ends the cookie's session and clears it. */
export function logoutRequest(config: RequestConfig, url: string): Request {
  return post(config, url, {}, false);
}

/** 128 random bits, hex. getRandomValues works outside secure contexts too, unlike randomUUID. */
export function randomNonce(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => (b + 256).toString(16).slice(1)).join(
    '',
  );
}
