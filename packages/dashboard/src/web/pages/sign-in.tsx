import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ErrorBox } from '../components.js';

/** The dashboard's own sign-in: administrators only; the same lockout as every sign-in. */
export function SignIn({ notice }: { notice?: string }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.signIn(username, password);
      // The password leaves memory with the form.
      setPassword('');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="sign-in" data-page="sign-in">
      <form class="card" onSubmit={submit}>
        <h1>
          <span class="logo" aria-hidden="true">
            ◆
          </span>{' '}
          Tessera dashboard
        </h1>
        <p class="muted">Token health, sessions and why they ended. Administrators only.</p>
        {notice ? <p class="notice">{notice}</p> : null}
        <label>
          Username
          <input
            name="username"
            autocomplete="username"
            required
            value={username}
            onInput={(e) => setUsername((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" id="sign-in" disabled={busy}>
          Sign in
        </button>
        <ErrorBox error={error} />
      </form>
    </main>
  );
}
