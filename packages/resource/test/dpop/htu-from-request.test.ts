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
import { AUDIENCE, FakeIssuer, manualClock } from '../support/fake-issuer.js';

// The htu a proof must name comes from the request target, never from a Host header that a
// client chooses (Node passes `Host: a.example/profile?` through as sent), and includes the
// prefix a router is mounted under. Over real sockets, because `inject` never sends a raw Host.

const ORIGIN = 'https://api.example.test';

/** One raw HTTP/1.1 request; answers the status code and the body. */
function raw(port: number, path: string, host: string, headers: Record<string, string>) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${lines.join('')}Connection: close\r\n\r\n`);
    });
    let buf = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => {
      buf += d;
    });
    socket.on('error', reject);
    socket.on('end', () => {
      const status = Number(buf.slice(9, 12));
      resolve({ status, body: buf.slice(buf.indexOf('\r\n\r\n') + 4) });
    });
  });
}

describe('DPoP htu from the request target, not the Host header', () => {
  const clock = manualClock(Date.now());
  const now = () => Math.floor(clock.now() / 1000);
  let fake: FakeIssuer;
  let token: string;
  let proof: (htu: string) => Promise<string>;
  const servers: Server[] = [];
  const closers: Array<() => unknown> = [];

  before(async () => {
    fake = await FakeIssuer.start();
    fake.nowSeconds = now();
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    token = await fake.sign({ claims: { cnf: { jkt: await calculateJwkThumbprint(jwk) } } });
    const ath = createHash('sha256').update(token).digest('base64url');
    proof = (htu) =>
      new SignJWT({ jti: randomUUID(), htm: 'GET', htu, iat: now(), ath })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: jwk as JWK })
        .sign(privateKey);
  });
  after(async () => {
    for (const close of closers) await close();
    for (const server of servers) server.close();
    await fake.close();
  });

  async function expressApp(origin: string | undefined) {
    const ex = express();
    const auth = createExpressAuth({
      issuer: fake.issuer,
      audience: AUDIENCE,
      clock,
      ...(origin === undefined ? {} : { origin }),
    });
    closers.push(() => auth.server.close());
    ex.get('/admin/delete', auth.requireAuth(), (_req, res) => {
      res.json({ reached: 'admin' });
    });
    ex.get('/profile', auth.requireAuth(), (_req, res) => {
      res.json({ reached: 'profile' });
    });
    const router = express.Router();
    router.get('/orders', auth.requireAuth(), (_req, res) => {
      res.json({ reached: 'api/orders' });
    });
    ex.use('/api', router);
    const server = ex.listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise((r) => server.once('listening', r));
    return (server.address() as { port: number }).port;
  }
  const dpop = async (htu: string) => ({ authorization: `DPoP ${token}`, dpop: await proof(htu) });

  it('with origin: a Host carrying a path cannot move the htu to another endpoint', async () => {
    const port = await expressApp(ORIGIN);
    const steered = await raw(
      port,
      '/admin/delete',
      'api.example.test/profile?',
      await dpop(`${ORIGIN}/profile`),
    );
    assert.equal(steered.status, 401, steered.body);
    // The honest request with that proof's endpoint still works, whatever the Host says.
    const honest = await raw(port, '/profile', 'anything.invalid', await dpop(`${ORIGIN}/profile`));
    assert.equal(honest.status, 200, honest.body);
    // And the admin endpoint takes a proof made for it.
    const admin = await raw(
      port,
      '/admin/delete',
      'api.example.test/profile?',
      await dpop(`${ORIGIN}/admin/delete`),
    );
    assert.equal(admin.status, 200, admin.body);
  });

  it('without origin: a Host that is not a bare host[:port] is refused', async () => {
    const port = await expressApp(undefined);
    for (const host of ['api.example.test/profile?', 'a@api.example.test', 'api.example.test#x', 'a\\b']) {
      const res = await raw(port, '/admin/delete', host, await dpop(`http://api.example.test/profile`));
      assert.equal(res.status, 401, `${host}: ${res.body}`);
      assert.match(res.body, /request URL is unknown/);
    }
    const bare = await raw(
      port,
      '/profile',
      `127.0.0.1:${port}`,
      await dpop(`http://127.0.0.1:${port}/profile`),
    );
    assert.equal(bare.status, 200, bare.body);
  });

  it('Express: a router mounted under a prefix checks the full path (originalUrl)', async () => {
    const port = await expressApp(ORIGIN);
    const honest = await raw(port, '/api/orders', 'api.example.test', await dpop(`${ORIGIN}/api/orders`));
    assert.equal(honest.status, 200, honest.body);
    const stripped = await raw(port, '/api/orders', 'api.example.test', await dpop(`${ORIGIN}/orders`));
    assert.equal(stripped.status, 401, stripped.body);
    assert.match(stripped.body, /htu/);
  });

  it('Fastify: a plugin under a prefix checks the full path; a Host with a path is ignored with origin', async () => {
    const app: FastifyInstance = Fastify();
    await app.register(tesseraResource, { issuer: fake.issuer, audience: AUDIENCE, clock, origin: ORIGIN });
    await app.register(
      async (scoped) => {
        scoped.get('/orders', { onRequest: app.requireAuth() }, async () => ({ reached: 'api/orders' }));
      },
      { prefix: '/api' },
    );
    app.get('/admin/delete', { onRequest: app.requireAuth() }, async () => ({ reached: 'admin' }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => app.close());
    const { port } = app.server.address() as { port: number };
    assert.equal((await raw(port, '/api/orders', 'x', await dpop(`${ORIGIN}/api/orders`))).status, 200);
    assert.equal((await raw(port, '/api/orders', 'x', await dpop(`${ORIGIN}/orders`))).status, 401);
    const steered = await raw(
      port,
      '/admin/delete',
      'api.example.test/profile?',
      await dpop(`${ORIGIN}/profile`),
    );
    assert.equal(steered.status, 401, steered.body);
  });
});
