import { useSyncExternalStore } from 'react';
import type { SessionView } from './session-store.js';
import { useSessionStore } from './tessera-provider.js';

const onServer: SessionView = {
  status: 'loading',
  user: null,
  error: null,
  signInWithPassword: () => Promise.reject(new Error('Not on the server')),
  signInWithTokens: () => Promise.reject(new Error('Not on the server')),
  signOut: () => Promise.resolve(),
};

/**
 * The session: `status` (`loading`, `signedIn`, `offline`, `expired`, `signedOut`), the
 * user's claims, why it ended, and `signInWithPassword` / `signInWithTokens` / `signOut`. A
 * component re-renders only when `status`, `user` or `error` changes: a silent refresh, which
 * changes the access token only, does not re-render it.
 *
 * @example
 * const { status, user, signOut } = useSession();
 * if (status === 'signedIn') return <button onClick={signOut}>Sign out {String(user?.name)}</button>;
 */
export function useSession(): SessionView {
  const store = useSessionStore('useSession()');
  return useSyncExternalStore(store.subscribe, store.session, () => onServer);
}
