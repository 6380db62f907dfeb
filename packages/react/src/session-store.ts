import type { ClientState, TesseraClient, TesseraError, TokenResponse } from '@tessera/client';
import { type UserClaims, userClaims } from './user-claims.js';

/**
 * What the app shows. `loading`: the stored session is being read. `signedIn`: a session, the
 * token endpoint reachable (a silent refresh does not change this). `offline`: still signed in,
 * the token endpoint unreachable: the cached token is used. `expired`: the server ended the
 * session (`error` says why). `signedOut`: no session.
 */
export type SessionStatus = 'loading' | 'signedIn' | 'offline' | 'expired' | 'signedOut';

/** What {@link useSession} answers. The object changes only when `status`, `user` or `error` does. */
export interface SessionView {
  status: SessionStatus;
  /** The user's claims from a JWT access token (without per-token claims); `null` otherwise. */
  user: UserClaims | null;
  /** Why the session ended, while `status` is `expired`. */
  error: TesseraError | null;
  signInWithPassword(credentials: { username: string; password: string }): Promise<void>;
  signInWithTokens(tokens: TokenResponse): Promise<void>;
  signOut(): Promise<void>;
}

/** The external store the hooks read (`useSyncExternalStore`), one per client. */
export interface SessionStore {
  readonly client: TesseraClient;
  subscribe(listener: () => void): () => void;
  session(): SessionView;
  accessToken(): string | null;
}

const statusOf: Record<ClientState, SessionStatus> = {
  active: 'signedIn',
  refreshing: 'signedIn',
  offline: 'offline',
  expired: 'expired',
  signedOut: 'signedOut',
};

/**
 * Follows `client` for React: its state (as a {@link SessionStatus}), the current access token
 * and the user's claims. It listens to the client only while a component does, and hands out
 * a new snapshot only when something in it changed, so a silent refresh re-renders the
 * components that read the token and nothing else.
 */
export function createSessionStore(client: TesseraClient): SessionStore {
  const listeners = new Set<() => void>();
  const actions = {
    signInWithPassword: (credentials: { username: string; password: string }) =>
      client.signInWithPassword(credentials),
    signInWithTokens: (tokens: TokenResponse) => client.signInWithTokens(tokens),
    signOut: () => client.signOut(),
  };
  let view: SessionView = { status: 'loading', user: null, error: null, ...actions };
  let token: string | null = null;
  let userKey = 'null';
  let ended: TesseraError | null = null;
  let version = 0;
  let stop: (() => void) | undefined;

  function apply(status: SessionStatus, nextToken: string | null): void {
    let changed = nextToken !== token;
    token = nextToken;
    const claims = nextToken === null ? null : userClaims(nextToken);
    const key = JSON.stringify(claims);
    const user = key === userKey ? view.user : claims;
    userKey = key;
    const error = status === 'expired' ? ended : null;
    if (status !== view.status || user !== view.user || error !== view.error) {
      view = { status, user, error, ...actions };
      changed = true;
    }
    if (changed) for (const listener of [...listeners]) listener();
  }

  /** Reads the client again; a later read wins over an earlier one still waiting for its token. */
  async function sync(): Promise<void> {
    const mine = ++version;
    await client.ready;
    let next: string | null = null;
    const state = client.state;
    if (state === 'active' || state === 'refreshing' || state === 'offline') {
      try {
        next = await client.getAccessToken();
      } catch {
        next = token; // a transient failure: the session and its token are kept
      }
    }
    if (mine === version) apply(statusOf[client.state], next);
  }

  function start(): () => void {
    const offs = [
      client.subscribe('stateChange', () => void sync()),
      client.subscribe('refreshed', () => void sync()),
      client.subscribe('sessionExpired', (error) => {
        ended = error;
        void sync();
      }),
    ];
    void sync();
    return () => {
      for (const off of offs) off();
    };
  }

  return {
    client,
    subscribe(listener) {
      listeners.add(listener);
      stop ??= start();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) {
          stop?.();
          stop = undefined;
        }
      };
    },
    session: () => view,
    accessToken: () => token,
  };
}
