/**
 * Growth: refresh latency with 10^4, 10^5 and 10^6 families in the store, SQLite or PostgreSQL.
 * Filler families are inserted straight into the tables (the store's row shape, random hashes; on
 * PostgreSQL by `generate_series` in the database itself); the measured tokens are real sessions
 * minted through `issueSession`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Child } from '../lib/child.js';
import { type LoadResult, runLoad } from '../lib/load.js';
import { freePort } from '../lib/net.js';
import { median } from '../lib/stats.js';
import { benchPostgres, PG_URL } from './rotation.js';

export interface GrowthProfile {
  sizes: number[];
  rounds: number;
  /** Requests per run at c=1 and c=10. */
  amount1: number;
  amount10: number;
  maxSeconds: number;
  /** Skip a size whose fill is predicted to take longer than this. */
  fillBudgetSeconds: number;
}

export interface GrowthRow {
  size: number;
  families: number;
  fillSeconds: number;
  c1: { p50: number; p99: number; rps: number; failed: number };
  c10: { p50: number; p99: number; rps: number; failed: number };
}

export async function growthBench(
  p: GrowthProfile,
  log: (m: string) => void,
  store: 'sqlite' | 'postgres' = 'sqlite',
): Promise<{ rows: GrowthRow[]; skipped: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-growth-'));
  const rows: GrowthRow[] = [];
  const skipped: string[] = [];
  const pg = store === 'postgres' ? await benchPostgres(skipped, 'growth') : undefined;
  if (store === 'postgres' && !pg) return { rows, skipped };
  const child = await Child.start('tessera', {
    port: await freePort(),
    dir,
    ...(pg
      ? {
          databaseUrl: PG_URL,
          databaseSchema: pg.schema,
          secret: randomBytes(32).toString('base64url'),
        }
      : {}),
  });
  const url = String(child.info.url);
  let secondsPerFamily = 0;
  try {
    for (const size of p.sizes) {
      const have = await child.call<number>('count');
      const need = Math.max(0, size - have);
      if (secondsPerFamily > 0 && need * secondsPerFamily > p.fillBudgetSeconds) {
        skipped.push(
          `${size.toLocaleString('en-US')} families: filling ${need.toLocaleString('en-US')} more was predicted to take ${(need * secondsPerFamily).toFixed(0)} s (budget ${p.fillBudgetSeconds} s)`,
        );
        break;
      }
      log(`growth (${store}): filling to ${size.toLocaleString('en-US')} families`);
      const fill = await child.call<{ families: number; ms: number }>('fill', { n: need }, 1_800_000);
      if (need > 0) secondsPerFamily = fill.ms / 1000 / need;
      const c1: LoadResult[] = [];
      const c10: LoadResult[] = [];
      for (let round = 0; round < p.rounds; round++) {
        for (const [conns, amount, out] of [
          [1, p.amount1, c1],
          [10, p.amount10, c10],
        ] as const) {
          const pool = (await child.call<{ refresh: string[] }>('mint', { n: amount + 50 })).refresh;
          const r = await runLoad({
            url,
            path: '/oauth/token',
            method: 'POST',
            connections: conns,
            amount,
            maxSeconds: p.maxSeconds,
            fixedHeaders: { 'content-type': 'application/x-www-form-urlencoded' },
            body: (i) => `grant_type=refresh_token&client_id=bench&refresh_token=${pool[i] ?? 'exhausted'}`,
            check: (status, body) => status === 200 && body.includes('"refresh_token":"tsr_'),
          });
          out.push(r);
          log(
            `growth (${store}) ${size.toLocaleString('en-US')} c=${conns}: ${r.rps.toFixed(0)}/s p50 ${r.p50.toFixed(2)} ms p99 ${r.p99.toFixed(2)} ms failed ${r.failed + r.errors}`,
          );
        }
      }
      const sum = (xs: LoadResult[]) => ({
        p50: median(xs.map((x) => x.p50)),
        p99: median(xs.map((x) => x.p99)),
        rps: median(xs.map((x) => x.rps)),
        failed: xs.reduce((a, x) => a + x.failed + x.errors, 0),
      });
      rows.push({
        size,
        families: await child.call<number>('count'),
        fillSeconds: fill.ms / 1000,
        c1: sum(c1),
        c10: sum(c10),
      });
    }
  } finally {
    await child.stop();
    await pg?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
  return { rows, skipped };
}
