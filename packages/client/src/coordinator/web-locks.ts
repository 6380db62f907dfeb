import { defaultScheduler } from '../core/default-scheduler.js';
import { randomNonce } from '../core/token-requests.js';
import type { Coordinator, Scheduler, SessionMessage } from '../core/types.js';

/** True where Web Locks and BroadcastChannel exist (browsers, their workers, webviews). */
export function hasWebLocks(): boolean {
  return typeof navigator !== 'undefined' && !!navigator.locks && typeof BroadcastChannel === 'function';
}

/**
 * The browser orders BroadcastChannel delivery neither with Web Lock grants nor, across renderer
 * processes, with `localStorage`: under load a tab can get the lock before the session another
 * tab just handed over has reached it, and would refresh again (in cookie mode a real second
 * rotation; otherwise a grace-period answer). So a tab that hands a session over also holds a
 * small lock named after that hand-over for a moment (the lock manager is one for all tabs, so
 * it is seen at once), and a tab that gets the refresh lock first waits for every hand-over it
 * sees there and has not received.
 */
const MARK_HELD_MS = 1_000;
/** The longest wait for a hand-over that is announced but not received (e.g. sent before we joined). */
const HANDOVER_WAIT_MS = 250;

/** Options of {@link webLocksCoordinator}. */
export interface WebLocksCoordinatorOptions {
  /** Prefix of the lock and channel names; default `tessera`. */
  prefix?: string;
  /** Times the hand-over waits (one timer each, so no clock is needed); the client passes its own. Default the platform's timers. */
  scheduler?: Scheduler;
}

/**
 * One refresh for all tabs of an origin. The Web Lock serialises refreshes; the browser releases
 * it when the holding tab dies, so another tab takes over. New sessions are handed to the other
 * tabs over a BroadcastChannel, so they never refresh themselves.
 *
 * @example
 * createTesseraClient({ tokenEndpoint, clientId, coordinator: webLocksCoordinator() });
 */
export function webLocksCoordinator(options: WebLocksCoordinatorOptions = {}): Coordinator {
  const prefix = options.prefix ?? 'tessera';
  const scheduler = options.scheduler ?? defaultScheduler;
  const after = (ms: number, fn: () => void) => scheduler.setTimeout(fn, ms);
  // Hand-over ids received and sent by this tab (the latest few), and who waits for the next one.
  const known = new Set<string>();
  const waiting = new Set<() => void>();
  // Marks requested while this tab holds a refresh lock: granted before that lock is let go.
  const marking = new Map<string, Promise<void>[]>();
  const markPrefix = (name: string) => `${prefix}:${name}:handover:`;

  function remember(id: string): void {
    known.add(id);
    if (known.size > 64) known.delete(known.values().next().value as string);
  }

  /** Waits until every hand-over announced for `name` has arrived, or `HANDOVER_WAIT_MS`. */
  async function awaitHandOvers(name: string): Promise<void> {
    const mark = markPrefix(name);
    const unseen = ((await navigator.locks.query()).held ?? [])
      .map((l) => l.name ?? '')
      .filter((n) => n.startsWith(mark))
      .map((n) => n.slice(mark.length));
    await new Promise<void>((resolve) => {
      const check = () => {
        if (unseen.some((id) => !known.has(id))) return;
        scheduler.clearTimeout(timer);
        waiting.delete(check);
        resolve();
      };
      const timer = after(HANDOVER_WAIT_MS, () => {
        unseen.length = 0;
        check();
      });
      waiting.add(check);
      check();
    });
  }

  return {
    withLock: <T>(name: string, fn: () => Promise<T>) =>
      navigator.locks.request(`${prefix}:${name}`, async () => {
        await awaitHandOvers(name);
        const marks: Promise<void>[] = [];
        marking.set(name, marks);
        try {
          return await fn();
        } finally {
          marking.delete(name);
          // Our hand-over's mark must be visible before anyone else can take the lock.
          await Promise.all(marks);
        }
      }) as unknown as Promise<T>, // the DOM typing nests the callback's promise; the value is T
    join(name, onMessage) {
      // One channel per member: a BroadcastChannel never delivers to its own sender.
      const channel = new BroadcastChannel(`${prefix}:${name}`);
      channel.onmessage = (event: MessageEvent) => {
        const { handOver, ...message } = event.data as SessionMessage & { handOver?: string };
        onMessage(message as SessionMessage);
        if (handOver !== undefined) remember(handOver);
        for (const wake of [...waiting]) wake();
      };
      return {
        post(message) {
          const marks = marking.get(name);
          if (!marks) {
            channel.postMessage(message);
            return;
          }
          // Sent under the refresh lock: announce it until the others have surely received it.
          const id = randomNonce();
          remember(id);
          marks.push(
            new Promise<void>((granted) => {
              // Never hold the refresh lock for the mark's sake: a mark refused or slow to come
              // only weakens the announcement, the lock is let go all the same.
              const giveUp = after(HANDOVER_WAIT_MS, granted);
              navigator.locks
                .request(markPrefix(name) + id, () => {
                  scheduler.clearTimeout(giveUp);
                  granted();
                  return new Promise((release) => after(MARK_HELD_MS, () => release(undefined)));
                })
                .catch(() => granted());
            }),
          );
          // The extra field is ignored by a tab running an older version of this code.
          channel.postMessage({ ...message, handOver: id });
        },
        leave: () => channel.close(),
      };
    },
  };
}
