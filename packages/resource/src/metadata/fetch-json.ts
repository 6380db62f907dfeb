import { TesseraError } from '@tessera/protocol';
import { DEFAULTS } from '../core/defaults.js';

/** The `fetch` the middleware calls; injectable for tests and custom agents. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * Reads a JSON body with a byte cap, so a broken or hostile authorization server cannot make
 * the resource server buffer an unbounded answer.
 */
export async function readJsonCapped(response: Response, maxBytes: number): Promise<unknown> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > maxBytes) throw new Error(`answer larger than ${maxBytes} bytes`);
  if (response.body === null) throw new Error('empty answer');
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new Error(`answer larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  return JSON.parse(new TextDecoder().decode(bytes));
}

/** The authorization server could not be reached or answered nonsense: 503, retryable. */
export function upstreamUnavailable(what: string, cause?: unknown): TesseraError {
  return new TesseraError('temporarily_unavailable', `The authorization server's ${what} is unavailable`, {
    retryAfter: DEFAULTS.retryAfterFailureMs / 1000,
    cause,
  });
}
