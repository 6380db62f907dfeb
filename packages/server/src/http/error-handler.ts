import { isTesseraError, TesseraError } from '@tessera/protocol';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { BasicAuthError } from '../domain/authenticate-client.js';
import { hasErrorCode } from '../errors.js';

/** Every error answer has the one shape of docs/errors.md, from the one table, with `Retry-After` when retryable. */
export function registerErrorHandling(app: FastifyInstance): void {
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
    sendError(
      reply,
      new TesseraError('not_found', `No route for ${request.method} ${request.url.split('?')[0]}`),
    );
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
 * Adapters report an unreachable store with the code `ERR_TESSERA_STORE_UNAVAILABLE`: 503,
 * never 500 or 200. Anything else that is not a `TesseraError` is a bug (500).
 */
function isStoreDown(err: Error): boolean {
  return hasErrorCode(err, 'ERR_TESSERA_STORE_UNAVAILABLE');
}

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
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new TesseraError('invalid_request', err.message);
  }
  const status = (err as FastifyError).statusCode;
  if (status === 429) return new TesseraError('rate_limited');
  if (status !== undefined && status >= 400 && status < 500)
    return new TesseraError('invalid_request', err.message);
  return new TesseraError('server_error');
}
