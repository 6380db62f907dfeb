import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { isTesseraError, TesseraError } from '@tessera/protocol';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BasicAuthError } from '../domain/authenticate-client.js';
import { hasErrorCode } from '../errors.js';

/**
 * Every error answer has the one shape of docs/errors.md, from the one table, with `Retry-After`
 * when retryable, and says nothing the client chose: no path, no parameter value, no header.
 * This covers the routes (`setErrorHandler`), unknown paths and methods (`setNotFoundHandler`),
 * what Fastify refuses before routing (`frameworkErrors`, {@link frameworkErrorHandler}) and what
 * Node's HTTP parser refuses before Fastify sees a request ({@link clientErrorHandler}).
 */
export function registerErrorHandling(app: FastifyInstance): void {
  // Methods served per path, so a known path with another method is 405 with `Allow`, not 404.
  const methods = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const url = route.url.replace(/\/+$/, '') || '/';
    const set = methods.get(url) ?? new Set<string>();
    for (const m of [route.method].flat()) set.add(m);
    methods.set(url, set);
  });
  app.setErrorHandler((err: FastifyError | Error, request, reply) => {
    const tessera = toTesseraError(err);
    if (tessera.status >= 500 && !isStoreDown(err)) {
      request.log.error({ err }, 'request failed');
    } else if (tessera.status >= 500) {
      request.log.warn({ err: { message: err.message, name: err.name } }, 'store unavailable');
    }
    sendError(reply, tessera, err instanceof BasicAuthError);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]?.replace(/\/+$/, '') || '/';
    const allowed = methods.get(path);
    if (allowed !== undefined && !allowed.has(request.method)) {
      reply.header('allow', [...allowed].sort().join(', '));
      return sendError(
        reply,
        new TesseraError('method_not_allowed', 'This endpoint does not take that method'),
      );
    }
    sendError(reply, new TesseraError('not_found', 'No such endpoint'));
  });
}

export function sendError(reply: FastifyReply, err: TesseraError, basicChallenge = false): void {
  reply.header('cache-control', 'no-store');
  if (err.retryAfter !== undefined)
    reply.header('retry-after', String(Math.max(1, Math.ceil(err.retryAfter))));
  if (err.status === 401 && err.error === 'invalid_client' && basicChallenge) {
    reply.header('www-authenticate', 'Basic realm="tessera", charset="UTF-8"');
  }
  reply.code(err.status).type('application/json; charset=utf-8').send(err.toBody());
}

/**
 * Fastify's `frameworkErrors`: what the router refuses before any route runs (a path whose
 * percent-encoding does not decode, an over-long path parameter), in the one shape. Fastify's
 * own answer would repeat the path.
 */
export function frameworkErrorHandler(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  request.log.debug({ code: error.code }, 'request refused before routing');
  const tessera =
    error.code === 'FST_ERR_BAD_URL' || error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new TesseraError('invalid_request', 'The request path is malformed (percent-encoding or length)')
      : new TesseraError('server_error');
  sendError(reply, tessera);
}

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser refuses before there is a request —
 * oversized headers (431), both `Content-Length` and `Transfer-Encoding`, two `Content-Length`s,
 * a bare LF or a NUL in a header, a request that never finishes arriving (408). The answer is
 * written on the socket in the one shape, with `Connection: close` (the framing can no longer
 * be trusted), and the connection is closed. Nothing of the raw request is logged: it may hold
 * credentials.
 */
export function clientErrorHandler(
  this: FastifyInstance,
  err: Error & { code?: string },
  socket: Socket,
): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const tessera =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? new TesseraError('headers_too_large')
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new TesseraError('request_timeout')
        : new TesseraError(
            'invalid_request',
            'The request is not well-formed HTTP/1.1 (its framing or a header is invalid)',
          );
  this.log.debug({ code: err.code }, 'malformed request refused');
  refuseOnSocket(socket, tessera);
}

/**
 * Node's `connect` event: a `CONNECT` request (a proxy tunnel) never reaches Fastify, and with no
 * listener Node drops the connection unanswered. Tessera is no proxy: 405 in the one shape.
 */
export function refuseConnect(_request: unknown, socket: Duplex): void {
  refuseOnSocket(socket as Socket, new TesseraError('method_not_allowed', 'CONNECT is not served here'));
}

/** Writes `tessera` as a whole answer on a raw socket (`Connection: close`) and closes it. */
function refuseOnSocket(socket: Socket, tessera: TesseraError): void {
  // A response already under way on this socket (a pipelined request) must not be interleaved.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && inFlight?.headersSent !== true) {
    const body = JSON.stringify(tessera.toBody());
    const head = [
      `HTTP/1.1 ${tessera.status} ${STATUS_CODES[tessera.status] ?? 'Error'}`,
      'content-type: application/json; charset=utf-8',
      `content-length: ${Buffer.byteLength(body)}`,
      'cache-control: no-store',
      ...(tessera.retryAfter === undefined ? [] : [`retry-after: ${Math.ceil(tessera.retryAfter)}`]),
      'connection: close',
    ];
    socket.write(`${head.join('\r\n')}\r\n\r\n${body}`);
  }
  socket.destroy();
}

/**
 * Adapters report an unreachable store with the code `ERR_TESSERA_STORE_UNAVAILABLE`: 503,
 * never 500 or 200. Anything else that is not a `TesseraError` is a bug (500).
 */
function isStoreDown(err: Error): boolean {
  return hasErrorCode(err, 'ERR_TESSERA_STORE_UNAVAILABLE');
}

/** Fastify's own errors by code, each with a description of ours (theirs may repeat input). */
function toTesseraError(err: FastifyError | Error): TesseraError {
  if (isTesseraError(err)) return err;
  if (isStoreDown(err)) {
    return new TesseraError('temporarily_unavailable', 'The token store is unavailable; retry shortly', {
      retryAfter: 2,
    });
  }
  const code = (err as FastifyError).code;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new TesseraError('payload_too_large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return new TesseraError(
        'unsupported_media_type',
        'Send application/x-www-form-urlencoded (OAuth endpoints) or application/json (/api endpoints)',
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new TesseraError('invalid_request', 'The body is empty');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new TesseraError('invalid_request', 'The body does not match its Content-Length');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new TesseraError('invalid_request', 'The body is not valid JSON');
  }
  const status = (err as FastifyError).statusCode;
  if (status === 429) return new TesseraError('rate_limited');
  if (status === 413) return new TesseraError('payload_too_large');
  if (status === 415) return new TesseraError('unsupported_media_type');
  if (status !== undefined && status >= 400 && status < 500) return new TesseraError('invalid_request');
  return new TesseraError('server_error');
}
