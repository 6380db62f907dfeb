import { ENDPOINTS, isTesseraError, TesseraError, type TokenResponse } from '@tessera/protocol';
import { soloCoordinator } from '../coordinator/solo.js';
import { hasWebLocks, webLocksCoordinator } from '../coordinator/web-locks.js';
import { memoryStorage } from '../storage/memory.js';
import { backoffMs } from './backoff.js';
import { decideToken } from './decide-token.js';
import { defaultScheduler } from './default-scheduler.js';
import { OFFLINE_AFTER_MS, REQUEST_TIMEOUT_MS, RETRY_ATTEMPTS } from './defaults.js';
import { createEvents } from './events.js';
import { listenToLifecycle } from './lifecycle.js';
import { processTokenResponse } from './process-token-response.js';
import { sendRequest, type Transport } from './send-request.js';
import { parseSession, shiftSession, toSession } from './session.js';
import { createSessionState } from './session-state.js';
import { steadyClock } from './steady-clock.js';
import {
  cookieRefreshRequest,
  loginRequest,
  logoutRequest,
  type RequestConfig,
  randomNonce,
  refreshRequest,
  revocationRequest,
} from './token-requests.js';
import type {
  ClientState,
  Clock,
  Coordinator,
  Scheduler,
  Session,
  SessionMessage,
  TesseraEvents,
  TokenStorage,
} from './types.js';
import { isUnreachable, unreachable } from './unreachable.js';

/** Options of {@link createTesseraClient}. Only `tokenEndpoint` and `clientId` are required. */
export interface TesseraClientOptions {
  /** The OAuth token endpoint (RFC 6749), e.g. `https://auth.example.com/oauth/token`. */
  tokenEndpoint: string;
  clientId: string;
  /** For confidential clients (Node backends): sent as `client_secret_basic`. */
  clientSecret?: string;
  /** Tessera's JSON login endpoint; defaults to `/api/auth/login` on the token endpoint's origin. */
  loginEndpoint?: string;
  /**
   * `token` (default): the SDK holds the refresh token and uses the token endpoint.
   * `cookie` (browsers, same site as the server): the server keeps the refresh token in
   * an HttpOnly cookie the SDK never sees; refresh is `POST /api/auth/refresh` and sign-out
   * `POST /api/auth/logout`, with the browser's cookies and the `X-Tessera-CSRF` header.
   */
  refreshMode?: 'token' | 'cookie';
  /** Where the session lives; default {@link memoryStorage}. */
  storage?: TokenStorage;
  /** Key of the session in `storage` and name of its lock; default `tessera:<clientId>`. */
  storageKey?: string;
  /**
   * Default: Web Locks + BroadcastChannel where available; elsewhere the client coordinates with
   * nobody (share an `inProcessCoordinator()` between clients of one session in one process).
   */
  coordinator?: Coordinator;
  /**
   * Default: `Date.now`, with `performance.now()` as the monotonic clock lifetimes are measured
   * on. An injected clock without `monotonic` is used as it is.
   */
  clock?: Clock;
  scheduler?: Scheduler;
  fetch?: typeof fetch;
  /** Randomness for jitter, in [0, 1); default `Math.random`. */
  random?: () => number;
  /** Send a fresh `nonce` with each refresh attempt (Tessera's replay check); default true. Other servers ignore it (RFC 6749 §3.2). */
  nonce?: boolean;
  /** Transient-error attempts per refresh (the retry budget); default 4. */
  retryAttempts?: number;
  /** Abort a token request (its answer included) after this long; default 10 s. */
  requestTimeoutMs?: number;
  /**
   * The longest a caller of `getAccessToken()` or `refresh()` waits for a refresh, whatever the
   * network does; default 3 s. Then `getAccessToken()` answers the cached token (state `offline`)
   * or the server's transient error, and the refresh goes on in the background. Offline, callers
   * start at most one probe per this interval.
   */
  offlineAfterMs?: number;
  /**
   * Listen to `online`, `offline`, `pageshow`, `focus` and `visibilitychange` on the page, so
   * timers that slept are caught up; default true where those events exist.
   */
  lifecycleEvents?: boolean;
}

/** The client. Create one per session with {@link createTesseraClient}. */
export interface TesseraClient {
  readonly state: ClientState;
  /** Resolves once the stored session has been read. */
  readonly ready: Promise<void>;
  /**
   * A valid access token, refreshing first if it has expired; `null` when signed out. Never
   * waits longer than `offlineAfterMs`: offline, it answers the cached token (at once once
   * `offline`). Rejects only with a transient `TesseraError` when the server answers with errors
   * (the session is kept).
   */
  getAccessToken(): Promise<string | null>;
  /** Starts a session from a token answer obtained elsewhere (auth code flow, your own login). */
  signInWithTokens(tokens: TokenResponse): Promise<void>;
  /** Signs in through Tessera's `POST /api/auth/login`. Rejects with a `TesseraError` (e.g. `invalid_credentials`). */
  signInWithPassword(credentials: { username: string; password: string }): Promise<void>;
  /**
   * Refreshes now (single flight: joins a refresh in progress). With `ifAccessToken`, refreshes
   * only if that is still the current token: a 401 for an older token needs no new refresh.
   * Resolves with the current access token; rejects with a transient `TesseraError` when no new
   * token came within `offlineAfterMs` (the refresh goes on).
   */
  refresh(options?: { ifAccessToken?: string }): Promise<string>;
  /** Ends the session here and in other tabs, and revokes the refresh token (best effort). */
  signOut(): Promise<void>;
  /** Re-checks expiry after sleep or background throttling (app resume, tests). */
  resume(): void;
  subscribe<K extends keyof TesseraEvents>(event: K, fn: (payload: TesseraEvents[K]) => void): () => void;
  /** Stops timers and listeners; the stored session is kept. */
  close(): void;
}

const notSignedIn = () => new TesseraError('session_expired', 'Not signed in');

/** Every platform the SDK runs on (browsers, workers, Node, React Native) has `performance.now()`. */
const defaultClock: Clock = { now: Date.now, monotonic: () => performance.now() };

/**
 * Creates a client that keeps one session signed in: proactive refresh, single flight across
 * callers and tabs, backoff on transient errors, sign-out only on errors the table marks `endsSession`.
 *
 * @example
 * const client = createTesseraClient({ tokenEndpoint: 'https://auth.example.com/oauth/token', clientId: 'web' });
 * await client.signInWithPassword({ username, password });
 * const token = await client.getAccessToken();
 */
export function createTesseraClient(options: TesseraClientOptions): TesseraClient {
  const wall = options.clock ?? defaultClock;
  const clock = steadyClock(wall);
  /** How far the client's time line is from the wall clock that storage and other tabs share. */
  const offset = () => clock.now() - wall.now();
  const scheduler = options.scheduler ?? defaultScheduler;
  const random = options.random ?? Math.random;
  const storage = options.storage ?? memoryStorage();
  const key = options.storageKey ?? `tessera:${options.clientId}`;
  const coordinator =
    options.coordinator ?? (hasWebLocks() ? webLocksCoordinator({ scheduler }) : soloCoordinator);
  const attempts = options.retryAttempts ?? RETRY_ATTEMPTS;
  const offlineAfter = options.offlineAfterMs ?? OFFLINE_AFTER_MS;
  const config: RequestConfig = {
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    cookie: options.refreshMode === 'cookie',
  };
  const transport: Transport = {
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    scheduler,
    timeoutMs: options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
  };
  const authUrl = (path: string) => new URL(path, options.tokenEndpoint).href;
  const tokens = (request: Request) =>
    sendRequest(transport, request, (response) => processTokenResponse(response, wall.now()));
  /** Best effort: the answer does not matter, and neither does a failure. */
  const tell = (request: Request) => tokens(request).catch(() => {});

  const events = createEvents();
  const s = createSessionState({ clock, scheduler, random, events, onDue: () => void refreshIfDue() });
  let inflight: Promise<string> | null = null;
  /** Set once the stored session has been read: the cached path then needs no await. */
  let loaded = false;
  const storageFailed = (operation: 'read' | 'write' | 'remove') => (error: unknown) =>
    events.emit('storageError', { operation, error });

  const write = (name: string, value: string) =>
    Promise.resolve()
      .then(() => storage.set(name, value))
      .catch(storageFailed('write'));

  /**
   * The stored session. A storage that fails reads as none and says so (`storageError`), never
   * as a crash; an adapter that cannot read its own data has moved it aside, so writes go on.
   */
  async function read(): Promise<Session | null> {
    let raw: string | null = null;
    try {
      raw = await storage.get(key);
      const stored = parseSession(raw);
      return stored && shiftSession(stored, offset());
    } catch (error) {
      storageFailed('read')(error);
      // A value that is not a session (cut, edited) is kept beside it, and the key starts clean.
      if (raw) await write(`${key}:unreadable`, raw).then(forget);
      return null;
    }
  }

  // A failed write leaves the new session in memory only (the old refresh token is already rotated).
  const store = (next: Session) => write(key, JSON.stringify(shiftSession(next, -offset())));

  const forget = () =>
    Promise.resolve()
      .then(() => storage.remove(key))
      .catch(storageFailed('remove'));

  const post = (next: Session) => port.post({ type: 'session', session: shiftSession(next, -offset()) });

  /** The server ended the session (a code with `endsSession`): sign out, once. */
  async function end(error: TesseraError, tellOthers: boolean): Promise<void> {
    if (!s.session) return;
    s.clear('expired');
    if (tellOthers) {
      port.post({ type: 'ended', code: error.code, reason: error.sessionEndReason });
      await forget();
    }
    if (error.code === 'token_reused') events.emit('reuseDetected', error);
    events.emit('sessionExpired', error);
  }

  const port = coordinator.join(key, (message: SessionMessage) => {
    // Another tab or process refreshed: take its tokens, no request of our own.
    if (message.type === 'session') s.succeeded(shiftSession(message.session, offset()));
    // The code comes from another tab, maybe of another SDK version: read it as a wire code.
    else if (message.type === 'ended')
      void end(
        TesseraError.fromWire(message.code, undefined, {
          fallback: 'session_expired',
          sessionEndReason: message.reason,
        }),
        false,
      );
    else s.clear('signedOut');
  });

  const ready = (async () => {
    const stored = await read();
    if (stored && !s.session) {
      s.adopt(stored);
      s.set('active');
    }
    loaded = true;
  })();

  /** The refresh itself, under the cross-tab lock: attempts with backoff inside the retry budget. */
  async function refreshUnderLock(force: boolean): Promise<string> {
    // Another tab may have refreshed while we waited for the lock; the newest copy wins.
    const stored = await read();
    const local = s.session;
    if (!local) throw notSignedIn();
    let current: Session = local;
    if (stored && stored.gen > local.gen) {
      s.adopt(stored);
      current = stored;
    }
    if (!force && current.accessToken !== s.rejected && clock.now() < s.refreshAt) {
      if (current !== local) s.succeeded(current);
      return current.accessToken;
    }
    const refreshToken = current.refreshToken;
    if (refreshToken === undefined && !config.cookie) {
      // Nothing to refresh with (e.g. a grant without refresh token): the session cannot continue.
      const error = new TesseraError('session_expired', 'No refresh token');
      await end(error, true);
      throw error;
    }
    for (;;) {
      const wait = s.retryAt - clock.now();
      if (wait > 0) await new Promise((resolve) => scheduler.setTimeout(() => resolve(undefined), wait));
      // Signed out meanwhile, or another sign-in replaced the session.
      if (s.session !== current) {
        if (s.session) return s.session.accessToken;
        throw notSignedIn();
      }
      try {
        // A fresh nonce per attempt: a retry is a new request, the same refresh token (a lost or
        // cut-off answer is retried with it; in cookie mode the browser re-sends the same cookie).
        const nonce = options.nonce === false ? undefined : randomNonce();
        const request =
          refreshToken === undefined
            ? cookieRefreshRequest(config, authUrl(ENDPOINTS.refresh), nonce)
            : refreshRequest(config, options.tokenEndpoint, refreshToken, nonce);
        const next = toSession(await tokens(request), clock.now(), current.gen + 1, current);
        // Written before anyone uses it: a crash after this point still has the new token.
        await store(next);
        s.succeeded(next);
        post(next);
        return next.accessToken;
      } catch (caught) {
        const error = isTesseraError(caught)
          ? caught
          : new TesseraError('server_error', undefined, { cause: caught });
        if (error.endsSession) {
          await end(error, true);
          throw error;
        }
        s.lastError = error;
        if (!error.retryable) throw error;
        s.failures++;
        const now = clock.now();
        s.retryAt = now + backoffMs(s.failures, random(), error.retryAfter);
        if (isUnreachable(error)) {
          // Offline: keep the session, answer the cached token, probe with backoff (and sooner
          // while callers ask: one probe per offlineAfterMs).
          s.probeAt = Math.min(s.retryAt, now + offlineAfter);
          s.set('offline');
          s.schedule(s.retryAt);
          throw error;
        }
        // The server answered (with an error): it is reachable.
        if (s.state === 'offline') s.set('refreshing');
        // The budget counts consecutive failures across refreshes: once spent, one probe per backoff.
        if (s.failures >= attempts) {
          s.schedule(s.retryAt);
          throw error;
        }
      }
    }
  }

  /** One refresh (single flight within the client), with the events of its outcome. */
  async function run(force: boolean): Promise<string> {
    await ready;
    if (!s.session) throw notSignedIn();
    if (s.state !== 'offline') s.set('refreshing');
    try {
      return await coordinator.withLock(key, () => refreshUnderLock(force));
    } catch (error) {
      if (s.session && s.state === 'refreshing') s.set('active');
      if (isTesseraError(error) && !error.endsSession) events.emit('refreshFailed', error);
      throw error;
    }
  }

  function start(force: boolean): Promise<string> {
    inflight ??= run(force).finally(() => {
      inflight = null;
    });
    return inflight;
  }

  /**
   * Waits for a refresh at most `offlineAfterMs`. Late, it goes on in the background and the
   * caller is told now: the server's transient error if it answered with one, otherwise the
   * client turns `offline` and `undefined` stands for the cached token.
   */
  async function bounded(refresh: Promise<string>): Promise<string | undefined> {
    let timer: unknown;
    const late = new Promise<undefined>((resolve) => {
      timer = scheduler.setTimeout(() => resolve(undefined), offlineAfter);
    });
    try {
      const token = await Promise.race([refresh, late]);
      if (token !== undefined || !s.session) return token;
      if (s.lastError && !isUnreachable(s.lastError) && s.state !== 'offline') throw s.lastError;
      s.set('offline');
      return undefined;
    } finally {
      scheduler.clearTimeout(timer);
    }
  }

  /** Timer and wake-up path. Offline, a probe is a real request: only the network can say it is back. */
  async function refreshIfDue(): Promise<void> {
    if (!s.session) return;
    const offline = s.state === 'offline';
    if (offline || clock.now() >= s.refreshAt) await start(offline).catch(() => {});
    else s.schedule(s.refreshAt);
  }

  async function getAccessToken(): Promise<string | null> {
    if (!loaded) await ready;
    const session = s.session;
    const offline = s.state === 'offline';
    const decision = decideToken(s, clock.now(), inflight !== null);
    if (!session) return null;
    if (decision === 'cachedAndRefresh') {
      // Offline, a probe now rather than after the backoff: there is demand (and throttled
      // timers may not have run the scheduled probe).
      if (offline) s.retryAt = 0;
      void start(offline).catch(() => {});
    }
    if (decision.startsWith('cached')) return session.accessToken;
    if (decision === 'failFast') throw s.lastError;
    try {
      return (await bounded(start(false))) ?? s.session?.accessToken ?? null;
    } catch (error) {
      if (!s.session) return null;
      if (s.state === 'offline') return s.session.accessToken;
      throw error;
    }
  }

  function signIn(tokens: TokenResponse): Promise<void> {
    const next = toSession(tokens, clock.now(), (s.session?.gen ?? 0) + 1);
    s.succeeded(next);
    post(next);
    return store(next);
  }

  const unlisten = options.lifecycleEvents === false ? () => {} : listenToLifecycle(() => client.resume());

  const client: TesseraClient = {
    get state() {
      return s.state;
    },
    ready,
    getAccessToken,
    async signInWithTokens(tokens) {
      await ready;
      await signIn(tokens);
    },
    async signInWithPassword({ username, password }) {
      await ready;
      const url = options.loginEndpoint ?? authUrl(ENDPOINTS.login);
      await signIn(await tokens(loginRequest(config, url, username, password)));
    },
    async refresh(opts) {
      const stale = opts?.ifAccessToken;
      // A 401 for an older token: retry with the current one; for the current one: refresh it.
      if (stale !== undefined && !inflight) {
        if (s.session && s.session.accessToken !== stale) return s.session.accessToken;
        s.rejected = stale;
      }
      const token = await bounded(start(stale === undefined));
      if (token === undefined) throw unreachable('No new token within offlineAfterMs');
      return token;
    },
    async signOut() {
      await ready;
      const ended = s.session;
      s.clear('signedOut');
      port.post({ type: 'signedOut' });
      await forget();
      if (ended && config.cookie) {
        // The server ends the session of the cookie and clears it (best effort, as below).
        await tell(logoutRequest(config, authUrl(ENDPOINTS.logout)));
      } else if (ended?.refreshToken && ended.revocationEndpoint) {
        // RFC 7009, best effort: the user is signed out here whatever the server says.
        await tell(revocationRequest(config, ended.revocationEndpoint, ended.refreshToken));
      }
    },
    resume() {
      if (!s.session) return;
      // The browser knows the network is gone: offline at once, the cached token, no request.
      if (globalThis.navigator?.onLine === false) return s.set('offline');
      // The network or the page is back: any backoff wait is stale.
      if (s.state === 'offline') s.retryAt = 0;
      void refreshIfDue();
    },
    subscribe: events.subscribe,
    close() {
      s.stop();
      port.leave();
      unlisten();
    },
  };
  return client;
}
