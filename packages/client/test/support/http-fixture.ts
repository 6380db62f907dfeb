import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeTokenServer } from './fake-token-server.js';

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

/**
 * A token endpoint (FakeTokenServer's rules over real HTTP) and a protected API on 127.0.0.1.
 * The API accepts only the token issued last, unless `rejectAll`; it records every request.
 */
export class HttpFixture {
  tokens!: FakeTokenServer;
  readonly api: { id: string | null; auth: string | null; method: string }[] = [];
  /** Answer 401 to every API request, whatever the token. */
  rejectAll = false;
  /** Hold the token endpoint's answers until released. */
  holdTokens = false;
  /** Hold only the next N token requests, unprocessed, until released (a tab dying mid-refresh). */
  holdNextTokens = 0;
  /** Refresh tokens presented at the token endpoint, in arrival order, processed or not. */
  readonly tokenArrivals: (string | null)[] = [];
  /** Static files (the browser test's page and bundle). */
  readonly files = new Map<string, { type: string; body: string }>();
  /** Hold API answers for these request ids until released. */
  readonly holdApi = new Set<string>();
  readonly #waiting: (() => void)[] = [];
  #server!: Server;
  origin = '';

  static async start(): Promise<HttpFixture> {
    const f = new HttpFixture();
    f.#server = createServer((req, res) => {
      void f.#handle(req, res);
    });
    await new Promise<void>((resolve) => f.#server.listen(0, '127.0.0.1', resolve));
    f.origin = `http://127.0.0.1:${(f.#server.address() as AddressInfo).port}`;
    f.tokens = new FakeTokenServer(undefined, `${f.origin}/oauth/token`);
    return f;
  }

  release(): void {
    this.holdTokens = false;
    this.holdApi.clear();
    for (const go of this.#waiting.splice(0)) go();
  }

  #wait(): Promise<void> {
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const file = this.files.get(new URL(req.url ?? '/', this.origin).pathname);
    if (file) {
      res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' });
      res.end(file.body);
      return;
    }
    if (req.url === '/oauth/token') {
      this.tokenArrivals.push(new URLSearchParams(body).get('refresh_token'));
      if (this.holdNextTokens > 0) {
        this.holdNextTokens--;
        await this.#wait();
      } else if (this.holdTokens) await this.#wait();
      const answer = await this.tokens.fetch(this.tokens.url, {
        method: 'POST',
        headers: req.headers as Record<string, string>,
        body,
      });
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(await answer.text());
      return;
    }
    const id = req.headers['x-req-id'];
    const reqId = typeof id === 'string' ? id : null;
    const auth = req.headers.authorization ?? null;
    this.api.push({ id: reqId, auth, method: req.method ?? '' });
    if (reqId && this.holdApi.has(reqId)) await this.#wait();
    const current = this.tokens.currentAccessToken;
    if (this.rejectAll || auth !== `Bearer ${current}` || this.revokedAccess.has(current)) {
      res.writeHead(401, {
        'www-authenticate': 'Bearer error="invalid_token"',
        'content-type': 'application/json',
      });
      res.end('{"error":"invalid_token"}');
      return;
    }
    const noStore = req.url?.includes('private');
    res.writeHead(200, {
      'content-type': 'application/json',
      ...(noStore ? { 'cache-control': 'no-store' } : {}),
    });
    res.end(JSON.stringify({ ok: true, url: req.url, body }));
  }

  /** Access tokens the API rejects, as after a revocation or a signing-key rotation. */
  readonly revokedAccess = new Set<string>();

  stop(): Promise<void> {
    this.release();
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
