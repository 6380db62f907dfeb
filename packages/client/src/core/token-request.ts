import {
  CSRF_HEADER,
  CSRF_HEADER_VALUE,
  encodeBasicCredentials,
  errorFromResponse,
  TesseraError,
  type TokenResponse,
} from '@tessera/protocol';
import type { Clock, Scheduler } from './types.js';

/** What a token request needs from the client. */
export interface RequestContext {
  fetch: typeof fetch;
  clock: Clock;
  scheduler: Scheduler;
  clientId: string;
  clientSecret: string | undefined;
  timeoutMs: number;
  /** Cookie mode (SPEC §3.5): send the browser's cookies and the CSRF header the server requires. */
  cookie: boolean;
}

const networkErrors = new WeakSet<TesseraError>();

/** True when the request never got an answer (offline, DNS, reset, lost response). */
export function isNetworkError(error: unknown): boolean {
  return error instanceof TesseraError && networkErrors.has(error);
}

/** A fresh random value, base64url. getRandomValues works outside secure contexts too, unlike randomUUID. */
export function randomNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/**
 * Sends a token request and reads the answer. Any error answer becomes a `TesseraError` through
 * the protocol table, so retry-or-sign-out is decided the same way for every OAuth server.
 */
export async function sendTokenRequest(
  ctx: RequestContext,
  url: string,
  body: URLSearchParams | Record<string, string>,
): Promise<TokenResponse> {
  const form = body instanceof URLSearchParams;
  const headers: Record<string, string> = {
    accept: 'application/json',
    'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json',
  };
  if (ctx.cookie) headers[CSRF_HEADER] = CSRF_HEADER_VALUE;
  if (ctx.clientSecret !== undefined) {
    headers.authorization = encodeBasicCredentials(ctx.clientId, ctx.clientSecret);
  }
  const abort = new AbortController();
  const timer = ctx.scheduler.setTimeout(() => abort.abort(), ctx.timeoutMs);
  let res: Response;
  let json: unknown;
  try {
    res = await ctx.fetch(url, {
      method: 'POST',
      headers,
      body: form ? body : JSON.stringify(body),
      signal: abort.signal,
      cache: 'no-store',
      // Only cookie mode needs cookies; everywhere else a stray cookie must not authenticate anything.
      credentials: ctx.cookie ? 'include' : 'omit',
    });
    // A proxy's HTML error page or a captive portal reads as no body: the status decides.
    json = await res.json().catch(() => undefined);
  } catch (cause) {
    if (abort.signal.aborted) {
      throw new TesseraError('temporarily_unavailable', 'The token request timed out', { cause });
    }
    const error = new TesseraError('temporarily_unavailable', 'The token endpoint could not be reached', {
      cause,
    });
    networkErrors.add(error);
    throw error;
  } finally {
    ctx.scheduler.clearTimeout(timer);
  }
  if (abort.signal.aborted) throw new TesseraError('temporarily_unavailable', 'The token request timed out');
  if (!res.ok) throw errorFromResponse(res.status, json, res.headers.get('retry-after'), ctx.clock.now());
  if (res.status === 204) return {} as TokenResponse; // logout
  const tokens = json as Partial<TokenResponse> | undefined;
  if (typeof tokens?.access_token !== 'string') {
    throw new TesseraError('server_error', 'The token endpoint answered without an access token');
  }
  return tokens as TokenResponse;
}
