/**
 * The Token Health Dashboard: a single page over the admin API. Everything it shows comes from
 * `api/…` on its own origin; it never sees a token value, and the admin session lives in an
 * HttpOnly cookie this script cannot read (it holds only the CSRF token, in memory).
 */
import 'uplot/dist/uPlot.min.css';
import './app.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type AdminSession, api, currentSession, onSessionChange } from './api.js';
import { ErrorBox } from './components.js';
import { Events } from './pages/events.js';
import { Inspector } from './pages/inspector.js';
import { Keys } from './pages/keys.js';
import { OverviewPage } from './pages/overview.js';
import { SessionDetailPage } from './pages/session-detail.js';
import { Sessions } from './pages/sessions.js';
import { SignIn } from './pages/sign-in.js';
import { Users } from './pages/users.js';
import { href, type Route, useRoute } from './router.js';

const NAV = [
  ['', 'Overview'],
  ['sessions', 'Sessions'],
  ['events', 'Events'],
  ['users', 'Users'],
  ['keys', 'Keys'],
  ['inspect', 'Token inspector'],
] as const;

function App() {
  const [session, setSession] = useState<AdminSession | null | undefined>(undefined);
  const [startError, setStartError] = useState<unknown>(null);
  const [wasSignedIn, setWasSignedIn] = useState(false);
  const route = useRoute();
  useEffect(() => {
    const off = onSessionChange((s) => {
      setSession(s);
      if (s) setWasSignedIn(true);
    });
    api.resume().then(
      (s) => setSession(s ?? currentSession()),
      (err: unknown) => setStartError(err),
    );
    return off;
  }, []);
  if (startError) {
    return (
      <main class="sign-in" data-page="error">
        <ErrorBox error={startError} />
      </main>
    );
  }
  if (session === undefined) return <main data-page="loading" class="muted" />;
  if (session === null) {
    return <SignIn {...(wasSignedIn ? { notice: 'Your admin session ended; sign in again.' } : {})} />;
  }
  const section = route.parts[0] ?? '';
  return (
    <div class="shell">
      <header class="topbar">
        <a class="brand" href={href('')}>
          <span class="logo" aria-hidden="true">
            ◆
          </span>{' '}
          Tessera
        </a>
        <nav>
          {NAV.map(([path, label]) => (
            <a key={path} href={href(path)} class={section === path ? 'active' : ''}>
              {label}
            </a>
          ))}
        </nav>
        <div class="who">
          <span id="signed-in-as">{session.username}</span>
          <button type="button" class="secondary" id="sign-out" onClick={() => api.signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main class="content" data-page={section || 'overview'}>
        <Page route={route} />
      </main>
    </div>
  );
}

function Page({ route }: { route: Route }) {
  const [section, id] = route.parts;
  switch (section) {
    case undefined:
      return <OverviewPage />;
    case 'sessions':
      return id ? <SessionDetailPage id={id} /> : <Sessions query={route.query} />;
    case 'events':
      return <Events query={route.query} />;
    case 'users':
      return <Users query={route.query} {...(id ? { name: id } : {})} />;
    case 'keys':
      return <Keys />;
    case 'inspect':
      return <Inspector />;
    default:
      return (
        <div class="card">
          <h1>Not found</h1>
          <p>
            There is no page <code>#{route.parts.join('/')}</code>. <a href={href('')}>Overview</a>
          </p>
        </div>
      );
  }
}

const root = document.getElementById('app');
if (!root) throw new Error('the page has no #app element to render into');
render(<App />, root);
