import { useSyncExternalStore } from 'react';
import { useSessionStore } from './tessera-provider.js';

/**
 * The current access token (`null` while loading, signed out or ended), for components that
 * show it or pass it on; it re-renders them when a refresh replaces it. To call an API, prefer
 * `createFetch(useTesseraClient())`, which attaches the freshest token itself and handles a 401.
 */
export function useAccessToken(): string | null {
  const store = useSessionStore('useAccessToken()');
  return useSyncExternalStore(store.subscribe, store.accessToken, () => null);
}
