import { usableUntil } from './session.js';
import type { ClientState, Session } from './types.js';

/** What `getAccessToken()` does with the session it has, decided by {@link decideToken}. */
export type TokenDecision =
  /** No session: answer `null`. */
  | 'signedOut'
  /** Hand out the cached token; nothing else to do. */
  | 'cached'
  /** Hand out the cached token and start a refresh in the background (offline: a probe). */
  | 'cachedAndRefresh'
  /** The token cannot be handed out: wait for a refresh (bounded by `offlineAfterMs`). */
  | 'wait'
  /** Inside a backoff window after failures: answer the last error at once. */
  | 'failFast';

/**
 * What the decision reads of the client's session state (these are its fields, under the same
 * names, so the client passes the state itself). Times on the client's clock, in ms.
 */
export interface TokenSituation {
  session: Pick<Session, 'accessToken' | 'receivedAt' | 'expiresAt'> | null;
  state: ClientState;
  /** An access token a resource server answered 401 for: never handed out again. */
  rejected: string | undefined;
  /** When the proactive refresh is due (expiry minus the lead). */
  refreshAt: number;
  /** No new attempt before this time (backoff). */
  retryAt: number;
  /** Offline: a caller starts a probe from this time on (no later than `retryAt`, sooner while there is demand). */
  probeAt: number;
  /** Why the last refresh failed (transiently), if none has succeeded since. */
  lastError: unknown;
}

/**
 * The one rule for handing out a token, a pure function of the session state, the time and
 * whether a refresh is in flight, so it is tested as a table:
 * fresh → cached; offline → cached at once (and a probe once `probeAt` has come); until the
 * token's usable time (expiry minus a small skew) → cached, refreshing in the background once
 * the backoff allows; past it, or rejected by the API → wait, unless a backoff window after
 * failures says to fail fast.
 */
export function decideToken(s: TokenSituation, now: number, refreshing: boolean): TokenDecision {
  const session = s.session;
  if (!session) return 'signedOut';
  const usable = session.accessToken !== s.rejected;
  if (now < s.refreshAt && usable) return 'cached';
  if (s.state === 'offline') return now >= s.probeAt && !refreshing ? 'cachedAndRefresh' : 'cached';
  if (now < usableUntil(session) && usable) return now >= s.retryAt ? 'cachedAndRefresh' : 'cached';
  return now < s.retryAt && s.lastError !== undefined && !refreshing ? 'failFast' : 'wait';
}
