/**
 * DPoP (RFC 9449) for the SDK: a key pair the client holds and never sends, and a `fetch` that
 * adds a fresh proof to the requests that need one, and only to those: token requests to the
 * authorization server (the origin of `tokenEndpoint`, and any of `endpoints`) get a proof of
 * their URL; API requests whose access token the server bound (`token_type: DPoP`, see
 * `isBound`) to a URL `attachTo` accepts are sent as `Authorization: DPoP <token>` with a proof
 * that names the token (`ath`). Anything else — a bearer token, another origin — passes through
 * untouched, so the key's thumbprint is never shown to a third party. A `DPoP-Nonce` answer is remembered per origin, and
 * a `use_dpop_nonce` refusal is retried once with the new nonce.
 *
 * A subpath of its own, so the core stays small: pass `dpop.fetch` as the client's `fetch` (token
 * requests) and as `createFetch`'s (API requests), or `dpop` to `attachAxios`.
 *
 * @example
 * import { createDpop } from '@tessera/client/dpop';
 * const dpop = createDpop({ tokenEndpoint }); // IndexedDB in browsers: one key for every tab of the origin
 * const client = createTesseraClient({ tokenEndpoint, clientId: 'web', fetch: dpop.fetch });
 * const api = createFetch(client, { fetch: dpop.fetch });
 */
import type { Clock } from '../core/types.js';
import { attachPolicy } from '../integrations/attach-policy.js';
import { type DpopKeyPair, type DpopKeyStore, indexedDbKeyStore, memoryKeyStore } from './key-stores.js';
import { signProof } from './sign-proof.js';

export type { DpopKeyPair, DpopKeyStore } from './key-stores.js';
export { indexedDbKeyStore, memoryKeyStore, storageKeyStore } from './key-stores.js';

export interface DpopOptions {
  /**
   * The authorization server's token endpoint. Requests without a DPoP access token are signed
   * only when they go to its origin (sign-in, refresh, revocation, logout) or to `endpoints`.
   */
  tokenEndpoint: string;
  /** More URLs that get a proof without an access token (a token endpoint on another origin). */
  endpoints?: readonly string[];
  /**
   * Which URLs get a proof for a DPoP access token; default as `createFetch`'s `attachTo`:
   * same-origin in browsers, every URL elsewhere. Pass the same function to both.
   */
  attachTo?: (url: URL) => boolean;
  /** Where the key pair lives; default IndexedDB where there is one, else memory (one per process). */
  keyStore?: DpopKeyStore;
  /** The fetch that sends the signed requests; default the global one. */
  fetch?: typeof fetch;
  /** Wall clock for `iat`; default `Date.now`. */
  clock?: Clock;
}

export interface Dpop {
  /** A fetch that signs token requests and DPoP API requests with a fresh proof (see the module's description). */
  readonly fetch: typeof fetch;
  /** A fresh proof for one request; with `accessToken`, bound to it by `ath`. */
  proof(method: string, url: string, accessToken?: string): Promise<string>;
  /** Remembers the `DPoP-Nonce` of an answer from `url`'s origin; true when it is a new one. */
  learn(url: string, headers: Headers | { get(name: string): string | null }): boolean;
  /** The RFC 7638 thumbprint of the public key (what tokens are bound to: `cnf.jkt`). */
  thumbprint(): Promise<string>;
  /**
   * Whether `accessToken` is bound to this key: its token answer, seen by `fetch`, said
   * `token_type: DPoP`; for a token it has not seen (a session restored after a restart), its
   * JWT's `cnf.jkt` is this key's thumbprint. A token it cannot tell is sent as `Bearer`.
   */
  isBound(accessToken: string): Promise<boolean>;
}

const PRESENTED = /^(?:Bearer|DPoP) ([\x21-\x7E]+)$/i;
/** Token answers remembered (access token → bound), the latest first out when full. */
const SEEN_MAX = 16;

/** A URL without query and fragment, as a proof's `htu` names it. */
const endpointOf = (url: URL) => `${url.origin}${url.pathname}`;

/** Creates the DPoP signer of one client (or of every client of an app: they may share the key). */
export function createDpop(options: DpopOptions): Dpop {
  const authServer = new URL(options.tokenEndpoint).origin;
  const endpoints = new Set((options.endpoints ?? []).map((u) => endpointOf(new URL(u))));
  const attach = attachPolicy(options.attachTo);
  const store =
    options.keyStore ?? (typeof indexedDB === 'undefined' ? memoryKeyStore() : indexedDbKeyStore());
  const base = options.fetch ?? ((input, init) => fetch(input, init));
  const clock = options.clock ?? { now: Date.now };
  let keys: Promise<DpopKeyPair> | undefined;
  const key = () => {
    keys ??= store.load().catch((error: unknown) => {
      keys = undefined;
      throw error;
    });
    return keys;
  };
  const nonces = new Map<string, string>();
  const seen = new Map<string, boolean>();

  const isBound = async (accessToken: string) => {
    const known = seen.get(accessToken);
    if (known !== undefined) return known;
    try {
      const payload = accessToken.split('.')[1] ?? '';
      const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as {
        cnf?: { jkt?: unknown };
      };
      return claims.cnf?.jkt === (await key()).jkt;
    } catch {
      return false;
    }
  };

  /** Remembers the token type of a token answer. */
  const remember = async (response: Response) => {
    if (!response.ok) return;
    try {
      const answer = (await response.clone().json()) as { access_token?: unknown; token_type?: unknown };
      if (typeof answer.access_token !== 'string') return;
      if (seen.size >= SEEN_MAX) seen.delete(seen.keys().next().value as string);
      seen.set(answer.access_token, /^dpop$/i.test(String(answer.token_type)));
    } catch {}
  };

  const proof = async (method: string, url: string, accessToken?: string) => {
    const target = new URL(url);
    return signProof(await key(), {
      htm: method,
      htu: `${target.origin}${target.pathname}`,
      iat: Math.floor(clock.now() / 1000),
      nonce: nonces.get(target.origin),
      accessToken,
    });
  };

  const learn: Dpop['learn'] = (url, headers) => {
    const nonce = headers.get('dpop-nonce');
    const origin = new URL(url).origin;
    if (nonce === null || nonce === '' || nonces.get(origin) === nonce) return false;
    nonces.set(origin, nonce);
    return true;
  };

  /** Whether an answer asks for the request again with the nonce it carries. */
  const wantsNonce = async (response: Response) => {
    if (response.status === 401)
      return /error="use_dpop_nonce"/.test(response.headers.get('www-authenticate') ?? '');
    if (response.status !== 400) return false;
    try {
      return ((await response.clone().json()) as { error?: unknown }).error === 'use_dpop_nonce';
    } catch {
      return false;
    }
  };

  const signedFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const token = PRESENTED.exec(request.headers.get('authorization') ?? '')?.[1];
    // An API request with a bound token to an attached URL (sent as DPoP), or a token request
    // (no access token) to the authorization server: nothing else is signed or changed.
    const signed =
      token !== undefined
        ? attach(url) && (await isBound(token))
        : url.origin === authServer || endpoints.has(endpointOf(url));
    if (!signed) return base(request);
    const send = async () => {
      const attempt = request.clone();
      if (token !== undefined) attempt.headers.set('authorization', `DPoP ${token}`);
      attempt.headers.set('dpop', await proof(request.method, request.url, token));
      return base(attempt);
    };
    let response = await send();
    // The one retry: a new nonce in the answer, and the answer asks for it.
    if (learn(request.url, response.headers) && (await wantsNonce(response))) response = await send();
    if (token === undefined) await remember(response);
    return response;
  };

  return {
    fetch: signedFetch,
    proof,
    learn,
    isBound,
    async thumbprint() {
      return (await key()).jkt;
    },
  };
}
