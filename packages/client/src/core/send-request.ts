import { isTesseraError, TesseraError } from '@tessera/protocol';
import type { Scheduler } from './types.js';

/** How requests go out: the fetch to use and the longest a request (answer included) may take. */
export interface Transport {
  fetch: typeof fetch;
  scheduler: Scheduler;
  timeoutMs: number;
}

const networkErrors = new WeakSet<TesseraError>();

/** True when the request never got an answer (offline, DNS, reset, lost response). */
export function isNetworkError(error: unknown): boolean {
  return error instanceof TesseraError && networkErrors.has(error);
}

/**
 * Sends `request` and hands the answer to `process`, both inside the timeout: a server that
 * answers the headers and then stalls in the body times out as well. A request that never got an
 * answer becomes a retryable `temporarily_unavailable`, marked for {@link isNetworkError}.
 */
export async function sendRequest<T>(
  transport: Transport,
  request: Request,
  process: (response: Response) => Promise<T>,
): Promise<T> {
  const abort = new AbortController();
  const timer = transport.scheduler.setTimeout(() => abort.abort(), transport.timeoutMs);
  try {
    return await process(await transport.fetch(request, { signal: abort.signal }));
  } catch (cause) {
    if (abort.signal.aborted) {
      throw new TesseraError('temporarily_unavailable', 'The token request timed out', { cause });
    }
    if (isTesseraError(cause)) throw cause;
    const error = new TesseraError('temporarily_unavailable', 'The token endpoint could not be reached', {
      cause,
    });
    networkErrors.add(error);
    throw error;
  } finally {
    transport.scheduler.clearTimeout(timer);
  }
}
