import type { Clock } from '@tessera/protocol';
import type { Logger } from 'pino';
import { LIMITS } from '../config/limits.js';
import type { SetTimer } from '../domain/single-flight.js';
import type { CounterRow, CounterStore, EventInput } from '../ports/index.js';

/** The names of the per-minute counters, and what each label holds. */
export const COUNTER_NAMES = {
  /** Refreshes by result: `rotated`, `grace`, `failed`. */
  refreshes: 'refreshes',
  /** Failed refreshes by reason (the error code). */
  refreshFailures: 'refresh_failures',
  /** Grace-window reuses (harmless races), by client. */
  graceReuses: 'grace_reuses',
  /** Detected reuse (possible theft), by client. */
  reuseDetected: 'reuse_detected',
  /** Sessions ended by revocation, by initiator (`user`, `client`, `admin`, `system`, `cli`). */
  revocations: 'revocations',
  /** Failed password logins (label empty). */
  failedLogins: 'failed_logins',
  /** Token-endpoint latency: a histogram, the label is a bucket's upper bound in ms (`inf` last). */
  tokenLatency: 'token_latency_ms',
  /** Access tokens issued, by format (`jwt`, `paseto`, `opaque`, …). */
  accessTokens: 'access_tokens',
} as const;

/** Upper bounds (ms) of the latency histogram's buckets; the last bucket, `inf`, holds the rest. */
export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] as const;

export const MINUTE_MS = 60_000;

/** The minute a time falls in (its start, ms). */
export const minuteOf = (ms: number) => ms - (((ms % MINUTE_MS) + MINUTE_MS) % MINUTE_MS);

/**
 * The dashboard's pre-aggregated counters, counted in memory as events are recorded (and as
 * token requests are answered), and added to the `CounterStore` every `LIMITS.counterFlushMs`:
 * one small upsert per flush, never a write per event. What is not flushed yet is read from
 * here (`unflushed`), so this instance's overview is exact; another instance's counts show after
 * its next flush. A store that is down keeps the counts here (at most `LIMITS.counterPendingMax`
 * rows) for the next flush.
 */
export class MinuteCounters {
  private pending = new Map<string, CounterRow>();
  private flushing: Promise<void> | undefined;
  private cancel: (() => void) | undefined;

  constructor(
    private readonly store: CounterStore,
    private readonly clock: Clock,
    private readonly log?: Logger,
  ) {}

  /** Adds `n` to a counter of the current minute. */
  count(name: string, label: string, n = 1): void {
    const minute = minuteOf(this.clock.now());
    const key = `${minute}\u0000${name}\u0000${label}`;
    const row = this.pending.get(key);
    if (row) {
      row.count += n;
      return;
    }
    if (this.pending.size >= LIMITS.counterPendingMax) return;
    this.pending.set(key, { minute, name, label, count: n });
  }

  /** Counts what recorded events say: refreshes, failures, reuses, revocations, failed logins. */
  observeEvents(events: readonly EventInput[]): void {
    const C = COUNTER_NAMES;
    for (const e of events) {
      switch (e.type) {
        case 'token.refreshed':
          this.count(C.refreshes, 'rotated');
          break;
        case 'token.grace_reuse':
          this.count(C.refreshes, 'grace');
          this.count(C.graceReuses, e.clientId ?? '');
          break;
        case 'token.reuse.detected':
          this.count(C.refreshes, 'failed');
          this.count(C.refreshFailures, 'token_reused');
          this.count(C.reuseDetected, e.clientId ?? '');
          break;
        case 'token.refresh_failed':
          this.count(C.refreshes, 'failed');
          this.count(C.refreshFailures, e.reason ?? 'unknown');
          break;
        case 'session.ended': {
          const initiator = e.data?.initiator;
          this.count(C.revocations, typeof initiator === 'string' ? initiator : 'system');
          break;
        }
        case 'login.failed':
          this.count(C.failedLogins, '');
          break;
        default:
          break;
      }
    }
  }

  /** Counts one token-endpoint answer in the latency histogram. */
  observeLatency(ms: number): void {
    const bound = LATENCY_BUCKETS_MS.find((b) => ms <= b);
    this.count(COUNTER_NAMES.tokenLatency, bound === undefined ? 'inf' : String(bound));
  }

  /** The counts not yet in the store, with `from <= minute < to`. */
  unflushed(from: number, to: number): CounterRow[] {
    return [...this.pending.values()].filter((r) => r.minute >= from && r.minute < to).map((r) => ({ ...r }));
  }

  /** Adds what was counted to the store; on failure the counts stay for the next flush. */
  flush(): Promise<void> {
    this.flushing ??= this.doFlush().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Flushes every `everyMs` on `setTimer` (one timer at a time); returns the stop. */
  start(setTimer: SetTimer, everyMs: number = LIMITS.counterFlushMs): () => void {
    const arm = () => {
      this.cancel = setTimer(() => {
        void this.flush().finally(arm);
      }, everyMs);
    };
    arm();
    return () => {
      this.cancel?.();
      this.cancel = undefined;
    };
  }

  private async doFlush(): Promise<void> {
    if (this.pending.size === 0) return;
    const rows = [...this.pending.values()];
    this.pending = new Map();
    try {
      await this.store.addCounts(rows);
    } catch (err) {
      // Put them back, added to whatever was counted meanwhile.
      for (const r of rows) {
        const key = `${r.minute}\u0000${r.name}\u0000${r.label}`;
        const row = this.pending.get(key);
        if (row) row.count += r.count;
        else if (this.pending.size < LIMITS.counterPendingMax) this.pending.set(key, r);
      }
      this.log?.warn({ err: { message: (err as Error).message } }, 'dashboard counters: flush failed');
    }
  }
}

/** The p95 (ms) of a latency histogram given as bucket label → count; null when it is empty. */
export function p95OfHistogram(buckets: ReadonlyMap<string, number>): number | null {
  let total = 0;
  for (const n of buckets.values()) total += n;
  if (total === 0) return null;
  const rank = Math.ceil(total * 0.95);
  let seen = 0;
  for (const bound of LATENCY_BUCKETS_MS) {
    seen += buckets.get(String(bound)) ?? 0;
    if (seen >= rank) return bound;
  }
  // In the open bucket: more than the largest bound.
  return Math.max(...LATENCY_BUCKETS_MS) * 2;
}
