import { TesseraError } from '@tessera/protocol';
import type { FastifyRequest } from 'fastify';

/** Headers that may appear once, by their lower-case name (the value is how messages spell them). */
const SINGLE_HEADERS = new Map([
  ['authorization', 'Authorization'],
  ['content-type', 'Content-Type'],
  ['host', 'Host'],
  ['dpop', 'DPoP'],
]);

/**
 * An `onRequest` hook that refuses, before any handler runs, a request that two readers could
 * read two ways: an HTTP/1.1 request without `Host` (RFC 9112 §3.2); a repeated `Authorization`,
 * `Content-Type`, `Host` or `DPoP` header (Node keeps the first, a proxy in front may have
 * checked another, so it is refused, as the middleware does); a repeated query parameter.
 */
export async function refuseAmbiguousRequest(request: FastifyRequest): Promise<void> {
  if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
    throw new TesseraError('invalid_request', 'The Host header is required');
  }
  const headers = new Set<string>();
  const raw = request.raw.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]?.toLowerCase();
    if (name === undefined || !SINGLE_HEADERS.has(name)) continue;
    if (headers.has(name)) {
      throw new TesseraError(
        'invalid_request',
        `The ${SINGLE_HEADERS.get(name)} header was sent more than once`,
      );
    }
    headers.add(name);
  }
  const q = request.url.indexOf('?');
  if (q !== -1) {
    const names = new Set<string>();
    for (const [name] of new URLSearchParams(request.url.slice(q + 1))) {
      if (names.has(name)) {
        throw new TesseraError('duplicate_parameter', 'A query parameter was sent more than once');
      }
      names.add(name);
    }
  }
}
