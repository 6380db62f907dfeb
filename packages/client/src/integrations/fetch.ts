import type { TesseraClient } from '../core/client.js';
import { attachPolicy } from './attach-policy.js';
import { createResponseCache, type ResponseCache } from './response-cache.js';
import { tokenForRetry } from './token-for-retry.js';

/** Options of {@link createFetch}. */
export interface CreateFetchOptions {
  /** The fetch to wrap; default the global one. */
  fetch?: typeof fetch;
  /** Which URLs get the token; default same-origin in browsers, all elsewhere. */
  attachTo?: (url: URL) => boolean;
  /**
   * Serve the last successful GET answer when the network is down, flagged `x-tessera-stale: 1`.
   * `true` keeps up to 100 answers in memory; cleared when the session ends.
   */
  offlineCache?: boolean | { maxEntries?: number };
}

/**
 * A drop-in `fetch` that attaches the access token, and on a 401 refreshes once (single flight,
 * shared with every other request) and retries once. A 401 for a request sent with an older
 * token is retried with the current one, without another refresh. Never loops.
 *
 * @example
 * const api = createFetch(client);
 * const res = await api('/api/me');
 */
export function createFetch(client: TesseraClient, options: CreateFetchOptions = {}): typeof fetch {
  const base = options.fetch ?? ((input, init) => fetch(input, init));
  const attach = attachPolicy(options.attachTo);
  const cacheOption = options.offlineCache;
  let cache: ResponseCache | undefined;
  if (cacheOption) {
    const own = createResponseCache(cacheOption === true ? undefined : cacheOption.maxEntries);
    cache = own;
    // Cached answers belong to the user who fetched them.
    client.subscribe('stateChange', (state) => {
      if (state === 'signedOut' || state === 'expired') own.clear();
    });
  }

  return async function tesseraFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const request = new Request(input, init);
    if (!attach(new URL(request.url))) return base(request);
    const cacheable = cache !== undefined && request.method === 'GET';

    // Each attempt sends a clone, so the body can be sent again on the retry.
    const send = (token: string | null) => {
      const attempt = request.clone();
      if (token !== null) attempt.headers.set('authorization', `Bearer ${token}`);
      return base(attempt);
    };

    const token = await client.getAccessToken();
    let response: Response;
    try {
      response = await send(token);
    } catch (error) {
      const stale = cacheable ? cache?.get(request.url) : undefined;
      if (stale) return stale;
      throw error;
    }
    const next = await tokenForRetry(client, response.status, token, false);
    // The one retry; whatever it answers goes to the caller, so there is no loop.
    if (next !== undefined) response = await send(next);
    if (cacheable) cache?.put(request.url, response);
    return response;
  };
}
