import type { TesseraClient } from '../core/client.js';

/** The parts of React Native's `AppState` used here, as its documentation describes them. */
export interface AppStateLike {
  currentState?: string | null;
  addEventListener(type: 'change', listener: (state: string) => void): { remove(): void };
}

/**
 * Calls `client.resume()` each time the app comes back to the foreground (`AppState` turns
 * `active`): timers do not run while an app is in the background, so a token may have expired
 * meanwhile, or the network may be back. Returns the function that stops listening.
 *
 * @example
 * import { AppState } from 'react-native';
 * import { resumeOnForeground } from '@tessera/client/react-native';
 * const stop = resumeOnForeground(auth, AppState);
 */
export function resumeOnForeground(client: TesseraClient, appState: AppStateLike): () => void {
  let last = appState.currentState ?? 'active';
  const subscription = appState.addEventListener('change', (next) => {
    if (next === 'active' && last !== 'active') client.resume();
    last = next;
  });
  return () => subscription.remove();
}
