import type { TokenResponse } from '@tessera/protocol';
import { settle } from './virtual-time.js';

/** One refresh request as the server saw it. */
export interface SeenRequest {
  refreshToken: string | null;
  nonce: string | null;
  clientId: string | null;
  authorization: string | null;
  contentType: string | null;
  grantType: string | null;
  /** Virtual time at which the request arrived. */
  at: number;
}

/** What the next refresh request gets instead of the normal answer. */
export type Scripted =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | 'network'
  | 'lost'
  | 'hang'
  | 'hold';

/**
 * An in-memory OAuth token endpoint with Tessera's rotation rules, served through an injected
 * `fetch`: rotation on every refresh, a grace period in which the immediate parent gets the same
 * child again, reuse detection for anything older. `script` overrides the next answers.
 */
export class FakeTokenServer {
  readonly url: string;
  readonly requests: SeenRequest[] = [];
  /** Requests to any other URL (revocation, ...). */
  readonly other: string[] = [];
  readonly script: Scripted[] = [];
  expiresIn = 900;

  constructor(
    readonly clock?: { now(): number },
    url = 'https://auth.test/oauth/token',
  ) {
    this.url = url;
  }

  /** The access token issued last. */
  get currentAccessToken(): string {
    return `at-${this.#gen}`;
  }
  #gen = 0;
  #current = '';
  readonly #answers = new Map<string, TokenResponse>();
  #hanging: (() => void)[] = [];

  /** Successful rotations (grace repeats not counted). */
  rotations = 0;

  /** The first token answer, as a login would give. */
  issue(): TokenResponse {
    return this.#mint();
  }

  get currentRefreshToken(): string {
    return this.#current;
  }

  #held: (() => void)[] = [];

  /** Lets every request scripted `hold` go on to its normal answer (a slow server). */
  release(): void {
    for (const go of this.#held.splice(0)) go();
  }

  /** Requests waiting for {@link release}. */
  get holding(): number {
    return this.#held.length;
  }

  /** Fails every request that is hanging with a network error. */
  releaseHanging(): void {
    for (const fail of this.#hanging.splice(0)) fail();
  }

  #mint(): TokenResponse {
    this.#gen++;
    this.#current = `rt-${this.#gen}`;
    return {
      access_token: `at-${this.#gen}`,
      token_type: 'Bearer',
      expires_in: this.expiresIn,
      refresh_token: this.#current,
      refresh_token_expires_in: 14 * 86400,
      scope: 'api',
      revocation_endpoint: 'https://auth.test/oauth/revoke',
    };
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const { url, headers } = request;
    const body = new URLSearchParams(await request.text());
    await settle(1);
    if (url !== this.url) {
      this.other.push(url);
      return new Response(null, { status: 200 });
    }
    const seen: SeenRequest = {
      refreshToken: body.get('refresh_token'),
      nonce: body.get('nonce'),
      clientId: body.get('client_id'),
      authorization: headers.get('authorization'),
      contentType: headers.get('content-type'),
      grantType: body.get('grant_type'),
      at: this.clock?.now() ?? 0,
    };
    this.requests.push(seen);
    const scripted = this.script.shift();
    if (scripted === 'network') throw new TypeError('fetch failed');
    if (scripted === 'hold') await new Promise<void>((go) => this.#held.push(go));
    if (scripted === 'hang') {
      return new Promise<Response>((_, reject) => {
        this.#hanging.push(() => reject(new TypeError('fetch failed')));
        request.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      });
    }
    if (scripted && scripted !== 'lost' && scripted !== 'hold') {
      return Response.json(scripted.body ?? {}, { status: scripted.status, headers: scripted.headers ?? {} });
    }
    const answer = this.#answer(seen.refreshToken ?? '');
    // 'lost': the server did the work, the answer never arrived.
    if (scripted === 'lost') throw new TypeError('fetch failed');
    return answer;
  };

  #answer(presented: string): Response {
    const repeat = this.#answers.get(presented);
    if (presented === this.#current) {
      const res = this.#mint();
      this.rotations++;
      this.#answers.clear();
      this.#answers.set(presented, res);
      return Response.json(res, { headers: { 'cache-control': 'no-store' } });
    }
    if (repeat) return Response.json(repeat);
    return Response.json(
      {
        error: 'invalid_grant',
        error_code: 'token_reused',
        error_description: 'Token has been rotated and grace period has expired',
        retryable: false,
      },
      { status: 400 },
    );
  }
}
