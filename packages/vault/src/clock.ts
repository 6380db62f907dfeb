export { type Clock, systemClock } from '@tessera/protocol';

/** Schedules `fn` after `ms` and returns a function that cancels it; injected for tests. */
export type SetTimer = (fn: () => void, ms: number) => () => void;

export const defaultSetTimer: SetTimer = (fn, ms) => {
  const timer = setTimeout(fn, ms);
  timer.unref?.();
  return () => clearTimeout(timer);
};

/** Resolves after `ms` through `setTimer`. */
export function delay(setTimer: SetTimer, ms: number): Promise<void> {
  return new Promise((resolve) => {
    setTimer(resolve, ms);
  });
}
