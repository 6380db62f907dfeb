/**
 * DPoP (RFC 9449) for the SDK: a key pair the client holds and never sends, and a `fetch` that
 * adds a fresh proof to every request it sends. Token requests get a proof of the token
 * endpoint; API requests, whose `Authorization` carries the access token, are sent as
 * `Authorization: DPoP <token>` with a proof that names it (`ath`). A `DPoP-Nonce` answer is
 * remembered per origin, and a `use_dpop_nonce` refusal is retried once with the new nonce.
 *
 * A subpath of its own, so the core stays small: pass `dpop.fetch` as the client's `fetch` (token
 * requests) and as `createFetch`'s (API requests), or `dpop` to `attachAxios`.
 *
 * @example
 * import { createDpop } from '@tessera/client/dpop';
 * const dpop = createDpop(); // IndexedDB in browsers: one key for every tab of the origin
 * const client = createTesseraClient({ tokenEndpoint, clientId: 'web', fetch: dpop.fetch });
 * const api = createFetch(client, { fetch: dpop.fetch });
 */
import type { Clock } from '../core/types.js';
import { type DpopKeyPair, type DpopKeyStore, indexedDbKeyStore, memoryKeyStore } from './key-stores.js';
import { signProof } from './sign-proof.js';

export type { DpopKeyPair, DpopKeyStore } from './key-stores.js';
export { indexedDbKeyStore, memoryKeyStore, storageKeyStore } from './key-stores.js';

export interface DpopOptions {
  /** Where the key pair lives; default IndexedDB where there is one, else memory (one per process). */
  keyStore?: DpopKeyStore;
  /** The fetch that sends the signed requests; default the global one. */
  fetch?: typeof fetch;
  /** Wall clock for `iat`; default `Date.now`. */
  clock?: Clock;
}

export interface Dpop {
  /** A fetch that signs every request with a fresh proof (see the module's description). */
  readonly fetch: typeof fetch;
  /** A fresh proof for one request; with `accessToken`, bound to it by `ath`. */
  proof(method: string, url: string, accessToken?: string): Promise<string>;
  /** Remembers the `DPoP-Nonce` of an answer from `url`'s origin; true when it is a new one. */
  learn(url: string, headers: Headers | { get(name: string): string | null }): boolean;
  /** The RFC 7638 thumbprint of the public key (what tokens are bound to: `cnf.jkt`). */
  thumbprint(): Promise<string>;
}

const BOUND = /^(?:Bearer|DPoP) ([\x21-\x7E]+)$/i;

/** Creates the DPoP signer of one client (or of every client of an app: they may share the key). */
export function createDpop(options: DpopOptions = {}): Dpop {
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
    const token = BOUND.exec(request.headers.get('authorization') ?? '')?.[1];
    const send = async () => {
      const attempt = request.clone();
      if (token !== undefined) attempt.headers.set('authorization', `DPoP ${token}`);
      attempt.headers.set('dpop', await proof(request.method, request.url, token));
      return base(attempt);
    };
    const response = await send();
    // The one retry: a new nonce in the answer, and the answer asks for it.
    if (learn(request.url, response.headers) && (await wantsNonce(response))) return send();
    return response;
  };

  return {
    fetch: signedFetch,
    proof,
    learn,
    async thumbprint() {
      return (await key()).jkt;
    },
  };
}
