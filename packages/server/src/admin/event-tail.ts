import type { Clock, LifecycleEvent } from '@tessera/protocol';
import type { Logger } from 'pino';
import { LIMITS } from '../config/limits.js';
import type { SetTimer } from '../domain/single-flight.js';
import type { EventFilter, EventStore, RevocationSignal } from '../ports/index.js';

/** What a live-tail subscriber asked for; every field an exact match. */
export type TailFilter = Pick<EventFilter, 'type' | 'userId' | 'clientId' | 'familyId'>;

export function matchesTail(filter: TailFilter, e: LifecycleEvent): boolean {
  return (
    (filter.type === undefined || e.type === filter.type) &&
    (filter.userId === undefined || e.userId === filter.userId) &&
    (filter.clientId === undefined || e.clientId === filter.clientId) &&
    (filter.familyId === undefined || e.familyId === filter.familyId)
  );
}

export interface EventTailOptions {
  events: Pick<EventStore, 'list' | 'lastEventId'>;
  clock: Clock;
  setTimer: SetTimer;
  /** Wakes the tail when an instance sharing the signal recorded events (and locally). */
  signal?: RevocationSignal | undefined;
  log?: Logger | undefined;
  pollMs?: number;
  batch?: number;
  gapWaitMs?: number;
}

/**
 * One reader of the lifecycle record for every live-tail subscriber of this instance: it reads
 * the events after its cursor (keyset on the event id) every `pollMs` while anyone listens, and
 * at once when the signal says events were recorded, here or (over Redis) on another instance,
 * then hands each subscriber what matches its filter. One query per poll whatever the number of
 * subscribers.
 *
 * Ids are assigned at insert and become visible at commit: on PostgreSQL a smaller id can commit
 * after a larger one. The cursor therefore stops below the first missing id, the events past it
 * are handed out once (a set of the ids seen), and a missing id is waited for `gapWaitMs` before
 * the cursor moves past it (a rolled-back insert leaves a hole for ever).
 */
export class EventTail {
  private readonly listeners = new Set<(events: LifecycleEvent[]) => void>();
  private cursor: number | undefined;
  private readonly seen = new Set<number>();
  private readonly gaps = new Map<number, number>();
  private cancelTimer: (() => void) | undefined;
  private unsubscribe: (() => void) | undefined;
  private reading = false;
  private again = false;
  private readonly pollMs: number;
  private readonly batch: number;
  private readonly gapWaitMs: number;

  constructor(private readonly options: EventTailOptions) {
    this.pollMs = options.pollMs ?? LIMITS.eventTailPollMs;
    this.batch = options.batch ?? LIMITS.eventTailBatch;
    this.gapWaitMs = options.gapWaitMs ?? LIMITS.eventTailGapWaitMs;
  }

  /** Subscribers right now. */
  get size(): number {
    return this.listeners.size;
  }

  /**
   * Calls `listener` with each batch of new events (in id order within a batch); returns the
   * unsubscribe and the id the tail starts after (events up to it are the caller's to read).
   */
  async subscribe(listener: (events: LifecycleEvent[]) => void): Promise<{ stop: () => void; from: number }> {
    if (this.cursor === undefined) this.cursor = await this.options.events.lastEventId();
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.start();
    const from = Math.max(this.cursor, ...this.seen);
    return {
      from,
      stop: () => {
        this.listeners.delete(listener);
        if (this.listeners.size === 0) this.stop();
      },
    };
  }

  /** Reads the store now (also what the timer and the signal call). */
  async poll(): Promise<void> {
    if (this.listeners.size === 0 || this.cursor === undefined) return;
    // One read at a time; a wake-up during a read asks for one more after it.
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    try {
      do {
        this.again = false;
        await this.read();
      } while (this.again && this.listeners.size > 0);
    } catch (err) {
      this.options.log?.warn({ err: { message: (err as Error).message } }, 'event tail: store unavailable');
    } finally {
      this.reading = false;
    }
  }

  private async read(): Promise<void> {
    let after = this.cursor ?? 0;
    const fresh: LifecycleEvent[] = [];
    for (let page = 0; page < 10; page++) {
      const events = await this.options.events.list({ afterId: after, limit: this.batch });
      for (const e of events) {
        if (e.id <= (this.cursor ?? 0) || this.seen.has(e.id)) continue;
        this.seen.add(e.id);
        fresh.push(e);
      }
      const last = events.at(-1);
      if (!last || events.length < this.batch) break;
      after = last.id;
    }
    this.advance();
    if (fresh.length === 0) return;
    fresh.sort((a, b) => a.id - b.id);
    for (const listener of [...this.listeners]) {
      try {
        listener(fresh);
      } catch {
        // A subscriber's failure is its own.
      }
    }
  }

  /** Moves the cursor over ids seen, and over holes waited for long enough. */
  private advance(): void {
    let cursor = this.cursor ?? 0;
    const now = this.options.clock.now();
    const highest = Math.max(cursor, ...this.seen);
    while (cursor < highest) {
      const next = cursor + 1;
      if (this.seen.delete(next)) {
        this.gaps.delete(next);
        cursor = next;
        continue;
      }
      const since = this.gaps.get(next);
      if (since === undefined) this.gaps.set(next, now);
      if (since !== undefined && now - since >= this.gapWaitMs) {
        this.gaps.delete(next);
        cursor = next;
        continue;
      }
      break;
    }
    // Bounded memory: holes beyond the newest thousand are given up.
    if (this.gaps.size > 1000 || this.seen.size > 10 * this.batch) {
      cursor = highest;
      this.seen.clear();
      this.gaps.clear();
    }
    for (const id of this.gaps.keys()) if (id <= cursor) this.gaps.delete(id);
    this.cursor = cursor;
  }

  private start(): void {
    const arm = () => {
      this.cancelTimer = this.options.setTimer(() => {
        void this.poll().finally(() => {
          if (this.listeners.size > 0) arm();
        });
      }, this.pollMs);
    };
    arm();
    this.unsubscribe = this.options.signal?.subscribe(() => void this.poll());
  }

  private stop(): void {
    this.cancelTimer?.();
    this.unsubscribe?.();
    this.cancelTimer = this.unsubscribe = undefined;
    // Next time, start from the newest event again.
    this.cursor = undefined;
    this.seen.clear();
    this.gaps.clear();
  }
}
