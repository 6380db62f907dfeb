import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IntrospectionResponse, RevocationNotice } from '@tessera/protocol';
import { ENDPOINTS, REVOCATION_FEED_METADATA } from '@tessera/protocol';
import {
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';

export const RS_CLIENT_ID = 'resource-api';
export const RS_CLIENT_SECRET = 'rs secret:with/odd+chars';
export const AUDIENCE = 'https://api.example.test';

export interface TestKey {
  kid: string;
  alg: 'ES256' | 'EdDSA' | 'RS256';
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
  spki: string;
}

export interface SignOptions {
  /** Claims merged over the defaults; `undefined` values remove a default claim. */
  claims?: Record<string, unknown>;
  /** Header members merged over `{ alg, typ: 'at+jwt', kid }`. */
  header?: Record<string, unknown>;
  key?: TestKey;
}

async function makeKey(kid: string, alg: TestKey['alg']): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicKey, publicJwk, spki: await exportSPKI(publicKey) };
}

/**
 * A small stand-in for the Tessera authorization server: metadata, JWKS, introspection and
 * the revocation feed (JSON snapshot and SSE), on 127.0.0.1 with counters for every call.
 */
export class FakeIssuer extends EventEmitter {
  issuer = '';
  keys: TestKey[] = [];
  /** Keys published in the JWKS (a subset of `keys` lets tests hide one). */
  published: TestKey[] = [];
  readonly counts = { metadata: 0, jwks: 0, introspection: 0, snapshot: 0, sse: 0 };
  /** `Last-Event-ID` of every SSE connection, in order (undefined when absent). */
  readonly lastEventIds: Array<string | undefined> = [];
  readonly introspection = new Map<string, IntrospectionResponse>();
  readonly notices: RevocationNotice[] = [];
  /** When true the feed answers 503. */
  feedDown = false;
  /** Base time (seconds) used for default `iat`/`exp`; matches the tests' clock. */
  nowSeconds = Math.floor(Date.now() / 1000);
  #server: Server | undefined;
  readonly #streams = new Set<ServerResponse>();

  static async start(): Promise<FakeIssuer> {
    const fake = new FakeIssuer();
    fake.keys = [
      await makeKey('k-es', 'ES256'),
      await makeKey('k-ed', 'EdDSA'),
      await makeKey('k-rs', 'RS256'),
    ];
    fake.published = [...fake.keys];
    fake.#server = createServer((req, res) => fake.#handle(req, res));
    await new Promise<void>((resolve) => fake.#server!.listen(0, '127.0.0.1', resolve));
    const { port } = fake.#server.address() as AddressInfo;
    fake.issuer = `http://127.0.0.1:${port}`;
    return fake;
  }

  get es(): TestKey {
    return this.keys[0]!;
  }

  /** Signs an RFC 9068 access token; defaults make it valid for `AUDIENCE` for 15 minutes. */
  async sign(opts: SignOptions = {}): Promise<string> {
    const key = opts.key ?? this.es;
    const claims: Record<string, unknown> = {
      iss: this.issuer,
      sub: 'user-1',
      aud: AUDIENCE,
      iat: this.nowSeconds,
      exp: this.nowSeconds + 900,
      jti: `jti-${Math.random().toString(36).slice(2)}`,
      client_id: 'web-app',
      scope: 'orders:read profile',
      sid: 'family-1',
      roles: ['user'],
      ...opts.claims,
    };
    for (const k of Object.keys(claims)) if (claims[k] === undefined) delete claims[k];
    const header = { alg: key.alg, typ: 'at+jwt', kid: key.kid, ...opts.header };
    return new SignJWT(claims as JWTPayload)
      .setProtectedHeader(header as { alg: string })
      .sign(key.privateKey);
  }

  /** Publishes a revocation notice to every open stream. */
  publish(kind: RevocationNotice['kind'], value: string, exp = this.nowSeconds + 3600): RevocationNotice {
    const notice: RevocationNotice = { seq: this.notices.length + 1, kind, value, exp };
    this.notices.push(notice);
    for (const res of this.#streams) res.write(`id: ${notice.seq}\ndata: ${JSON.stringify(notice)}\n\n`);
    return notice;
  }

  /** Cuts every open SSE connection (the feed sees the stream end). */
  dropStreams(): void {
    for (const res of this.#streams) res.destroy();
    this.#streams.clear();
  }

  get openStreams(): number {
    return this.#streams.size;
  }

  async close(): Promise<void> {
    this.dropStreams();
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => this.#server!.close(() => resolve()));
  }

  #authorized(req: IncomingMessage): boolean {
    const enc = (v: string) => encodeURIComponent(v).replace(/%20/g, '+');
    const expected = `Basic ${Buffer.from(`${enc(RS_CLIENT_ID)}:${enc(RS_CLIENT_SECRET)}`).toString('base64')}`;
    return req.headers.authorization === expected;
  }

  #json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  #handle(req: IncomingMessage, res: ServerResponse): unknown {
    const path = new URL(req.url ?? '/', this.issuer).pathname;
    if (path === ENDPOINTS.metadata) {
      this.counts.metadata++;
      return this.#json(res, 200, {
        issuer: this.issuer,
        jwks_uri: `${this.issuer}${ENDPOINTS.jwks}`,
        introspection_endpoint: `${this.issuer}${ENDPOINTS.introspection}`,
        revocation_endpoint: `${this.issuer}${ENDPOINTS.revocation}`,
        token_endpoint: `${this.issuer}${ENDPOINTS.token}`,
        [REVOCATION_FEED_METADATA]: `${this.issuer}${ENDPOINTS.revocationFeed}`,
      });
    }
    if (path === ENDPOINTS.jwks) {
      this.counts.jwks++;
      this.emit('jwks');
      return this.#json(res, 200, { keys: this.published.map((k) => k.publicJwk) });
    }
    if (path === ENDPOINTS.introspection && req.method === 'POST') {
      this.counts.introspection++;
      if (!this.#authorized(req)) return this.#json(res, 401, { error: 'invalid_client' });
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        const token = new URLSearchParams(body).get('token') ?? '';
        this.#json(res, 200, this.introspection.get(token) ?? { active: false });
      });
      return;
    }
    if (path === ENDPOINTS.revocationFeed) {
      if (!this.#authorized(req)) return this.#json(res, 401, { error: 'invalid_client' });
      if (this.feedDown) return this.#json(res, 503, { error: 'temporarily_unavailable' });
      if ((req.headers.accept ?? '').includes('text/event-stream')) {
        this.counts.sse++;
        const last = req.headers['last-event-id'];
        this.lastEventIds.push(typeof last === 'string' ? last : undefined);
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
        res.write(': connected\n\n');
        const after = Number(last ?? this.notices.length);
        for (const n of this.notices)
          if (n.seq > after) res.write(`id: ${n.seq}\ndata: ${JSON.stringify(n)}\n\n`);
        this.#streams.add(res);
        res.on('close', () => this.#streams.delete(res));
        this.emit('sse-connect', last);
        return;
      }
      this.counts.snapshot++;
      return this.#json(res, 200, { seq: this.notices.length, notices: this.notices });
    }
    this.#json(res, 404, { error: 'not_found' });
  }
}

/** A clock the test moves by hand. */
export function manualClock(startMs: number): {
  now: () => number;
  advance: (ms: number) => void;
  set: (ms: number) => void;
} {
  let t = startMs;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
    set: (ms) => {
      t = ms;
    },
  };
}

/** Resolves when `check` holds, re-checking on each event of `emitter` (bounded by `timeoutMs`). */
export function until(check: () => boolean, timeoutMs = 5000, label = 'condition'): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${label}`));
      setTimeout(tick, 2);
    };
    tick();
  });
}

/** A Fetch `Request` carrying `Authorization: Bearer <token>`. */
export function bearer(token: string, url = 'http://api.test/orders'): Request {
  return new Request(url, { headers: { authorization: `Bearer ${token}` } });
}
