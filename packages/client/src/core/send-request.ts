import { isTesseraError } from '@tessera/protocol';
import type { Scheduler } from './types.js';
import { unreachable } from './unreachable.js';

/** How requests go out: the fetch to use and the longest a request (answer included) may take. */
export interface Transport {
  fetch: typeof fetch;
  scheduler: Scheduler;
  timeoutMs: number;
}

/**
 * Sends `request` and hands the answer to `process`, both inside the timeout: a server that
 * answers the headers and then stalls in the body times out as well. No answer (refused, reset,
 * timed out) is an {@link unreachable} error.
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
    if (abort.signal.aborted) throw unreachable('Token request timed out', cause);
    if (isTesseraError(cause)) throw cause;
    throw unreachable('Token endpoint unreachable', cause);
  } finally {
    transport.scheduler.clearTimeout(timer);
  }
}
