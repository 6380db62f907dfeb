import type { Coordinator } from '../core/types.js';

/** True where Web Locks and BroadcastChannel exist (browsers, their workers, webviews). */
export function hasWebLocks(): boolean {
  return typeof navigator !== 'undefined' && !!navigator.locks && typeof BroadcastChannel === 'function';
}

/**
 * One refresh for all tabs of an origin. The Web Lock serialises refreshes; the browser releases
 * it when the holding tab dies, so another tab takes over. New sessions are handed to the other
 * tabs over a BroadcastChannel, so they never refresh themselves.
 *
 * @example
 * createTesseraClient({ tokenEndpoint, clientId, coordinator: webLocksCoordinator() });
 */
export function webLocksCoordinator(prefix = 'tessera'): Coordinator {
  return {
    withLock: <T>(name: string, fn: () => Promise<T>) =>
      navigator.locks.request(`${prefix}:${name}`, async () => {
        // The lock and the channel are separate pipes: the previous holder's hand-over may still
        // be queued when the lock is granted. One macrotask lets it arrive before we decide.
        await new Promise((resolve) => setTimeout(resolve, 0));
        return fn();
      }) as unknown as Promise<T>, // the DOM typing nests the callback's promise; the value is T
    join(name, onMessage) {
      // One channel per member: a BroadcastChannel never delivers to its own sender.
      const channel = new BroadcastChannel(`${prefix}:${name}`);
      channel.onmessage = (event: MessageEvent) => onMessage(event.data);
      return { post: (message) => channel.postMessage(message), leave: () => channel.close() };
    },
  };
}
