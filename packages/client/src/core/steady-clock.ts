import type { Clock } from './types.js';

/** A wall-clock step larger than this beyond the monotonic clock is a sleep or a forward jump. */
const STEP_MS = 1_000;

/**
 * The client's own time line, from a clock with a `monotonic` reading: it advances with the
 * monotonic clock, so a device clock set back (by hours, or by NTP) changes nothing, and follows
 * the wall clock only when that moves more than a second ahead of it: a device that slept (its
 * monotonic clock stood still, on Linux and macOS) sees its tokens' lifetimes run out, and a
 * clock set forward costs one early refresh, never a sign-out. Without `monotonic`, the wall clock.
 */
export function steadyClock(clock: Clock): Clock {
  const monotonic = clock.monotonic;
  if (!monotonic) return clock;
  let wall = clock.now();
  let mono = monotonic.call(clock);
  let now = wall;
  return {
    now() {
      const w = clock.now();
      const m = monotonic.call(clock);
      const dw = w - wall;
      const dm = Math.max(0, m - mono);
      now += dw - dm > STEP_MS ? dw : dm;
      wall = w;
      mono = m;
      return now;
    },
  };
}
