import type {} from '@fastify/cookie';
import {
  AUTH_API_PATH,
  CSRF_HEADER,
  CSRF_HEADER_VALUE,
  ENDPOINTS,
  TesseraError,
  type TokenResponse,
} from '@tessera/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ClientRecord } from '../ports/index.js';

/** The CSRF header as Node presents it (lower case). */
const csrfHeader = CSRF_HEADER.toLowerCase();

/** How the refresh-token cookie of browser cookie mode is named and scoped. */
export interface RefreshCookie {
  name: string;
  path: string;
  secure: boolean;
  /** False for plain http on a host other than loopback: cookie mode is refused there. */
  usable: boolean;
  /** The issuer's origin, one of the origins cookie requests may come from. */
  issuerOrigin: string;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Over https: `__Host-tessera_rt; Path=/; Secure; HttpOnly; SameSite=Strict` (the `__Host-`
 * prefix demands Secure and Path=/, and forbids Domain). Browsers refuse `__Host-` and may refuse
 * `Secure` cookies over plain http, so on plain-http loopback (development) the cookie is
 * `tessera_rt; Path=/api/auth; HttpOnly; SameSite=Strict`; on any other plain-http host cookie
 * mode is refused.
 */
export function refreshCookieFor(issuer: string): RefreshCookie {
  const url = new URL(issuer);
  if (url.protocol === 'https:') {
    return { name: '__Host-tessera_rt', path: '/', secure: true, usable: true, issuerOrigin: url.origin };
  }
  const loopback = LOOPBACK.has(url.hostname) || url.hostname.endsWith('.localhost');
  return {
    name: 'tessera_rt',
    // Under the issuer's path: a server mounted at a prefix (`/auth`) serves `/auth/api/auth/…`.
    path: `${url.pathname.replace(/\/+$/, '')}${AUTH_API_PATH}`,
    secure: false,
    usable: loopback,
    issuerOrigin: url.origin,
  };
}

/** True when a request speaks cookie mode: it carries the refresh cookie or the CSRF header. */
export function isCookieRequest(request: FastifyRequest, cookie: RefreshCookie): boolean {
  return request.headers[csrfHeader] !== undefined || request.cookies[cookie.name] !== undefined;
}

/**
 * CSRF defence for the cookie endpoints: the custom header is required; a browser's
 * `Sec-Fetch-Site` must say `same-origin`; an `Origin` must be the issuer's or the request's own.
 * Requests without `Origin` and `Sec-Fetch-Site` are not from a browser, so not a CSRF vector.
 */
export function checkCsrf(request: FastifyRequest, cookie: RefreshCookie): void {
  if (request.headers[csrfHeader] !== CSRF_HEADER_VALUE) {
    throw new TesseraError(
      'forbidden',
      `Cookie requests must carry the header "${CSRF_HEADER}: ${CSRF_HEADER_VALUE}"`,
    );
  }
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') {
    throw new TesseraError('forbidden', 'Cross-site cookie requests are refused');
  }
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== cookie.issuerOrigin && origin !== ownOrigin(request)) {
    throw new TesseraError('forbidden', 'Cookie requests are accepted only from the issuer’s origin');
  }
}

function ownOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/** Refuses cookie mode where it cannot be safe (plain http off loopback). */
export function assertCookieUsable(cookie: RefreshCookie): void {
  if (!cookie.usable) {
    throw new TesseraError(
      'unauthorized_client',
      'Cookie mode needs an https issuer (plain http is allowed only on localhost)',
    );
  }
}

/**
 * Moves the refresh token of a token response into the cookie: the body that goes back has no
 * `refresh_token`, so page JavaScript never sees it.
 */
export function handOverInCookie(
  reply: FastifyReply,
  cookie: RefreshCookie,
  tokens: TokenResponse,
): Omit<TokenResponse, 'refresh_token' | 'refresh_token_expires_in'> {
  const { refresh_token, refresh_token_expires_in, ...rest } = tokens;
  if (refresh_token !== undefined) {
    reply.setCookie(cookie.name, refresh_token, {
      path: cookie.path,
      httpOnly: true,
      secure: cookie.secure,
      sameSite: 'strict',
      ...(refresh_token_expires_in === undefined ? {} : { maxAge: refresh_token_expires_in }),
    });
  }
  return rest;
}

export function clearRefreshCookie(reply: FastifyReply, cookie: RefreshCookie): void {
  reply.clearCookie(cookie.name, {
    path: cookie.path,
    httpOnly: true,
    secure: cookie.secure,
    sameSite: 'strict',
  });
}

/** A cookie-mode client refuses its refresh token anywhere but in the cookie. */
export function refuseOutsideCookie(client: ClientRecord): void {
  if (client.cookieMode) {
    throw new TesseraError(
      'unauthorized_client',
      `This client keeps its refresh token in a cookie; use ${ENDPOINTS.refresh} with the cookie`,
    );
  }
}
