import type { TesseraError } from '@tessera/protocol';
import type { Events } from './events.js';
import { refreshLeadMs } from './session.js';
import type { ClientState, Clock, Scheduler, Session } from './types.js';

/**
 * The session a client holds and what it knows about its refresh. Every change of `state` goes
 * through {@link SessionState.set}, so the `stateChange`, `offline` and `online` events cannot
 * be forgotten; one timer serves the proactive refresh and the backoff probe.
 */
export interface SessionState {
  session: Session | null;
  readonly state: ClientState;
  /** When the proactive refresh is due. */
  refreshAt: number;
  /** An access token a resource server answered 401 for: never handed out again. */
  rejected: string | undefined;
  /** Consecutive transient failures, across refreshes (the retry budget counts them). */
  failures: number;
  /** No new refresh attempt before this time (backoff after transient failures). */
  retryAt: number;
  /** Offline: a caller may start a probe from this time on: `retryAt`, or sooner while there is demand. */
  probeAt: number;
  lastError: TesseraError | undefined;
  set(next: ClientState): void;
  /** Runs `onDue` at `at` (replacing the previous timer). */
  schedule(at: number): void;
  /** Takes `next` as the current session and schedules its proactive refresh. */
  adopt(next: Session): void;
  /** Takes `next` after a successful refresh or hand-over: failures forgotten, `refreshed` emitted. */
  succeeded(next: Session): void;
  /** Drops the session (signed out here, or ended by the server). */
  clear(next: 'signedOut' | 'expired'): void;
  /** Stops the timer. */
  stop(): void;
}

/** Creates the session state of one client; `onDue` runs when the scheduled refresh or probe is due. */
export function createSessionState(deps: {
  clock: Clock;
  scheduler: Scheduler;
  random: () => number;
  events: Events;
  onDue: () => void;
}): SessionState {
  const { clock, scheduler, events } = deps;
  let timer: unknown;
  let state: ClientState = 'signedOut';
  const s: SessionState = {
    session: null,
    get state() {
      return state;
    },
    refreshAt: 0,
    rejected: undefined,
    failures: 0,
    retryAt: 0,
    probeAt: 0,
    lastError: undefined,
    set(next) {
      if (next === state) return;
      const wasOffline = state === 'offline';
      state = next;
      events.emit('stateChange', next);
      if (next === 'offline') events.emit('offline', undefined);
      else if (wasOffline) events.emit('online', undefined);
    },
    schedule(at) {
      scheduler.clearTimeout(timer);
      timer = scheduler.setTimeout(deps.onDue, Math.max(0, at - clock.now()));
    },
    adopt(next) {
      s.session = next;
      s.rejected = undefined;
      s.refreshAt = next.expiresAt - refreshLeadMs(next, deps.random());
      s.schedule(s.refreshAt);
    },
    succeeded(next) {
      s.failures = 0;
      s.retryAt = 0;
      s.lastError = undefined;
      s.adopt(next);
      s.set('active');
      events.emit('refreshed', { expiresAt: next.expiresAt });
    },
    clear(next) {
      s.session = null;
      s.stop();
      s.set(next);
    },
    stop: () => scheduler.clearTimeout(timer),
  };
  return s;
}
