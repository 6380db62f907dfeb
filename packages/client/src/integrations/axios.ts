import type { TesseraClient } from '../core/client.js';
import { attachPolicy } from './attach-policy.js';
import { tokenForRetry } from './token-for-retry.js';

/** The parts of an axios request config used here; axios's own type fits. */
export interface AxiosConfigLike {
  url?: string;
  baseURL?: string;
  method?: string;
  headers?: unknown;
}

/** What the integration needs of `createDpop()` from `@tessera/client/dpop`. */
export interface AxiosDpop {
  proof(method: string, url: string, accessToken?: string): Promise<string>;
  isBound(accessToken: string): Promise<boolean>;
  learn(url: string, headers: { get(name: string): string | null }): boolean;
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
  /**
   * DPoP (RFC 9449): a token answered `token_type: DPoP` is sent as `Authorization: DPoP <token>`
   * with a fresh proof (`createDpop()` from `@tessera/client/dpop`); a `use_dpop_nonce` answer is
   * retried once. A bearer token is sent as `Bearer`, without a proof.
   */
  dpop?: AxiosDpop;
}

/** Marks the one retry in the config; axios keeps unknown config keys across `request()`. */
const RETRIED = 'tesseraRetried';
/** Marks the one retry with a new DPoP nonce. */
const NONCE_RETRIED = 'tesseraNonceRetried';

type HeaderBag = Record<string, unknown> & { set?: (name: string, value: string) => unknown };

function bearerOf(headers: unknown): string | undefined {
  const bag = headers as HeaderBag | undefined;
  const value = bag?.Authorization ?? bag?.authorization;
  return typeof value === 'string' ? /^(?:Bearer|DPoP) (.+)$/.exec(value)?.[1] : undefined;
}

/** A header of an axios response: AxiosHeaders has `get`, a plain object has properties. */
function headerGetter(headers: unknown): { get(name: string): string | null } {
  const bag = headers as (Record<string, unknown> & { get?: (name: string) => unknown }) | undefined;
  return {
    get(name) {
      const value =
        typeof bag?.get === 'function' ? bag.get(name) : (bag?.[name] ?? bag?.[name.toLowerCase()]);
      return typeof value === 'string' ? value : null;
    },
  };
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
      const put = (name: string, value: string) => {
        if (typeof headers.set === 'function') headers.set(name, value);
        else headers[name] = value;
      };
      const { dpop } = options;
      // DPoP only for a token the server bound (token_type DPoP); a bearer token goes as Bearer.
      if (dpop && (await dpop.isBound(token))) {
        put('Authorization', `DPoP ${token}`);
        put('DPoP', await dpop.proof((config.method ?? 'get').toUpperCase(), url.href, token));
      } else put('Authorization', `Bearer ${token}`);
    }
    return config;
  };

  const onResponseError = async (error: unknown): Promise<unknown> => {
    const failure = error as {
      config?: C & { [RETRIED]?: boolean; [NONCE_RETRIED]?: boolean };
      response?: { status?: number; headers?: unknown };
    };
    const config = failure?.config;
    const { dpop } = options;
    if (dpop && config && failure.response?.status === 401 && !config[NONCE_RETRIED]) {
      const headers = headerGetter(failure.response.headers);
      const url = new URL(config.url ?? '', new URL(config.baseURL ?? '', base)).href;
      // The resource server asks for its nonce: learn it and send once more, with a new proof.
      if (/error="use_dpop_nonce"/.test(headers.get('www-authenticate') ?? '') && dpop.learn(url, headers)) {
        return instance.request({ ...config, [NONCE_RETRIED]: true });
      }
    }
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
