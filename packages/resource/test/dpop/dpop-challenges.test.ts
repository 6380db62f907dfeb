import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { createExpressAuth } from '../../src/adapters/express.js';
import { tesseraResource } from '../../src/adapters/fastify.js';
import { failureResponse } from '../../src/core/answers.js';
import { createResourceServer, type ResourceServer } from '../../src/core/create-resource-server.js';
import { AUDIENCE, FakeIssuer, manualClock, RS_CLIENT_ID, RS_CLIENT_SECRET } from '../support/fake-issuer.js';

// A request that uses DPoP, or a token that is DPoP-bound, is answered with a `DPoP` challenge
// listing `algs` (RFC 9449 §7.1), whatever the refusal: insufficient scope, a malformed
// Authorization header, two proofs. Each adapter, the Node ones over real sockets (two headers
// of one name arrive as Node and proxies deliver them, which `inject` never shows).

const ORIGIN = 'https://api.example.test';
const ALGS = /algs="ES256 EdDSA RS256"/;

/** One raw HTTP/1.1 GET with the headers as given (names may repeat). */
function raw(port: number, path: string, headers: Array<[string, string]>) {
  return new Promise<{ status: number; wwwAuthenticate: string; body: string }>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      const lines = headers.map(([k, v]) => `${k}: ${v}\r\n`).join('');
      socket.write(`GET ${path} HTTP/1.1\r\nHost: api.example.test\r\n${lines}Connection: close\r\n\r\n`);
    });
    let buf = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => {
      buf += d;
    });
    socket.on('error', reject);
    socket.on('end', () => {
      const head = buf.slice(0, buf.indexOf('\r\n\r\n'));
      const www = /^www-authenticate: (.*)$/im.exec(head)?.[1] ?? '';
      resolve({ status: Number(buf.slice(9, 12)), wwwAuthenticate: www, body: buf.slice(head.length + 4) });
    });
  });
}

describe('DPoP challenges from every adapter', () => {
  const clock = manualClock(Date.now());
  const now = () => Math.floor(clock.now() / 1000);
  let fake: FakeIssuer;
  let token: string;
  let proof: (path: string) => Promise<string>;
  let rs: ResourceServer;
  let fastifyPort: number;
  let expressPort: number;
  const closers: Array<() => unknown> = [];

  before(async () => {
    fake = await FakeIssuer.start();
    fake.nowSeconds = now();
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    token = await fake.sign({ claims: { cnf: { jkt: await calculateJwkThumbprint(jwk) } } });
    const ath = createHash('sha256').update(token).digest('base64url');
    proof = (path) =>
      new SignJWT({ jti: randomUUID(), htm: 'GET', htu: `${ORIGIN}${path}`, iat: now(), ath })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: jwk as JWK })
        .sign(privateKey);
    const options = { issuer: fake.issuer, audience: AUDIENCE, clock, origin: ORIGIN };
    rs = createResourceServer(options);
    closers.push(() => rs.close());

    const app: FastifyInstance = Fastify();
    // The global hook authenticates; the route's own check is then only the access rules.
    await app.register(tesseraResource, { ...options, global: true });
    app.get('/orders', async () => ({ reached: 'orders' }));
    app.get('/admin', { onRequest: app.requireAuth({ scopes: ['admin'] }) }, async () => ({
      reached: 'admin',
    }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => app.close());
    fastifyPort = (app.server.address() as { port: number }).port;

    const ex = express();
    const auth = createExpressAuth(options);
    closers.push(() => auth.server.close());
    ex.get('/orders', auth.requireAuth(), (_req, res) => {
      res.json({ reached: 'orders' });
    });
    // Two guards in a row: the second sees req.auth and checks only the scopes.
    ex.get('/admin', auth.requireAuth(), auth.requireAuth({ scopes: ['admin'] }), (_req, res) => {
      res.json({ reached: 'admin' });
    });
    const server: Server = ex.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    closers.push(() => server.close());
    expressPort = (server.address() as { port: number }).port;
  });
  after(async () => {
    for (const close of closers) await close();
    await fake.close();
  });

  /** The same request through the Fetch core, Fastify and Express. */
  async function everywhere(path: string, headers: () => Promise<Array<[string, string]>>) {
    const fetchHeaders = new Headers();
    for (const [k, v] of await headers()) fetchHeaders.append(k, v);
    const answer = failureResponse(
      await (async () => {
        const result = await rs.authenticate(new Request(`${ORIGIN}${path}`, { headers: fetchHeaders }), {
          scopes: path === '/admin' ? ['admin'] : [],
        });
        assert.equal(result.ok, false, 'the Fetch core accepted it');
        if (result.ok) throw new Error('unreachable');
        return result;
      })(),
    );
    const fetchAnswer = {
      status: answer.status,
      wwwAuthenticate: answer.headers.get('www-authenticate') ?? '',
      body: await answer.text(),
    };
    return {
      fetch: fetchAnswer,
      fastify: await raw(fastifyPort, path, await headers()),
      express: await raw(expressPort, path, await headers()),
    };
  }

  it('the harness: a good proof passes every adapter', async () => {
    for (const port of [fastifyPort, expressPort]) {
      const ok = await raw(port, '/orders', [
        ['Authorization', `DPoP ${token}`],
        ['DPoP', await proof('/orders')],
      ]);
      assert.equal(ok.status, 200, ok.body);
    }
    const result = await rs.authenticate(
      new Request(`${ORIGIN}/orders`, {
        headers: { authorization: `DPoP ${token}`, dpop: await proof('/orders') },
      }),
    );
    assert.equal(result.ok, true);
  });

  it('insufficient_scope for a DPoP-bound token is a DPoP challenge with algs (403)', async () => {
    const answers = await everywhere('/admin', async () => [
      ['Authorization', `DPoP ${token}`],
      ['DPoP', await proof('/admin')],
    ]);
    for (const [adapter, res] of Object.entries(answers)) {
      assert.equal(res.status, 403, `${adapter}: ${res.body}`);
      assert.match(res.wwwAuthenticate, /^DPoP .*error="insufficient_scope"/, adapter);
      assert.match(res.wwwAuthenticate, /scope="admin"/, adapter);
      assert.match(res.wwwAuthenticate, ALGS, adapter);
    }
  });

  it('a malformed Authorization: DPoP header is a DPoP challenge with algs', async () => {
    for (const value of ['DPoP', 'DPoP a b']) {
      const answers = await everywhere('/orders', async () => [
        ['Authorization', value],
        ['DPoP', await proof('/orders')],
      ]);
      for (const [adapter, res] of Object.entries(answers)) {
        assert.equal(res.status, 400, `${adapter} (${value}): ${res.body}`);
        assert.match(res.wwwAuthenticate, /^DPoP .*error="invalid_request"/, `${adapter} (${value})`);
        assert.match(res.wwwAuthenticate, ALGS, adapter);
      }
    }
  });

  it('two DPoP headers are refused as two, however they arrive', async () => {
    const twoHeaders = await everywhere('/orders', async () => [
      ['Authorization', `DPoP ${token}`],
      ['DPoP', await proof('/orders')],
      ['DPoP', await proof('/orders')],
    ]);
    const joined = await everywhere('/orders', async () => [
      ['Authorization', `DPoP ${token}`],
      ['DPoP', `${await proof('/orders')}, ${await proof('/orders')}`],
    ]);
    for (const answers of [twoHeaders, joined]) {
      for (const [adapter, res] of Object.entries(answers)) {
        assert.equal(res.status, 401, `${adapter}: ${res.body}`);
        assert.match(res.wwwAuthenticate, /^DPoP .*error="invalid_dpop_proof"/, adapter);
        assert.match(res.wwwAuthenticate, ALGS, adapter);
        assert.match(res.body, /DPoP header was sent more than once/, adapter);
      }
    }
  });

  it('a revoked bound token is answered with a DPoP challenge, however it is sent', async () => {
    fake.publish('family', 'family-revoked');
    const withFeed = createResourceServer({
      issuer: fake.issuer,
      audience: AUDIENCE,
      clock,
      origin: ORIGIN,
      clientId: RS_CLIENT_ID,
      clientSecret: RS_CLIENT_SECRET,
    });
    try {
      await withFeed.ready();
      const { publicKey, privateKey } = await generateKeyPair('ES256');
      const jwk = await exportJWK(publicKey);
      const revoked = await fake.sign({
        claims: { sid: 'family-revoked', cnf: { jkt: await calculateJwkThumbprint(jwk) } },
      });
      const ath = createHash('sha256').update(revoked).digest('base64url');
      const proof = await new SignJWT({
        jti: randomUUID(),
        htm: 'GET',
        htu: `${ORIGIN}/orders`,
        iat: now(),
        ath,
      })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: jwk as JWK })
        .sign(privateKey);
      const attempts: Record<string, string>[] = [
        { authorization: `Bearer ${revoked}` },
        { authorization: `DPoP ${revoked}`, dpop: proof },
      ];
      for (const headers of attempts) {
        const result = await withFeed.authenticate(new Request(`${ORIGIN}/orders`, { headers }));
        assert.equal(result.ok, false);
        if (result.ok) return;
        assert.equal(result.status, 401);
        assert.match(result.error.message, /revoked/);
        assert.match(result.wwwAuthenticate ?? '', /^DPoP .*error="invalid_token"/);
        assert.match(result.wwwAuthenticate ?? '', ALGS);
      }
    } finally {
      withFeed.close();
    }
  });

  it('a bound token sent as Bearer, and an unbound request, keep their challenges', async () => {
    const asBearer = await everywhere('/orders', async () => [['Authorization', `Bearer ${token}`]]);
    for (const [adapter, res] of Object.entries(asBearer)) {
      assert.equal(res.status, 401, adapter);
      assert.match(res.wwwAuthenticate, /^DPoP .*error="invalid_token"/, adapter);
      assert.match(res.wwwAuthenticate, ALGS, adapter);
    }
    const malformedBearer = await everywhere('/orders', async () => [['Authorization', 'Bearer a b']]);
    for (const [adapter, res] of Object.entries(malformedBearer)) {
      assert.equal(res.status, 400, adapter);
      assert.match(res.wwwAuthenticate, /^Bearer /, adapter);
    }
  });
});
