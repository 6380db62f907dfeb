import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ENDPOINTS } from '@tessera/protocol';
import { saveClient } from '../../src/index.js';
import { dpopKey, type TestDpopKey } from '../helpers/dpop.js';
import { PASSWORD, startTestServer, type TestServer } from '../helpers/test-server.js';

// Over a real socket: Node joins repeated headers it does not know into one `a, b` in
// `request.headers`, which `inject` never shows. Two DPoP headers must be refused as two
// headers, however they arrive.

/** One raw HTTP/1.1 POST with the headers as given (names may repeat); the status and JSON body. */
function rawPost(port: number, path: string, headers: Array<[string, string]>, body: string) {
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      const lines = headers.map(([k, v]) => `${k}: ${v}\r\n`).join('');
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${lines}` +
          `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `Connection: close\r\n\r\n${body}`,
      );
    });
    let buf = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => {
      buf += d;
    });
    socket.on('error', reject);
    socket.on('end', () => {
      const text = buf.slice(buf.indexOf('\r\n\r\n') + 4);
      resolve({ status: Number(buf.slice(9, 12)), body: JSON.parse(text.slice(text.indexOf('{'))) });
    });
  });
}

describe('two DPoP headers over real HTTP', () => {
  let s: TestServer;
  let key: TestDpopKey;
  let port: number;
  const form = new URLSearchParams({
    grant_type: 'password',
    client_id: 'dpop-app',
    username: 'alice',
    password: PASSWORD,
  }).toString();
  const proof = () =>
    key.proof('POST', `${s.tessera.ctx.config.issuer}${ENDPOINTS.token}`, {
      iat: Math.floor(s.clock.now() / 1000),
    });

  before(async () => {
    s = await startTestServer({ listen: true });
    port = Number(new URL(s.url).port);
    await saveClient(s.tessera.ctx, {
      id: 'dpop-app',
      public: true,
      dpop: true,
      grantTypes: ['password', 'refresh_token'],
      defaultScope: 'profile',
    });
    key = await dpopKey();
  });
  after(() => s.close());

  it('one good proof over the socket signs in (the harness works)', async () => {
    const res = await rawPost(port, ENDPOINTS.token, [['DPoP', await proof()]], form);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.token_type, 'DPoP');
  });

  it('refuses two DPoP headers as two headers, not as one malformed proof', async () => {
    const res = await rawPost(
      port,
      ENDPOINTS.token,
      [
        ['DPoP', await proof()],
        ['DPoP', await proof()],
      ],
      form,
    );
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_request');
    assert.match(res.body.error_description, /DPoP header was sent more than once/);
  });

  it('refuses two proofs joined in one header (as a proxy joins them)', async () => {
    const res = await rawPost(port, ENDPOINTS.token, [['DPoP', `${await proof()}, ${await proof()}`]], form);
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_request');
    assert.match(res.body.error_description, /DPoP header was sent more than once/);
  });

  it('refuses two DPoP headers whatever their case', async () => {
    const res = await rawPost(
      port,
      ENDPOINTS.token,
      [
        ['dpop', await proof()],
        ['DPOP', await proof()],
      ],
      form,
    );
    assert.equal(res.status, 400);
    assert.match(res.body.error_description, /DPoP header was sent more than once/);
  });
});
