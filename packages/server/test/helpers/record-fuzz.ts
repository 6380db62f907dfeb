import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Saves the mutated-request property's figures for docs/reliability.md when the chaos report is asked for. */
export function recordFuzz(tried: number, statuses: Record<number, number>, seed: number): void {
  const dir = process.env.TESSERA_CHAOS_REPORT;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'hostile-mutations.json'),
    `${JSON.stringify({ name: 'hostile-mutations', tried, statuses, seed }, null, 2)}\n`,
  );
}
