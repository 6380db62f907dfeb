/**
 * The demo page: the Tessera SDK in cookie mode (the refresh token lives in an HttpOnly cookie
 * this script never sees), a protected API polled every few seconds, and what happens to the
 * session shown as it happens. Plain DOM, no framework.
 */
import { type ClientState, createTesseraClient, type TesseraError } from '@tessera/client';
import { createFetch } from '@tessera/client/fetch';
import { webStorage } from '@tessera/client/storage';
import { ENDPOINTS } from '@tessera/protocol';

const query = new URLSearchParams(location.search);
/** How often the protected API is called (`?poll=1000` in tests). */
const POLL_MS = Math.min(60_000, Math.max(250, Number(query.get('poll')) || 3_000));

// "Simulate offline": every request of the page fails the way a dead network fails.
let simulatedOffline = false;
const network: typeof fetch = (input, init) =>
  simulatedOffline
    ? Promise.reject(new TypeError('Failed to fetch (simulated offline)'))
    : fetch(input, init);

const auth = createTesseraClient({
  tokenEndpoint: new URL(ENDPOINTS.token, location.origin).href,
  clientId: 'demo-web',
  refreshMode: 'cookie',
  // Shared by the tabs, so one refresh serves them all. It holds the access token only.
  storage: webStorage(localStorage),
  fetch: network,
});
const api = createFetch(auth, { fetch: network, offlineCache: true });

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const root = $('app');

let pollTimer: ReturnType<typeof setInterval> | undefined;
let apiOffline = false;
let counts = { ok: 0, failed: 0, stale: 0, refreshes: 0 };
let token = { expiresAt: 0, lifetime: 0 };
/** Set when this tab starts a refresh, so the log can tell its own refreshes from hand-overs. */
let ownRefresh = false;

// ---- screens ---------------------------------------------------------------------------------

function showLogin(notice?: string): void {
  stopPolling();
  root.dataset.screen = 'login';
  $('main').hidden = true;
  $('login').hidden = false;
  const box = $('notice');
  box.hidden = notice === undefined;
  box.textContent = notice ?? '';
  $('login-error').hidden = true;
  $<HTMLInputElement>('login-form').querySelector('input')?.focus();
  render();
}

function showMain(): void {
  root.dataset.screen = 'main';
  $('login').hidden = true;
  $('main').hidden = false;
  $('notice').hidden = true;
  counts = { ok: 0, failed: 0, stale: 0, refreshes: 0 };
  $('refresh-log').replaceChildren();
  $('api-last').textContent = '–';
  $('poll').textContent = String(POLL_MS / 1000);
  startPolling();
  render();
}

/** What ended the session, in plain words (never a raw error), from the end reason the server sent. */
function endedMessage(error: TesseraError): string {
  switch (error.sessionEndReason) {
    case 'reuse_detected':
      return 'For your safety you were signed out: this session’s refresh token was used twice, which can mean it was stolen. Please sign in again.';
    case 'admin_revoked':
      return 'An administrator ended your session. Please sign in again.';
    case 'logout':
      return 'You signed out (in another tab or on another device). Please sign in again.';
    case 'idle_expired':
      return 'You were signed out after a period of inactivity. Please sign in again.';
    case 'absolute_expired':
      return 'Your session reached its maximum lifetime. Please sign in again.';
    case 'password_changed':
      return 'Your password was changed, so every session was signed out. Please sign in again.';
    case 'user_disabled':
      return 'Your account was disabled. Please contact support.';
    case 'client_deleted':
    case 'client_revoked':
    case 'key_revoked':
      return 'This app’s access was withdrawn, so your session ended. Please sign in again.';
  }
  switch (error.code) {
    case 'token_reused':
      return 'For your safety you were signed out: this session’s refresh token was used twice, which can mean it was stolen. Please sign in again.';
    case 'token_revoked':
    case 'invalid_grant':
      return 'Your session was ended (signed out on another device, or by an administrator). Please sign in again.';
    case 'token_expired':
    case 'session_expired':
      return 'Your session expired. Please sign in again.';
    default:
      return 'Your session has ended. Please sign in again.';
  }
}

// ---- the protected API -------------------------------------------------------------------------

function startPolling(): void {
  stopPolling();
  void poll();
  pollTimer = setInterval(() => void poll(), POLL_MS);
}

function stopPolling(): void {
  if (pollTimer !== undefined) clearInterval(pollTimer);
  pollTimer = undefined;
}

interface Me {
  user: string;
  roles: string[];
  scope: string[];
  session: string;
  issuedAt: number;
  expiresAt: number;
  serverTime: number;
}

async function poll(): Promise<void> {
  if (auth.state === 'signedOut' || auth.state === 'expired') return;
  try {
    const res = await api('/api/demo/me');
    if (res.headers.get('x-tessera-stale') === '1') {
      counts.stale++;
      apiOffline = true;
      showAnswer((await res.json()) as Me, 'offline: the last answer, from the SDK’s read-only cache');
    } else if (res.ok) {
      counts.ok++;
      apiOffline = false;
      const me = (await res.json()) as Me;
      $('user').textContent = me.user;
      // Server times, converted to this device's clock through the server's `now`: skew-free.
      const expiresAt = Date.now() + (me.expiresAt * 1000 - me.serverTime);
      if (expiresAt >= token.expiresAt) {
        // The lifetime from `expires_in` (refresh events) is exact; `exp - iat` may be a second off.
        token = { expiresAt, lifetime: token.lifetime || (me.expiresAt - me.issuedAt) * 1000 };
      }
      showAnswer(me, `HTTP ${res.status}`);
    } else {
      counts.failed++;
      $('api-last').textContent = `HTTP ${res.status}`;
    }
  } catch {
    // The network is down (or the SDK is backing off): the session is kept.
    counts.failed++;
    apiOffline = true;
  }
  render();
}

function showAnswer(me: Me, label: string): void {
  const shown = { user: me.user, roles: me.roles, scope: me.scope, session: `${me.session.slice(0, 8)}…` };
  $('api-last').textContent = `${label}\n${JSON.stringify(shown, null, 2)}`;
}

// ---- rendering -------------------------------------------------------------------------------

function shownState(): 'online' | 'offline' | 'expired' {
  if (auth.state === 'expired') return 'expired';
  if (auth.state === 'offline' || apiOffline || simulatedOffline) return 'offline';
  return 'online';
}

function render(): void {
  const state = shownState();
  root.dataset.state = state;
  root.dataset.apiOk = String(counts.ok);
  root.dataset.apiFailed = String(counts.failed);
  root.dataset.apiStale = String(counts.stale);
  root.dataset.refreshes = String(counts.refreshes);
  const badge = $('state');
  badge.dataset.state = state;
  badge.textContent = state === 'offline' ? 'offline — still signed in' : state;
  $('api-ok').textContent = String(counts.ok);
  $('api-failed').textContent = String(counts.failed);
  $('api-stale').textContent = String(counts.stale);
  $('refresh-count').textContent = String(counts.refreshes);
  const toggle = $('offline-toggle');
  toggle.setAttribute('aria-pressed', String(simulatedOffline));
  toggle.textContent = simulatedOffline ? 'Back online' : 'Simulate offline';
  renderBar();
}

function renderBar(): void {
  if (token.lifetime <= 0) return;
  const left = Math.max(0, token.expiresAt - Date.now());
  const share = Math.min(1, left / token.lifetime);
  const fill = $('bar-fill');
  fill.style.width = `${(share * 100).toFixed(1)}%`;
  fill.classList.toggle('low', share < 0.25);
  $('bar-fill').parentElement?.setAttribute('aria-valuenow', String(Math.round(share * 100)));
  const lifetime = `${Math.round(token.lifetime / 1000)} s`;
  $('remaining').textContent = left > 0 ? `${(left / 1000).toFixed(1)} s` : 'expired';
  $('bar-note').textContent =
    left > 0
      ? `left of ${lifetime}. The SDK refreshes it silently before it expires; the refresh token never reaches this page (HttpOnly cookie).`
      : `— the ${lifetime} token ran out while the server was unreachable. You stay signed in; a new one is fetched as soon as the network is back.`;
}

function logRefresh(expiresAt: number, how: string): void {
  counts.refreshes++;
  const lifetime = expiresAt - Date.now();
  if (expiresAt > token.expiresAt)
    token = { expiresAt, lifetime: Math.max(Math.round(lifetime / 1000) * 1000, 1) };
  const item = document.createElement('li');
  const time = new Date().toLocaleTimeString([], { hour12: false });
  item.append(`${time} — new access token, valid ${Math.round(lifetime / 1000)} s `);
  const note = document.createElement('small');
  note.textContent = `(${how})`;
  item.append(note);
  const log = $('refresh-log');
  log.prepend(item);
  while (log.children.length > 50) log.lastElementChild?.remove();
  render();
}

// ---- SDK events --------------------------------------------------------------------------------

let lastState: ClientState = auth.state;
let cameFrom: ClientState | undefined;
auth.subscribe('stateChange', (state) => {
  if (state === 'refreshing') ownRefresh = true;
  if (state === 'active') cameFrom = lastState;
  lastState = state;
  if (state === 'signedOut' && root.dataset.screen === 'main') showLogin('You signed out in another tab.');
  render();
});
auth.subscribe('refreshed', ({ expiresAt }) => {
  const how = ownRefresh
    ? 'silent refresh'
    : cameFrom === 'offline'
      ? 'back online'
      : 'handed over by another tab';
  ownRefresh = false;
  cameFrom = undefined;
  logRefresh(expiresAt, how);
});
auth.subscribe('sessionExpired', (error) => showLogin(endedMessage(error)));

// ---- controls ----------------------------------------------------------------------------------

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target as HTMLFormElement);
  const button = $<HTMLButtonElement>('sign-in');
  button.disabled = true;
  try {
    await auth.signInWithPassword({
      username: String(form.get('username') ?? ''),
      password: String(form.get('password') ?? ''),
    });
    (event.target as HTMLFormElement).reset();
    token = { expiresAt: 0, lifetime: 0 };
    showMain();
  } catch (error) {
    const e = error as TesseraError;
    const box = $('login-error');
    box.hidden = false;
    box.textContent =
      e.code === 'invalid_credentials'
        ? 'Wrong username or password.'
        : e.retryable
          ? 'The server cannot be reached right now; try again in a moment.'
          : e.message;
  } finally {
    button.disabled = false;
  }
});

$('sign-out').addEventListener('click', async () => {
  await auth.signOut();
  showLogin('You signed out.');
});

$('offline-toggle').addEventListener('click', () => {
  simulatedOffline = !simulatedOffline;
  if (!simulatedOffline) {
    apiOffline = false;
    auth.resume(); // refresh at once if the token expired meanwhile
    void poll();
  }
  render();
});

setInterval(renderBar, 250);

await auth.ready;
if (auth.state === 'signedOut' || auth.state === 'expired') showLogin();
else showMain();
