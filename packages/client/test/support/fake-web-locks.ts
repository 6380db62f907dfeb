import type { Scheduler } from '../../src/core/types.js';

interface Waiter {
  name: string;
  grant: () => void;
}

/**
 * `navigator.locks` for Node tests: exclusive locks granted in request order, `query()` as the
 * browser answers it. One instance stands for the browser's lock manager, shared by every tab.
 * `refuse` names locks that are never granted (a lock manager that is slow or busy).
 */
export class FakeLockManager {
  readonly #held = new Set<string>();
  readonly #pending: Waiter[] = [];
  /** Lock names (prefixes) whose requests stay pending forever. */
  readonly refuse: string[] = [];
  /** Every granted lock name, in order. */
  readonly granted: string[] = [];

  async request<T>(name: string, callback: (lock: { name: string; mode: 'exclusive' }) => T | Promise<T>) {
    await new Promise<void>((grant) => {
      this.#pending.push({ name, grant });
      this.#next();
    });
    try {
      return await callback({ name, mode: 'exclusive' });
    } finally {
      this.#held.delete(name);
      this.#next();
    }
  }

  async query() {
    return {
      held: [...this.#held].map((name) => ({ name, mode: 'exclusive' as const, clientId: 'tab' })),
      pending: this.#pending.map((w) => ({ name: w.name, mode: 'exclusive' as const, clientId: 'tab' })),
    };
  }

  /** Locks with this name held / waiting. */
  count(name: string): { held: number; pending: number } {
    return {
      held: this.#held.has(name) ? 1 : 0,
      pending: this.#pending.filter((w) => w.name === name).length,
    };
  }

  #next(): void {
    for (const waiter of [...this.#pending]) {
      if (this.#held.has(waiter.name) || this.refuse.some((p) => waiter.name.startsWith(p))) continue;
      this.#pending.splice(this.#pending.indexOf(waiter), 1);
      this.#held.add(waiter.name);
      this.granted.push(waiter.name);
      waiter.grant();
    }
  }
}

/**
 * BroadcastChannel for Node tests on virtual time: a message reaches every other channel of the
 * same name (never its sender) `delayMs` later, as a structured clone; `delayMs` 0 is the next
 * macrotask, as in a browser.
 */
export function fakeBroadcastChannel(scheduler: Scheduler, delayMs: () => number) {
  const channels = new Map<string, Set<FakeChannel>>();
  class FakeChannel {
    onmessage: ((event: MessageEvent) => void) | null = null;
    #closed = false;
    constructor(readonly name: string) {
      const set = channels.get(name) ?? new Set();
      channels.set(name, set);
      set.add(this);
    }
    postMessage(data: unknown): void {
      const copy = structuredClone(data);
      for (const other of channels.get(this.name) ?? []) {
        if (other === this) continue;
        scheduler.setTimeout(() => {
          if (!other.#closed) other.onmessage?.(new MessageEvent('message', { data: copy }));
        }, delayMs());
      }
    }
    close(): void {
      this.#closed = true;
      channels.get(this.name)?.delete(this);
    }
  }
  return FakeChannel;
}

/**
 * Installs the fakes as `navigator.locks` and `BroadcastChannel` (Node 20 has neither Web Locks
 * nor a `navigator`); returns the function that puts the originals back.
 */
export function installFakeWebLocks(
  locks: FakeLockManager,
  channel: ReturnType<typeof fakeBroadcastChannel>,
) {
  const g = globalThis as { navigator?: unknown; BroadcastChannel?: unknown };
  const previous = {
    navigator: Object.getOwnPropertyDescriptor(g, 'navigator'),
    channel: g.BroadcastChannel,
  };
  Object.defineProperty(g, 'navigator', { value: { locks }, configurable: true, writable: true });
  g.BroadcastChannel = channel;
  return () => {
    if (previous.navigator) Object.defineProperty(g, 'navigator', previous.navigator);
    else delete g.navigator;
    g.BroadcastChannel = previous.channel;
  };
}
