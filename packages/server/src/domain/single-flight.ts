import { TesseraError } from '@tessera/protocol';

/**
 * Coalesces concurrent work by key (one refresh per token at a time, in one process): the first caller runs
 * `work`, every caller that arrives while it runs gets the same result. Across processes the
 * store's atomic rotation and the grace period give the same answer.
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  constructor(private readonly setTimer: SetTimer = defaultSetTimer) {}

  /** True while work for `key` is running; used to exempt coalesced requests from rate limits. */
  has(key: string): boolean {
    return this.inFlight.has(key);
  }

  run(key: string, work: () => Promise<T>, timeoutMs: number): Promise<T> {
    const existing = this.inFlight.get(key);
    if (existing) return withTimeout(existing, timeoutMs, this.setTimer);
    const promise = work().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, promise);
    return promise;
  }
}

/** Schedules `fn` after `ms` and returns a function that cancels it; injected so tests use virtual time. */
export type SetTimer = (fn: () => void, ms: number) => () => void;

/** `setTimeout` that never holds the process open. */
export const defaultSetTimer: SetTimer = (fn, ms) => {
  const timer = setTimeout(fn, ms);
  timer.unref?.();
  return () => clearTimeout(timer);
};

function withTimeout<T>(promise: Promise<T>, ms: number, setTimer: SetTimer): Promise<T> {
  let cancel: (() => void) | undefined;
  const timeout = new Promise<never>((_, reject) => {
    cancel = setTimer(() => reject(new TesseraError('rotation_in_progress')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => cancel?.());
}
