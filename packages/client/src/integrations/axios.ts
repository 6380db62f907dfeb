import type { TesseraClient } from '../core/client.js';
import { attachPolicy } from './attach-policy.js';
import { tokenForRetry } from './token-for-retry.js';

/** The parts of an axios request config used here; axios's own type fits. */
export interface AxiosConfigLike {
  url?: string;
  baseURL?: string;
  headers?: unknown;
}

/** The parts of an axios instance used here, so the SDK needs no dependency on axios. */
export interface AxiosLike<C extends AxiosConfigLike> {
  interceptors: {
    request: {
      use(onFulfilled?: ((config: C) => C | Promise<C>) | null, onRejected?: null): number;
      eject(id: number): void;
    };
    response: {
      use(onFulfilled?: null, onRejected?: ((error: unknown) => unknown) | null): number;
      eject(id: number): void;
    };
  };
  request(config: C): Promise<unknown>;
}

/** Options of {@link attachAxios}. */
export interface AttachAxiosOptions {
  /** Which URLs get the token; default same-origin in browsers, all elsewhere. */
  attachTo?: (url: URL) => boolean;
}

/** Marks the one retry in the config; axios keeps unknown config keys across `request()`. */
const RETRIED = 'tesseraRetried';

type HeaderBag = Record<string, unknown> & { set?: (name: string, value: string) => unknown };

function bearerOf(headers: unknown): string | undefined {
  const bag = headers as HeaderBag | undefined;
  const value = bag?.Authorization ?? bag?.authorization;
  return typeof value === 'string' && value.startsWith('Bearer ') ? value.slice(7) : undefined;
}

/**
 * Installs the interceptor pair on an axios instance: the request side attaches the access
 * token; the response side, on a 401, refreshes once (single flight) and retries once. A 401 for
 * a request sent with an older token is retried with the current one without another refresh.
 * Returns a function that removes both interceptors.
 *
 * @example
 * const api = axios.create({ baseURL: 'https://api.example.com' });
 * attachAxios(client, api);
 */
export function attachAxios<C extends AxiosConfigLike>(
  client: TesseraClient,
  instance: AxiosLike<C>,
  options: AttachAxiosOptions = {},
): () => void {
  const attach = attachPolicy(options.attachTo);
  const base = typeof location === 'undefined' ? 'http://localhost' : location.href;

  const onRequest = async (config: C): Promise<C> => {
    const url = new URL(config.url ?? '', new URL(config.baseURL ?? '', base));
    if (!attach(url)) return config;
    const token = await client.getAccessToken();
    if (token !== null) {
      config.headers ??= {};
      const headers = config.headers as HeaderBag;
      // AxiosHeaders has `set`; a plain object (axios 0.x, tests) takes a property.
      if (typeof headers.set === 'function') headers.set('Authorization', `Bearer ${token}`);
      else headers.Authorization = `Bearer ${token}`;
    }
    return config;
  };

  const onResponseError = async (error: unknown): Promise<unknown> => {
    const failure = error as { config?: C & { [RETRIED]?: boolean }; response?: { status?: number } };
    const config = failure?.config;
    const next = await tokenForRetry(
      client,
      failure?.response?.status,
      bearerOf(config?.headers),
      !!config?.[RETRIED],
    );
    if (!config || next === undefined) throw error;
    // The request interceptor attaches the current token to the retry.
    return instance.request({ ...config, [RETRIED]: true });
  };

  const requestId = instance.interceptors.request.use(onRequest);
  const responseId = instance.interceptors.response.use(null, onResponseError);
  return () => {
    instance.interceptors.request.eject(requestId);
    instance.interceptors.response.eject(responseId);
  };
}
