import { ENDPOINTS, isTesseraError, TesseraError, type TokenResponse } from '@tessera/protocol';
import { inProcessCoordinator } from '../coordinator/in-process.js';
import { hasWebLocks, webLocksCoordinator } from '../coordinator/web-locks.js';
import { memoryStorage } from '../storage/memory.js';
import { backoffMs } from './backoff.js';
import { DEFAULTS } from './defaults.js';
import { parseSession, refreshLeadMs, toSession, usableUntil } from './session.js';
import { isNetworkError, type RequestContext, randomNonce, sendTokenRequest } from './token-request.js';
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
   * `cookie` (SPEC §3.5, browsers, same site as the server): the server keeps the refresh token in
   * an HttpOnly cookie the SDK never sees; refresh is `POST /api/auth/refresh` and sign-out
   * `POST /api/auth/logout`, with the browser's cookies and the `X-Tessera-CSRF` header.
   */
  refreshMode?: 'token' | 'cookie';
  /** Where the session lives; default {@link memoryStorage}. */
  storage?: TokenStorage;
  /** Key of the session in `storage` and name of its lock; default `tessera:<clientId>`. */
  storageKey?: string;
  /** Default: Web Locks + BroadcastChannel where available, else in-process. */
  coordinator?: Coordinator;
  clock?: Clock;
  scheduler?: Scheduler;
  fetch?: typeof fetch;
  /** Randomness for jitter, in [0, 1); default `Math.random`. */
  random?: () => number;
  /** Send a fresh `nonce` with each refresh attempt (SPEC §3.4); default true. Other servers ignore it (RFC 6749 §3.2). */
  nonce?: boolean;
  /** Transient-error attempts per refresh (the retry budget); default 4. */
  retryAttempts?: number;
  /** Abort a token request after this long; default 30 s. */
  requestTimeoutMs?: number;
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
   * A valid access token, refreshing first if it has expired; `null` when signed out.
   * Offline, it answers the cached token at once. Rejects only with a transient `TesseraError`
   * when the server keeps failing (the session is kept).
   */
  getAccessToken(): Promise<string | null>;
  /** Starts a session from a token answer obtained elsewhere (auth code flow, your own login). */
  signInWithTokens(tokens: TokenResponse): Promise<void>;
  /** Signs in through Tessera's `POST /api/auth/login`. Rejects with a `TesseraError` (e.g. `invalid_credentials`). */
  signInWithPassword(credentials: { username: string; password: string }): Promise<void>;
  /**
   * Refreshes now (single flight: joins a refresh in progress). With `ifAccessToken`, refreshes
   * only if that is still the current token: a 401 for an older token needs no new refresh.
   * Resolves with the current access token.
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

const defaultScheduler: Scheduler = {
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms);
    // A background refresh timer must not keep a Node process alive.
    (handle as { unref?: () => void }).unref?.();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

const notSignedIn = () => new TesseraError('session_expired', 'Not signed in');

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
  const clock = options.clock ?? { now: Date.now };
  const scheduler = options.scheduler ?? defaultScheduler;
  const random = options.random ?? Math.random;
  const storage = options.storage ?? memoryStorage();
  const key = options.storageKey ?? `tessera:${options.clientId}`;
  const coordinator = options.coordinator ?? (hasWebLocks() ? webLocksCoordinator() : inProcessCoordinator());
  const attempts = options.retryAttempts ?? DEFAULTS.retryAttempts;
  const ctx: RequestContext = {
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    clock,
    scheduler,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    timeoutMs: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
    cookie: options.refreshMode === 'cookie',
  };
  const authUrl = (path: string) => new URL(path, options.tokenEndpoint).href;

  let session: Session | null = null;
  let refreshAt = 0;
  let state: ClientState = 'signedOut';
  let loaded = false;
  let inflight: Promise<string> | null = null;
  /** An access token a resource server answered 401 for: never handed out again. */
  let rejected: string | undefined;
  let failures = 0;
  /** No new refresh attempt before this time (backoff after transient failures). */
  let retryAt = 0;
  let lastError: TesseraError | undefined;
  let timer: unknown;
  const listeners = new Map<keyof TesseraEvents, Set<(payload: unknown) => void>>();

  function emit<K extends keyof TesseraEvents>(event: K, payload: TesseraEvents[K]): void {
    for (const fn of listeners.get(event) ?? []) {
      try {
        fn(payload);
      } catch (error) {
        // A faulty listener must not break the refresh; surface it without swallowing it.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  function setState(next: ClientState): void {
    if (next === state) return;
    const wasOffline = state === 'offline';
    state = next;
    emit('stateChange', next);
    if (next === 'offline') emit('offline', undefined);
    else if (wasOffline) emit('online', undefined);
  }

  function schedule(at: number): void {
    scheduler.clearTimeout(timer);
    timer = scheduler.setTimeout(
      () => {
        timer = undefined;
        void refreshIfDue();
      },
      Math.max(0, at - clock.now()),
    );
  }

  function adopt(next: Session): void {
    session = next;
    rejected = undefined;
    refreshAt = next.expiresAt - refreshLeadMs(next, random());
    schedule(refreshAt);
  }

  function succeeded(next: Session): void {
    failures = 0;
    retryAt = 0;
    lastError = undefined;
    adopt(next);
    setState('active');
    emit('refreshed', { expiresAt: next.expiresAt });
  }

  /** The server ended the session (a code with `endsSession`): sign out, once. */
  async function end(error: TesseraError, tellOthers: boolean): Promise<void> {
    if (!session) return;
    session = null;
    scheduler.clearTimeout(timer);
    setState('expired');
    if (tellOthers) {
      port.post({ type: 'ended', code: error.code });
      await Promise.resolve(storage.remove(key)).catch(() => {});
    }
    if (error.code === 'token_reused') emit('reuseDetected', error);
    emit('sessionExpired', error);
  }

  const port = coordinator.join(key, (message: SessionMessage) => {
    if (message.type === 'session') {
      // Another tab or process refreshed: take its tokens, no request of our own.
      succeeded(message.session);
    } else if (message.type === 'ended') {
      // The code comes from another tab, maybe of another SDK version: read it as a wire code.
      void end(TesseraError.fromWire(message.code, undefined, { fallback: 'session_expired' }), false);
    } else {
      session = null;
      scheduler.clearTimeout(timer);
      setState('signedOut');
    }
  });

  const ready = (async () => {
    try {
      const stored = parseSession(await storage.get(key));
      if (stored && !session) {
        adopt(stored);
        setState('active');
      }
    } catch {
      // An unreadable store (wrong key, corrupt file) reads as signed out, never as a crash.
    }
    loaded = true;
  })();

  async function store(next: Session): Promise<void> {
    try {
      await storage.set(key, JSON.stringify(next));
    } catch {
      // The old refresh token is already rotated: the new one in memory is the only valid copy.
    }
  }

  /** One refresh under the cross-tab lock, with backoff inside the retry budget. */
  async function run(force: boolean): Promise<string> {
    await ready;
    if (!session) throw notSignedIn();
    if (state !== 'offline') setState('refreshing');
    try {
      return await coordinator.withLock(key, async () => {
        // Another tab may have refreshed while we waited for the lock; the newest copy wins.
        let stored: Session | null = null;
        try {
          stored = parseSession(await storage.get(key));
        } catch {}
        const local: Session | null = session;
        if (!local) throw notSignedIn();
        let current: Session = local;
        if (stored && stored.gen > local.gen) {
          adopt(stored);
          current = stored;
        }
        if (!force && current.accessToken !== rejected && clock.now() < refreshAt) {
          if (current !== local) succeeded(current);
          return current.accessToken;
        }
        const refreshToken = current.refreshToken;
        if (refreshToken === undefined && !ctx.cookie) {
          // Nothing to refresh with (e.g. a grant without refresh token): the session cannot continue.
          const error = new TesseraError('session_expired', 'No refresh token to continue the session');
          await end(error, true);
          throw error;
        }
        for (;;) {
          const wait = retryAt - clock.now();
          if (wait > 0) await new Promise((resolve) => scheduler.setTimeout(() => resolve(undefined), wait));
          // Signed out meanwhile, or another sign-in replaced the session.
          if (session !== current) {
            if (session) return session.accessToken;
            throw notSignedIn();
          }
          try {
            // A fresh nonce per attempt: a retry is a new request, the same refresh token.
            const nonce = options.nonce === false ? undefined : randomNonce();
            let res: TokenResponse;
            if (refreshToken === undefined) {
              // Cookie mode: the browser sends the refresh cookie; a retry after a lost answer re-sends the same one.
              res = await sendTokenRequest(ctx, authUrl(ENDPOINTS.refresh), nonce ? { nonce } : {});
            } else {
              const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken });
              if (ctx.clientSecret === undefined) body.set('client_id', options.clientId);
              if (nonce) body.set('nonce', nonce);
              res = await sendTokenRequest(ctx, options.tokenEndpoint, body);
            }
            const next = toSession(res, clock.now(), current.gen + 1, current);
            // Written before anyone uses it: a crash after this point still has the new token.
            await store(next);
            succeeded(next);
            port.post({ type: 'session', session: next });
            return next.accessToken;
          } catch (caught) {
            const error = isTesseraError(caught)
              ? caught
              : new TesseraError('server_error', undefined, { cause: caught });
            if (error.endsSession) {
              await end(error, true);
              throw error;
            }
            lastError = error;
            if (!error.retryable) throw error;
            failures++;
            retryAt = clock.now() + backoffMs(failures, random(), error.retryAfter);
            if (isNetworkError(error)) {
              // Offline: keep the session, answer the cached token, probe again later.
              setState('offline');
              schedule(retryAt);
              throw error;
            }
            // The budget counts consecutive failures across refreshes: once spent, one probe per backoff.
            if (failures >= attempts) {
              schedule(retryAt);
              throw error;
            }
          }
        }
      });
    } catch (error) {
      if (session && state === 'refreshing') setState('active');
      if (isTesseraError(error) && !error.endsSession) emit('refreshFailed', error);
      throw error;
    }
  }

  function start(force: boolean): Promise<string> {
    inflight ??= run(force).finally(() => {
      inflight = null;
    });
    return inflight;
  }

  /** Timer and wake-up path. Offline, a probe is a real request: only the network can say it is back. */
  async function refreshIfDue(): Promise<void> {
    if (!session) return;
    const offline = state === 'offline';
    if (offline || clock.now() >= refreshAt) await start(offline).catch(() => {});
    else schedule(refreshAt);
  }

  async function getAccessToken(): Promise<string | null> {
    if (!loaded) await ready;
    const s = session;
    if (!s) return null;
    const now = clock.now();
    if (now < refreshAt && s.accessToken !== rejected) return s.accessToken;
    if (state === 'offline') {
      // Throttled timers may not have probed yet: try in the background once the backoff allows.
      if (now >= retryAt) void start(true).catch(() => {});
      return s.accessToken;
    }
    if (now < usableUntil(s) && s.accessToken !== rejected) {
      // Still valid: hand it out and refresh in the background.
      if (now >= retryAt) void start(false).catch(() => {});
      return s.accessToken;
    }
    // Inside a backoff window, fail fast rather than make the caller wait a minute.
    if (now < retryAt && lastError && !inflight) throw lastError;
    try {
      return await start(false);
    } catch (error) {
      if (!session) return null;
      // `state` changed while we awaited; TypeScript's narrowing from above does not know that.
      if ((state as ClientState) === 'offline') return session.accessToken;
      throw error;
    }
  }

  function signIn(tokens: TokenResponse, previous: Session | null): Promise<void> {
    const next = toSession(tokens, clock.now(), (previous?.gen ?? 0) + 1);
    failures = 0;
    retryAt = 0;
    lastError = undefined;
    adopt(next);
    setState('active');
    port.post({ type: 'session', session: next });
    return store(next);
  }

  const onWake = () => client.resume();
  const onOffline = () => {
    if (session) setState('offline');
  };
  const onVisible = () => {
    if (document.visibilityState === 'visible') onWake();
  };
  const lifecycle = options.lifecycleEvents !== false && typeof addEventListener === 'function';
  if (lifecycle) {
    for (const event of ['online', 'pageshow', 'focus']) addEventListener(event, onWake);
    addEventListener('offline', onOffline);
    if (typeof document !== 'undefined') document.addEventListener('visibilitychange', onVisible);
  }

  const client: TesseraClient = {
    get state() {
      return state;
    },
    ready,
    getAccessToken,
    async signInWithTokens(tokens) {
      await ready;
      await signIn(tokens, session);
    },
    async signInWithPassword({ username, password }) {
      await ready;
      const url = options.loginEndpoint ?? authUrl(ENDPOINTS.login);
      const tokens = await sendTokenRequest(ctx, url, { username, password, client_id: options.clientId });
      await signIn(tokens, session);
    },
    refresh(opts) {
      const stale = opts?.ifAccessToken;
      if (stale !== undefined) {
        if (inflight) return inflight;
        if (session && session.accessToken !== stale) return Promise.resolve(session.accessToken);
        rejected = stale;
      }
      return start(stale === undefined);
    },
    async signOut() {
      await ready;
      const s = session;
      session = null;
      scheduler.clearTimeout(timer);
      setState('signedOut');
      port.post({ type: 'signedOut' });
      await Promise.resolve(storage.remove(key)).catch(() => {});
      if (s && ctx.cookie) {
        // The server ends the session of the cookie and clears it (best effort, as below).
        await sendTokenRequest(ctx, authUrl(ENDPOINTS.logout), {}).catch(() => {});
      } else if (s?.refreshToken && s.revocationEndpoint) {
        // RFC 7009, best effort: the user is signed out here whatever the server says.
        const body = new URLSearchParams({ token: s.refreshToken, token_type_hint: 'refresh_token' });
        if (ctx.clientSecret === undefined) body.set('client_id', options.clientId);
        await sendTokenRequest(ctx, s.revocationEndpoint, body).catch(() => {});
      }
    },
    resume() {
      if (!session) return;
      // The network or the page is back: any backoff wait is stale.
      if (state === 'offline') retryAt = 0;
      void refreshIfDue();
    },
    subscribe(event, fn) {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      const listener = fn as (payload: unknown) => void;
      set.add(listener);
      return () => {
        set.delete(listener);
      };
    },
    close() {
      scheduler.clearTimeout(timer);
      port.leave();
      if (lifecycle) {
        for (const event of ['online', 'pageshow', 'focus']) removeEventListener(event, onWake);
        removeEventListener('offline', onOffline);
        if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', onVisible);
      }
    },
  };
  return client;
}
