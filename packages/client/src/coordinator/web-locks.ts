import type { Coordinator } from '../core/types.js';

/** True where Web Locks and BroadcastChannel exist (browsers, their workers, webviews). */
export function hasWebLocks(): boolean {
  return typeof navigator !== 'undefined' && !!navigator.locks && typeof BroadcastChannel === 'function';
}

/**
 * How long a tab that waited for the lock waits for the previous holder's hand-over. The browser
 * orders neither the channel with lock grants nor, across renderer processes, `localStorage` with
 * either: under load the new session can arrive after the lock. Without it the tab would refresh
 * again (in cookie mode a real second rotation; otherwise a grace-period answer). The wait ends
 * as soon as the hand-over arrives; the whole of it only when the holder had nothing to hand over.
 */
const HANDOVER_WAIT_MS = 250;

/**
 * One refresh for all tabs of an origin. The Web Lock serialises refreshes; the browser releases
 * it when the holding tab dies, so another tab takes over. New sessions are handed to the other
 * tabs over a BroadcastChannel, so they never refresh themselves.
 *
 * @example
 * createTesseraClient({ tokenEndpoint, clientId, coordinator: webLocksCoordinator() });
 */
export function webLocksCoordinator(prefix = 'tessera'): Coordinator {
  // Messages received per name, and who waits for the next one.
  const received = new Map<string, number>();
  const waiting = new Map<string, Set<() => void>>();

  /** Resolves when a message beyond the `seen`-th has arrived for `name`, or after `ms`. */
  function handOver(name: string, seen: number, ms: number): Promise<void> {
    if ((received.get(name) ?? 0) > seen) return Promise.resolve();
    return new Promise((resolve) => {
      const set = waiting.get(name) ?? new Set();
      waiting.set(name, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
    });
  }

  return {
    async withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
      const lock = `${prefix}:${name}`;
      const seen = received.get(name) ?? 0;
      const free = (await navigator.locks.request(lock, { ifAvailable: true }, async (held) => {
        if (!held) return undefined;
        // A holder that has just let go may still have its hand-over queued: one macrotask for it.
        await new Promise((resolve) => setTimeout(resolve, 0));
        return { value: await fn() };
      })) as { value: T } | undefined;
      if (free) return free.value;
      // Another tab is refreshing: once it lets go, take its session rather than refresh again.
      return navigator.locks.request(lock, async () => {
        await handOver(name, seen, HANDOVER_WAIT_MS);
        return fn();
      }) as unknown as Promise<T>; // the DOM typing nests the callback's promise; the value is T
    },
    join(name, onMessage) {
      // One channel per member: a BroadcastChannel never delivers to its own sender.
      const channel = new BroadcastChannel(`${prefix}:${name}`);
      channel.onmessage = (event: MessageEvent) => {
        onMessage(event.data);
        received.set(name, (received.get(name) ?? 0) + 1);
        for (const wake of [...(waiting.get(name) ?? [])]) wake();
      };
      return { post: (message) => channel.postMessage(message), leave: () => channel.close() };
    },
  };
}
