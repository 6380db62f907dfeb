/** What `getAccessToken()` does with the session it has, decided by {@link decideToken}. */
export type TokenDecision =
  /** No session: answer `null`. */
  | 'signedOut'
  /** Hand out the cached token; nothing else to do. */
  | 'cached'
  /** Hand out the cached token and start a refresh in the background (offline: a probe). */
  | 'cachedAndRefresh'
  /** The token cannot be handed out: wait for a refresh. */
  | 'wait'
  /** Inside a backoff window after failures: answer the last error at once. */
  | 'failFast';

/** Everything the decision depends on, at one instant. Times on the client's clock, in ms. */
export interface TokenSituation {
  now: number;
  signedIn: boolean;
  /** A resource server answered 401 for the current access token: it is never handed out again. */
  rejected: boolean;
  /** The token endpoint is unreachable (state `offline`). */
  offline: boolean;
  /** When the proactive refresh is due (expiry minus the lead). */
  refreshAt: number;
  /** The last moment the token is handed out without waiting (expiry minus the skew). */
  usableUntil: number;
  /** No new attempt before this time (backoff). */
  retryAt: number;
  /** Offline: a caller starts a probe from this time on (no later than `retryAt`, sooner while there is demand). */
  probeAt: number;
  /** Why the last refresh failed (transiently), if none has succeeded since. */
  lastError: unknown;
  /** A refresh is in flight. */
  refreshing: boolean;
}

/**
 * The one rule for handing out a token, a pure function so it is tested as a table:
 * fresh → cached; offline → cached at once (and a probe once `probeAt` has come); inside the
 * lead window → cached, refreshing in the background once the backoff allows; past it → wait
 * (bounded by `offlineAfterMs`), unless a backoff window after failures says to fail fast.
 */
export function decideToken(s: TokenSituation): TokenDecision {
  if (!s.signedIn) return 'signedOut';
  if (s.now < s.refreshAt && !s.rejected) return 'cached';
  if (s.offline) return s.now >= s.probeAt && !s.refreshing ? 'cachedAndRefresh' : 'cached';
  if (s.now < s.usableUntil && !s.rejected) return s.now >= s.retryAt ? 'cachedAndRefresh' : 'cached';
  return s.now < s.retryAt && s.lastError !== undefined && !s.refreshing ? 'failFast' : 'wait';
}
