import type { TesseraClient } from '@tessera/client';
import { createContext, createElement, type ReactNode, useContext, useMemo } from 'react';
import { createSessionStore, type SessionStore } from './session-store.js';

const SessionContext = createContext<SessionStore | null>(null);
/** One store per client, so every provider (and a strict-mode remount) of a client shares it. */
const stores = new WeakMap<TesseraClient, SessionStore>();

/** Props of {@link TesseraProvider}. */
export interface TesseraProviderProps {
  /** The client, created once (at module level, not in a component). */
  client: TesseraClient;
  children?: ReactNode;
}

/**
 * Makes `client` available to {@link useSession}, {@link useAccessToken} and
 * {@link SessionGate} below it. Touches no browser global, so it renders on a server too (as
 * `loading`).
 *
 * @example
 * const auth = createTesseraClient({ tokenEndpoint, clientId: 'web', storage: indexedDbStorage() });
 * root.render(<TesseraProvider client={auth}><App /></TesseraProvider>);
 */
export function TesseraProvider({ client, children }: TesseraProviderProps) {
  const store = useMemo(() => {
    let store = stores.get(client);
    if (!store) {
      store = createSessionStore(client);
      stores.set(client, store);
    }
    return store;
  }, [client]);
  return createElement(SessionContext.Provider, { value: store }, children);
}

/** The store of the nearest provider; a clear error outside one. */
export function useSessionStore(hook: string): SessionStore {
  const store = useContext(SessionContext);
  if (!store) throw new Error(`${hook} must be used inside <TesseraProvider client={…}>`);
  return store;
}
