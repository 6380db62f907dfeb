import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { clientErrorHandler } from '../../src/http/error-handler.js';
import { rawRequest } from '../helpers/raw-http.js';
import { assertRefusal } from '../helpers/refusal-shape.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/**
 * Framework errors skip the error shape: requests that Node's HTTP parser or Fastify's router
 * refuse before any route runs get the one documented shape too, echoing nothing. Sent as raw
 * bytes over TCP on loopback, since no HTTP client would send them.
 */

const MARK = 'qzMarker9x';
const FORM_HEAD =
  'POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n';

const cases: { name: string; request: string; status: number; code: string; closes: boolean }[] = [
  {
    name: 'a path whose percent-encoding does not decode (FST_ERR_BAD_URL)',
    request: `GET /oauth/%zz${MARK} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`,
    status: 400,
    code: 'invalid_request',
    closes: false,
  },
  {
    name: 'a truncated UTF-8 escape in the path',
    request: `GET /${MARK}/%E0%A4%A HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`,
    status: 400,
    code: 'invalid_request',
    closes: false,
  },
  {
    name: 'both Content-Length and Transfer-Encoding (request smuggling)',
    request: `${FORM_HEAD}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    status: 400,
    code: 'invalid_request',
    closes: true,
  },
  {
    name: 'two different Content-Lengths',
    request: `${FORM_HEAD}Content-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef`,
    status: 400,
    code: 'invalid_request',
    closes: true,
  },
  {
    name: 'a bare LF ending a header line',
    request: `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\nX-${MARK}: b\r\n\r\n`,
    status: 400,
    code: 'invalid_request',
    closes: true,
  },
  {
    name: 'a NUL in a header value',
    request: `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: ${MARK}\0c\r\n\r\n`,
    status: 400,
    code: 'invalid_request',
    closes: true,
  },
  {
    name: 'headers over the size limit (431)',
    request: `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: ${MARK}${'a'.repeat(20_000)}\r\n\r\n`,
    status: 431,
    code: 'headers_too_large',
    closes: true,
  },
  {
    name: 'a missing Host header',
    request: `GET /healthz?${MARK}=1 HTTP/1.1\r\n\r\n`,
    status: 400,
    code: 'invalid_request',
    closes: false,
  },
  {
    name: 'two Host headers',
    request: `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: ${MARK}.example\r\n\r\n`,
    status: 400,
    code: 'invalid_request',
    closes: false,
  },
  {
    name: 'a request line that is not HTTP',
    request: `${MARK} nonsense\r\n\r\n`,
    status: 400,
    code: 'invalid_request',
    closes: true,
  },
  {
    name: 'a chunk size that is not hex',
    request: `${FORM_HEAD}Transfer-Encoding: chunked\r\n\r\nzz\r\n${MARK}\r\n0\r\n\r\n`,
    status: 400,
    code: 'invalid_request',
    closes: true,
  },
  {
    name: 'a transfer coding other than chunked',
    request: `${FORM_HEAD}Transfer-Encoding: gzip\r\n\r\n${MARK}`,
    status: 400,
    code: 'invalid_request',
    closes: true,
  },
  {
    name: 'a space in a header name',
    request: `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX ${MARK}: b\r\n\r\n`,
    status: 400,
    code: 'invalid_request',
    closes: true,
  },
  {
    name: 'a known path with a method it does not take (405 with Allow)',
    request: `DELETE /oauth/token?${MARK}=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`,
    status: 405,
    code: 'method_not_allowed',
    closes: false,
  },
  {
    name: 'CONNECT (a proxy tunnel, which Node hands to no route): 405, not a dropped connection',
    request: `CONNECT /oauth/token?${MARK}=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`,
    status: 405,
    code: 'method_not_allowed',
    closes: true,
  },
];

describe('framework errors: malformed HTTP gets the one error shape (raw TCP on loopback)', () => {
  let s: TestServer;
  let port: number;
  before(async () => {
    s = await startTestServer({ listen: true });
    port = Number(new URL(s.url).port);
  });
  after(async () => {
    await s.close();
  });

  for (const c of cases) {
    it(c.name, async () => {
      const { answer, received, closed } = await rawRequest(port, c.request);
      assert.ok(answer, `an HTTP answer came back: ${JSON.stringify(received.slice(0, 200))}`);
      assert.equal(answer.status, c.status, received.slice(0, 300));
      assert.equal(JSON.parse(answer.text).error_code, c.code);
      assertRefusal(answer, [MARK]);
      if (c.closes) {
        // The framing can no longer be trusted: the connection ends with the answer.
        assert.equal(answer.headers.connection, 'close');
        assert.ok(closed, 'the server closed the connection');
      }
      if (c.status === 405 && !c.request.startsWith('CONNECT')) assert.equal(answer.headers.allow, 'POST');
    });
  }

  it('nothing of a refused raw request is logged (it may hold credentials)', async () => {
    const secret = 'Basic c2VjcmV0LXRoYXQtbXVzdC1ub3QtYmUtbG9nZ2Vk';
    const { answer } = await rawRequest(
      port,
      `${FORM_HEAD}Authorization: ${secret}\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab`,
    );
    assert.equal(answer?.status, 400);
    assert.ok(!s.logs.join('').includes('c2VjcmV0LXRoYXQtbXVzdC1ub3QtYmUtbG9nZ2Vk'));
  });

  it('a request that never finishes arriving is answered 408 request_timeout, retryable', async () => {
    // The timeout itself is Node's (30 s); here the handler is given the error it raises.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    assert.ok(address !== null && typeof address === 'object');
    server.on('connection', (socket: Socket) => {
      socket.once('data', () => {
        const err = Object.assign(new Error('request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' });
        clientErrorHandler.call(s.tessera.app, err, socket);
      });
    });
    try {
      const { answer, closed } = await rawRequest(address.port, 'POST /oauth/token HTTP/1.1\r\n');
      assert.ok(answer);
      assert.equal(answer.status, 408);
      assert.equal(JSON.parse(answer.text).error_code, 'request_timeout');
      assertRefusal(answer);
      assert.ok(closed);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
