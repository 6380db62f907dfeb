import type { TesseraClient } from '../core/client.js';

/**
 * The one 401 rule of the `fetch` and axios integrations. A request sent with token `sent` that
 * got a 401 is retried once, with the token `client.refresh({ ifAccessToken: sent })` answers: a
 * refresh only if `sent` is still the current token (single flight, shared by every request that
 * got a 401 for it), the current token without a refresh if another path already replaced it.
 * Answers the token for the retry, or `undefined` when the request is not retried: not a 401, no
 * token was sent, it already was the retry (never a loop), or the refresh failed or gave `sent` again.
 */
export async function tokenForRetry(
  client: TesseraClient,
  status: number | undefined,
  sent: string | null | undefined,
  retried: boolean,
): Promise<string | undefined> {
  if (status !== 401 || sent == null || retried) return undefined;
  try {
    const next = await client.refresh({ ifAccessToken: sent });
    return next === sent ? undefined : next;
  } catch {
    return undefined;
  }
}
