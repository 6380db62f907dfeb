/**
 * Time for a client SDK under test that runs in real time until the test skips ahead: `now()` is
 * the wall clock plus every skip so far, and timers are real (ref'd) timers that also fire at
 * once when a skip reaches their due time. A crash test lets the SDK's backoff run as it would
 * (its clients take part in every burst), then, instead of waiting out a backoff of up to a
 * minute in real time (which a loaded machine stretches past any bound), skips it.
 */
export class SkippableTime {
  #skipped = 0;
  readonly #timers = new Map<number, { due: number; fn: () => void; handle: NodeJS.Timeout }>();
  #next = 1;
  #stopped = false;

  now = (): number => Date.now() + this.#skipped;

  setTimeout = (fn: () => void, ms: number): number => {
    const id = this.#next++;
    if (this.#stopped) return id;
    const due = this.now() + Math.max(0, ms);
    this.#timers.set(id, { due, fn, handle: setTimeout(() => this.#fire(id), Math.max(0, ms)) });
    return id;
  };

  clearTimeout = (id: unknown): void => {
    const timer = this.#timers.get(id as number);
    if (!timer) return;
    clearTimeout(timer.handle);
    this.#timers.delete(id as number);
  };

  /** Moves time ahead by `ms`: every timer due by then fires now, the others keep their due time. */
  skip(ms: number): void {
    this.#skipped += ms;
    const now = this.now();
    for (const [id, timer] of [...this.#timers]) {
      clearTimeout(timer.handle);
      if (timer.due <= now) this.#fire(id);
      else timer.handle = setTimeout(() => this.#fire(id), timer.due - now);
    }
  }

  /** Clears every timer, and no new one fires: the test is over (a client left mid-backoff stops). */
  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers.values()) clearTimeout(timer.handle);
    this.#timers.clear();
  }

  /** Timers still to fire. */
  get pending(): number {
    return this.#timers.size;
  }

  #fire(id: number): void {
    const timer = this.#timers.get(id);
    if (!timer) return;
    this.#timers.delete(id);
    timer.fn();
  }
}
