import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The user every sign-in is for. */
export const USER = { username: 'ada', password: 'correct horse', sub: 'u-ada', name: 'Ada Lovelace' };

const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

interface Family {
  current: string;
  /** The answer to the current token's parent, for a retry within the grace period. */
  parent?: { token: string; answer: object };
  revoked: boolean;
}

/**
 * A small authorization server on 127.0.0.1 for the React tests: `POST /api/auth/login`,
 * `POST /oauth/token` (refresh_token grant with rotation, the parent answered again with the
 * same child, anything older refused as reuse), `POST /oauth/revoke`, JWT-shaped access tokens
 * with the user's claims (unsigned: the SDK reads them, it never verifies them), and static files.
 */
export class AuthServer {
  readonly files = new Map<string, { type: string; body: string }>();
  /** Access-token lifetime in seconds. */
  expiresIn = 600;
  /** Token-endpoint requests, in order. */
  readonly refreshes: string[] = [];
  origin = '';
  #server!: Server;
  #seq = 0;
  readonly #families = new Map<string, Family>();
  readonly #byToken = new Map<string, string>();

  static async start(): Promise<AuthServer> {
    const s = new AuthServer();
    s.#server = createServer((req, res) => {
      void s.#handle(req, res);
    });
    await new Promise<void>((resolve) => s.#server.listen(0, '127.0.0.1', resolve));
    s.origin = `http://127.0.0.1:${(s.#server.address() as AddressInfo).port}`;
    return s;
  }

  /** Ends every session: the next refresh of each is answered `token_revoked`. */
  revokeAll(): void {
    for (const family of this.#families.values()) family.revoked = true;
  }

  #mint(sid: string) {
    const n = ++this.#seq;
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      sub: USER.sub,
      name: USER.name,
      roles: ['reader'],
      sid,
      iat: now,
      exp: now + this.expiresIn,
      jti: `j${n}`,
    };
    const refresh = `rt-${n}`;
    this.#byToken.set(refresh, sid);
    return {
      access_token: `${part({ alg: 'none', typ: 'at+jwt' })}.${part(claims)}.sig${n}`,
      token_type: 'Bearer',
      expires_in: this.expiresIn,
      refresh_token: refresh,
      scope: 'api',
      revocation_endpoint: `${this.origin}/oauth/revoke`,
    };
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString();
    const path = new URL(req.url ?? '/', this.origin).pathname;
    const file = this.files.get(path);
    if (file) {
      res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' });
      res.end(file.body);
      return;
    }
    const json = (status: number, value: object) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(value));
    };
    if (path === '/api/auth/login') {
      const { username, password } = JSON.parse(body || '{}') as { username?: string; password?: string };
      if (username !== USER.username || password !== USER.password) {
        json(401, {
          error: 'invalid_grant',
          error_code: 'invalid_credentials',
          error_description: 'Invalid username or password',
        });
        return;
      }
      const sid = `s${this.#families.size + 1}`;
      const answer = this.#mint(sid);
      this.#families.set(sid, { current: answer.refresh_token, revoked: false });
      json(200, answer);
      return;
    }
    if (path === '/oauth/token') {
      const presented = new URLSearchParams(body).get('refresh_token') ?? '';
      this.refreshes.push(presented);
      const family = this.#families.get(this.#byToken.get(presented) ?? '');
      if (!family) return json(400, { error: 'invalid_grant', error_code: 'invalid_token' });
      if (family.revoked)
        return json(400, {
          error: 'invalid_grant',
          error_code: 'token_revoked',
          error_description: 'The session was ended',
        });
      if (family.parent?.token === presented) return json(200, family.parent.answer);
      if (family.current !== presented) {
        family.revoked = true;
        return json(400, { error: 'invalid_grant', error_code: 'token_reused' });
      }
      const answer = this.#mint(this.#byToken.get(presented) ?? '');
      family.parent = { token: presented, answer };
      family.current = answer.refresh_token;
      json(200, answer);
      return;
    }
    if (path === '/oauth/revoke') {
      res.writeHead(200);
      res.end();
      return;
    }
    json(404, { error: 'not_found' });
  }

  stop(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
