import type { Scheduler } from './types.js';

/** The platform's timers; in Node they are unref'd, so a background refresh never keeps a process alive. */
export const defaultScheduler: Scheduler = {
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms);
    (handle as { unref?: () => void }).unref?.();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
