// The React test app, bundled by esbuild for React 19 and for React 18 (test/support/bundle.ts).
import { createTesseraClient } from '@tessera/client';
import { webStorage } from '@tessera/client/storage';
import { SessionGate, TesseraProvider, useAccessToken, useSession } from '@tessera/react';
import { type FormEvent, useState, version } from 'react';
import { createRoot } from 'react-dom/client';

let offset = 0;
const auth = createTesseraClient({
  tokenEndpoint: `${location.origin}/oauth/token`,
  clientId: 'web',
  storage: webStorage(localStorage),
  // The test hook: the page's clock can be moved past the refresh time without waiting.
  clock: { now: () => Date.now() + offset },
});

/** How often each component rendered: a silent refresh must re-render only what changed. */
const renders = { user: 0, token: 0, status: 0 };

function UserName() {
  const { user } = useSession();
  renders.user++;
  return <strong id="user">{String(user?.name ?? '')}</strong>;
}

function TokenBadge() {
  const token = useAccessToken();
  renders.token++;
  return (
    <code id="token" data-token={token ?? ''}>
      {token ? `…${token.slice(-6)}` : 'none'}
    </code>
  );
}

function Status() {
  const { status } = useSession();
  renders.status++;
  return <span id="status">{status}</span>;
}

function Login({ notice }: { notice?: string }) {
  const { signInWithPassword } = useSession();
  const [error, setError] = useState('');
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    try {
      await signInWithPassword({
        username: String(form.get('username')),
        password: String(form.get('password')),
      });
    } catch (e) {
      setError((e as { code?: string }).code ?? 'failed');
    }
  };
  return (
    <form id="login" onSubmit={submit}>
      {notice && <p id="notice">{notice}</p>}
      <input name="username" id="username" />
      <input name="password" id="password" type="password" />
      <button type="submit" id="sign-in">
        Sign in
      </button>
      {error && <p id="login-error">{error}</p>}
    </form>
  );
}

function Main() {
  const { signOut } = useSession();
  return (
    <main id="main">
      <UserName /> <TokenBadge />
      <button type="button" id="sign-out" onClick={() => void signOut()}>
        Sign out
      </button>
    </main>
  );
}

function Root() {
  return (
    <>
      <Status />
      <SessionGate
        loading={<p id="loading">Loading…</p>}
        signedOut={<Login />}
        expired={(error) => <Login notice={`Your session ended (${error?.code}). Please sign in again.`} />}
        offline={<p id="offline">Offline: you are still signed in</p>}
      >
        <Main />
      </SessionGate>
    </>
  );
}

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <TesseraProvider client={auth}>
      <Root />
    </TesseraProvider>,
  );
}

(globalThis as unknown as { app: unknown }).app = {
  version,
  renders,
  setOffset: (ms: number) => {
    offset = ms;
  },
  resume: () => auth.resume(),
  state: () => auth.state,
  token: () => auth.getAccessToken(),
  /** A few turns of the event loop: React has committed whatever the store told it. */
  settle: async () => {
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setTimeout(resolve, 0));
  },
};
