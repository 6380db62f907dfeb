import type { Clock, Scheduler } from '../core/types.js';

/** Lets pending promise callbacks and I/O callbacks run (a few event-loop turns); no wall-clock wait. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * A clock and scheduler in virtual time, for tests of code built on the SDK: pass it as the
 * client's `clock` and `scheduler`, and nothing moves until `advance` is called, which fires due
 * timers in order, letting promises settle between them. Tests never sleep.
 *
 * @example
 * const time = new VirtualTime();
 * const client = createTesseraClient({ tokenEndpoint, clientId, clock: time, scheduler: time, fetch: fake });
 * await time.advance(15 * 60_000); // a quarter of an hour, at once
 */
export class VirtualTime implements Clock, Scheduler {
  #now: number;
  /** How far the wall clock has been moved by hand ({@link jumpWall}), beside the elapsed time. */
  #wallShift = 0;
  #seq = 0;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = Date.UTC(2030, 0, 1)) {
    this.#now = start;
  }

  /** The wall clock: elapsed virtual time, plus any {@link jumpWall}. */
  now(): number {
    return this.#now + this.#wallShift;
  }

  /** The monotonic clock: elapsed virtual time only, as `performance.now()` is. */
  monotonic(): number {
    return this.#now;
  }

  /** Sets the device clock forward or back by `ms` (a user, NTP, a time zone bug); nothing else moves. */
  jumpWall(ms: number): void {
    this.#wallShift += ms;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** When the next timer is due, or undefined. */
  nextAt(): number | undefined {
    let min: number | undefined;
    for (const t of this.#timers.values()) if (min === undefined || t.at < min) min = t.at;
    return min;
  }

  /** Moves the clock without firing timers, as a sleeping laptop or a throttled tab does. */
  jump(ms: number): void {
    this.#now += ms;
  }

  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      await settle();
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#timers)
        if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.#timers.delete(next[0]);
      this.#now = Math.max(this.#now, next[1].at);
      next[1].fn();
    }
    this.#now = end;
    await settle();
  }
}
