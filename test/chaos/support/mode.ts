import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The chaos suite's two forms: bounded inside `npm test` (CI), and the long form that
 * `npm run test:chaos` runs by hand (`TESSERA_CHAOS=long`). Each test picks its counts with `sized`.
 */
export const LONG = process.env.TESSERA_CHAOS === 'long';

/** `short` in `npm test`, `long` under `npm run test:chaos`. */
export function sized<T>(short: T, long: T): T {
  return LONG ? long : short;
}

/**
 * Saves a test's figures for `docs/reliability.md` when the report is asked for
 * (`npm run test:chaos -- --report` sets `TESSERA_CHAOS_REPORT` to a folder); otherwise nothing.
 */
export function recordResult(name: string, figures: Record<string, unknown>): void {
  const dir = process.env.TESSERA_CHAOS_REPORT;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, `${name}.json`),
    `${JSON.stringify({ name, form: LONG ? 'long' : 'bounded', ...figures }, null, 2)}\n`,
  );
}
