import { TesseraError } from '@tessera/protocol';
import type { FastifyInstance } from 'fastify';
import type { TesseraContext } from '../domain/context.js';
import { COUNTER_NAMES, MINUTE_MS, minuteOf, p95OfHistogram } from '../observability/minute-counters.js';
import type { CounterRow } from '../ports/index.js';
import { intParam, query } from './admin-params.js';

const DAY_MS = 24 * 60 * MINUTE_MS;
const HOUR_MS = 60 * MINUTE_MS;
/** Chart steps the overview accepts, in minutes (15 and 60 read the store's coarser rows). */
export const OVERVIEW_STEPS = [1, 5, 15, 60] as const;
const MAX_POINTS = 2000;

/** Counts per label over the rows given (one name). */
function byLabel(rows: readonly CounterRow[], name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rows) if (r.name === name) out.set(r.label, (out.get(r.label) ?? 0) + r.count);
  return out;
}

const sum = (m: ReadonlyMap<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

/**
 * The stored counters with `from <= minute < to` summed per `stepMs` by the store, plus this
 * instance's not yet flushed (by minute: a caller buckets both alike).
 */
async function countsBetween(
  ctx: TesseraContext,
  from: number,
  to: number,
  stepMs: number,
): Promise<CounterRow[]> {
  const stored = await ctx.stores.counters.readCounts({ from, to, stepMs });
  return [...stored, ...ctx.counters.unflushed(from, to)];
}

/**
 * `GET /overview`: the dashboard's tiles and charts, from the per-minute counters (a day is at
 * most 1,440 minutes × a few dozen rows, read by primary key) and one indexed count of active
 * sessions; never a scan of the events.
 */
export function overviewRoutes(app: FastifyInstance, ctx: TesseraContext): void {
  app.get('/overview', async (request) => {
    const q = query(request);
    const now = ctx.clock.now();
    const to = minuteOf(intParam(q.to, now, 0, Number.MAX_SAFE_INTEGER)) + MINUTE_MS;
    const requestedFrom = intParam(q.from, to - DAY_MS, 0, Number.MAX_SAFE_INTEGER);
    if (requestedFrom >= to) throw new TesseraError('invalid_request', '`from` must be before `to`');
    const fallbackStep = OVERVIEW_STEPS.find((s) => (to - requestedFrom) / (s * MINUTE_MS) <= 100) ?? 60;
    const step = intParam(q.step, fallbackStep, 1, 60);
    if (!(OVERVIEW_STEPS as readonly number[]).includes(step)) {
      throw new TesseraError('invalid_request', `step: one of ${OVERVIEW_STEPS.join(', ')} minutes`);
    }
    const stepMs = step * MINUTE_MS;
    // Steps start on multiples of the step, so the store answers from its coarser rows.
    const from = requestedFrom - (requestedFrom % stepMs);
    const points = Math.ceil((to - from) / stepMs);
    if (points > MAX_POINTS) {
      throw new TesseraError(
        'invalid_request',
        `At most ${MAX_POINTS} points: a larger step or a shorter range`,
      );
    }

    // The tiles: the last 24 hours (from the start of that hour: hourly rows, then this hour's
    // minutes) and, for the latency, the last 60 minutes, whatever range the charts show.
    const nowMinute = minuteOf(now) + MINUTE_MS;
    const hourStart = nowMinute - MINUTE_MS - ((nowMinute - MINUTE_MS) % HOUR_MS);
    const [chartRows, dayHours, thisHour, lastHour, activeSessions] = await Promise.all([
      countsBetween(ctx, from, to, stepMs),
      countsBetween(ctx, hourStart - DAY_MS, hourStart, HOUR_MS),
      countsBetween(ctx, hourStart, nowMinute, MINUTE_MS),
      countsBetween(ctx, nowMinute - HOUR_MS, nowMinute, MINUTE_MS),
      ctx.stores.sessions.countActiveFamilies(now),
    ]);
    const day = [...dayHours, ...thisHour];
    const C = COUNTER_NAMES;
    const refreshes = byLabel(day, C.refreshes);
    const attempted = sum(refreshes);
    const succeeded = (refreshes.get('rotated') ?? 0) + (refreshes.get('grace') ?? 0);

    const times = Array.from({ length: points }, (_, i) => from + i * stepMs);
    const series = (name: string, fixed: readonly string[] = []) => {
      const out: Record<string, number[]> = {};
      for (const label of fixed) out[label] = new Array<number>(points).fill(0);
      for (const r of chartRows) {
        if (r.name !== name) continue;
        const i = Math.floor((r.minute - from) / stepMs);
        if (i < 0 || i >= points) continue;
        const label = r.label === '' ? 'unknown' : r.label;
        const counts = out[label] ?? new Array<number>(points).fill(0);
        out[label] = counts;
        counts[i] = (counts[i] ?? 0) + r.count;
      }
      return out;
    };
    const latency: Map<string, number>[] = times.map(() => new Map());
    for (const r of chartRows) {
      if (r.name !== C.tokenLatency) continue;
      const i = Math.floor((r.minute - from) / stepMs);
      const m = latency[i];
      if (m) m.set(r.label, (m.get(r.label) ?? 0) + r.count);
    }
    const failedLogins = new Array<number>(points).fill(0);
    for (const r of chartRows) {
      if (r.name !== C.failedLogins) continue;
      const i = Math.floor((r.minute - from) / stepMs);
      if (i >= 0 && i < points) failedLogins[i] = (failedLogins[i] ?? 0) + r.count;
    }

    const ageMs = ctx.keyRing.currentAge();
    return {
      generatedAt: now,
      from,
      to,
      stepMs,
      tiles: {
        activeSessions,
        refreshSuccessRate: attempted === 0 ? null : succeeded / attempted,
        reuseDetected24h: sum(byLabel(day, C.reuseDetected)),
        failedLogins24h: sum(byLabel(day, C.failedLogins)),
        signingKeyAgeSeconds: Math.floor(ageMs / 1000),
        tokenEndpointP95Ms: p95OfHistogram(byLabel(lastHour, C.tokenLatency)),
      },
      times,
      series: {
        refreshes: series(C.refreshes, ['rotated', 'grace', 'failed']),
        failures: series(C.refreshFailures),
        graceReuses: series(C.graceReuses),
        reuseDetected: series(C.reuseDetected),
        revocations: series(C.revocations),
        failedLogins,
        tokenEndpointP95Ms: latency.map((m) => p95OfHistogram(m)),
      },
    };
  });
}
