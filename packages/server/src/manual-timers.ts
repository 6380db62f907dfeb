import type { SetTimer } from './domain/single-flight.js';
import type { ManualClock } from './manual-clock.js';

/**
 * One-shot timers on a `ManualClock`, for tests: `setTimer` schedules on virtual time, and
 * `advance` moves the clock, running each timer that comes due, in order, with the clock at its
 * time (and the promises it starts settled before the next).
 */
export class ManualTimers {
  private timers: { at: number; seq: number; fn: () => void }[] = [];
  private seq = 0;

  constructor(readonly clock: ManualClock) {}

  readonly setTimer: SetTimer = (fn, ms) => {
    const timer = { at: this.clock.now() + Math.max(0, ms), seq: ++this.seq, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  };

  /** Timers waiting. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves virtual time forward by `ms`, running the timers that come due. */
  async advance(ms: number): Promise<void> {
    const end = this.clock.now() + ms;
    for (let i = 0; i < 100_000; i++) {
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.clock.set(Math.max(this.clock.now(), next.at));
      next.fn();
      await settle();
    }
    this.clock.set(end);
    await settle();
  }
}

/** Lets pending promise chains (and I/O callbacks already queued) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
