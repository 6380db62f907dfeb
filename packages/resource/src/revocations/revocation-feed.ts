import type { RevocationNotice } from '@tessera/protocol';
import { type Clock, encodeBasicCredentials, REVOCATION_FEED_METADATA } from '@tessera/protocol';
import type { Logger } from '../core/logger.js';
import { type FetchLike, readJsonCapped } from '../metadata/fetch-json.js';
import { SseParser } from './parse-sse.js';
import { parseRevocationNotice, type RevocationSet } from './revocation-set.js';

/** Where the feed stands. */
export type RevocationFeedState =
  /** Not configured (no client credentials, or `revocations: false`). */
  | 'disabled'
  /** Configured, `start()` not called yet. */
  | 'idle'
  /** Loading the snapshot or opening the stream. */
  | 'connecting'
  /** The stream is open: revocations arrive within moments. */
  | 'connected'
  /** The stream is down; serving with what is known while waiting to reconnect. */
  | 'reconnecting'
  /** `stop()` was called. */
  | 'stopped';

/** A snapshot of the feed, for health checks and dashboards. Holds no token or secret. */
export interface RevocationFeedStatus {
  state: RevocationFeedState;
  /** The last sequence number applied; sent as `Last-Event-ID` when resuming. */
  lastEventId: number | undefined;
  /** Failed attempts since the last successful connection. */
  attempts: number;
  /** Epoch ms of the last successful connection, the last event and the last disconnection. */
  connectedAt: number | undefined;
  lastEventAt: number | undefined;
  disconnectedAt: number | undefined;
  /** Epoch ms of the next reconnect attempt while `reconnecting`. */
  nextAttemptAt: number | undefined;
  /** Why the last connection failed or ended. */
  lastError: string | undefined;
  /** Live revocations remembered. */
  revoked: { families: number; jtis: number };
}

export interface RevocationFeedOptions {
  /** The feed URL (from metadata `tessera_revocations_endpoint`, or configured). */
  endpoint: () => Promise<string | undefined>;
  clientId: string;
  clientSecret: string;
  set: RevocationSet;
  fetch: FetchLike;
  clock: Clock;
  logger: Logger;
  reconnectInitialMs: number;
  reconnectMaxMs: number;
  /** A stream silent for this long is presumed dead and reopened (0 turns it off). */
  idleTimeoutMs: number;
  maxLineBytes: number;
  maxSnapshotBytes: number;
  timeoutMs: number;
  /** Returns a number in [0, 1) for jitter; injectable for tests. */
  random: () => number;
  onStatus: ((status: RevocationFeedStatus) => void) | undefined;
  onNotice: ((notice: RevocationNotice) => void) | undefined;
}

/**
 * Keeps a `RevocationSet` in step with the authorization server's feed: a JSON snapshot
 * first, then the SSE stream resumed with `Last-Event-ID`. When the stream is down it retries
 * with exponential backoff and jitter while the middleware keeps serving with what it knows.
 */
export class RevocationFeed {
  readonly #o: RevocationFeedOptions;
  #state: RevocationFeedState = 'idle';
  #lastSeq: number | undefined;
  #attempts = 0;
  #connectedAt: number | undefined;
  #lastEventAt: number | undefined;
  #disconnectedAt: number | undefined;
  #nextAttemptAt: number | undefined;
  #lastError: string | undefined;
  #abort: AbortController | undefined;
  /** Aborted by `stop()`, so no request of a stopped feed outlives it. */
  readonly #life = new AbortController();
  #wake: (() => void) | undefined;
  #synced: Promise<void>;
  #resolveSynced: () => void = () => {};

  constructor(opts: RevocationFeedOptions) {
    this.#o = opts;
    this.#synced = new Promise((resolve) => {
      this.#resolveSynced = resolve;
    });
  }

  /** Starts the background loop; idempotent. */
  start(): void {
    if (this.#state !== 'idle') return;
    this.#setState('connecting');
    void this.#run();
  }

  /** Stops the loop and closes the stream. */
  stop(): void {
    if (this.#state === 'stopped') return;
    this.#setState('stopped');
    this.#life.abort();
    this.#abort?.abort();
    this.#wake?.();
    this.#resolveSynced();
  }

  /** Resolves once the first snapshot is applied (or the feed is stopped). */
  synced(): Promise<void> {
    return this.#synced;
  }

  status(): RevocationFeedStatus {
    return {
      state: this.#state,
      lastEventId: this.#lastSeq,
      attempts: this.#attempts,
      connectedAt: this.#connectedAt,
      lastEventAt: this.#lastEventAt,
      disconnectedAt: this.#disconnectedAt,
      nextAttemptAt: this.#nextAttemptAt,
      lastError: this.#lastError,
      revoked: this.#o.set.size,
    };
  }

  #setState(state: RevocationFeedState): void {
    if (this.#state === state && state !== 'reconnecting') return;
    this.#state = state;
    const status = this.status();
    const log = {
      state,
      lastEventId: status.lastEventId,
      attempts: status.attempts,
      error: status.lastError,
    };
    if (state === 'reconnecting')
      this.#o.logger.warn(log, 'tessera-resource: revocation feed down, reconnecting');
    else this.#o.logger.info(log, `tessera-resource: revocation feed ${state}`);
    try {
      this.#o.onStatus?.(status);
    } catch (err) {
      this.#o.logger.error({ err: String(err) }, 'tessera-resource: onStatus hook threw');
    }
  }

  get #stopped(): boolean {
    return this.#state === 'stopped';
  }

  async #run(): Promise<void> {
    const endpoint = await this.#o.endpoint().catch(() => undefined);
    if (endpoint === undefined) {
      if (this.#stopped) return;
      this.#lastError = `the issuer publishes no ${REVOCATION_FEED_METADATA} (or metadata is unavailable)`;
      this.#o.logger.error({ error: this.#lastError }, 'tessera-resource: revocation feed disabled');
      this.#setState('disabled');
      this.#resolveSynced();
      return;
    }
    while (!this.#stopped) {
      try {
        if (this.#lastSeq === undefined) await this.#snapshot(endpoint);
        await this.#stream(endpoint);
        this.#lastError = 'stream ended';
      } catch (err) {
        this.#lastError = err instanceof Error ? err.message : String(err);
      }
      if (this.#stopped) return;
      this.#disconnectedAt = this.#o.clock.now();
      this.#attempts++;
      const delay = this.#backoff();
      this.#nextAttemptAt = this.#o.clock.now() + delay;
      this.#setState('reconnecting');
      await this.#sleep(delay);
      this.#nextAttemptAt = undefined;
    }
  }

  /** Equal jitter: half the exponential step fixed, half random, so instances spread out. */
  #backoff(): number {
    const step = Math.min(
      this.#o.reconnectMaxMs,
      this.#o.reconnectInitialMs * 2 ** Math.min(this.#attempts - 1, 30),
    );
    return Math.round(step / 2 + (this.#o.random() * step) / 2);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      (timer as { unref?: () => void }).unref?.();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  #headers(accept: string): Record<string, string> {
    return { accept, authorization: encodeBasicCredentials(this.#o.clientId, this.#o.clientSecret) };
  }

  async #snapshot(endpoint: string): Promise<void> {
    const res = await this.#o.fetch(endpoint, {
      headers: this.#headers('application/json'),
      signal: AbortSignal.any([this.#life.signal, AbortSignal.timeout(this.#o.timeoutMs)]),
      redirect: 'error',
    });
    if (!res.ok) throw new Error(`snapshot answered HTTP ${res.status}`);
    const body = (await readJsonCapped(res, this.#o.maxSnapshotBytes)) as {
      seq?: unknown;
      notices?: unknown;
    };
    if (typeof body?.seq !== 'number' || !Array.isArray(body.notices)) throw new Error('malformed snapshot');
    const now = this.#o.clock.now();
    this.#lastSeq = body.seq;
    for (const raw of body.notices) {
      const notice = parseRevocationNotice(raw);
      if (notice) this.#accept(notice, now);
    }
    this.#lastEventAt = now;
    this.#resolveSynced();
  }

  async #stream(endpoint: string): Promise<void> {
    const abort = new AbortController();
    this.#abort = abort;
    if (this.#stopped) abort.abort();
    const headers = this.#headers('text/event-stream');
    if (this.#lastSeq !== undefined) headers['last-event-id'] = String(this.#lastSeq);
    const res = await this.#o.fetch(endpoint, { headers, signal: abort.signal, redirect: 'error' });
    if (!res.ok || res.body === null) {
      await res.body?.cancel().catch(() => {});
      throw new Error(`stream answered HTTP ${res.status}`);
    }
    if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      await res.body.cancel().catch(() => {});
      throw new Error('stream answered a content type other than text/event-stream');
    }
    this.#attempts = 0;
    this.#connectedAt = this.#o.clock.now();
    this.#lastError = undefined;
    this.#setState('connected');

    const parser = new SseParser(this.#o.maxLineBytes);
    const decoder = new TextDecoder();
    const reader = res.body.getReader();
    let idle: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      if (this.#o.idleTimeoutMs <= 0) return;
      if (idle !== undefined) clearTimeout(idle);
      idle = setTimeout(() => abort.abort(new Error('stream idle for too long')), this.#o.idleTimeoutMs);
      (idle as { unref?: () => void }).unref?.();
    };
    try {
      arm();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        arm();
        for (const event of parser.push(decoder.decode(value, { stream: true })))
          this.#apply(event.data, event.id);
      }
    } catch (err) {
      if (abort.signal.aborted && abort.signal.reason instanceof Error) throw abort.signal.reason;
      throw err;
    } finally {
      if (idle !== undefined) clearTimeout(idle);
      reader.cancel().catch(() => {});
    }
  }

  #apply(data: string, id: string | undefined): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      this.#o.logger.warn({}, 'tessera-resource: revocation feed sent an unreadable event');
      return;
    }
    const notice = parseRevocationNotice(parsed);
    if (!notice) {
      this.#o.logger.warn({}, 'tessera-resource: revocation feed sent a malformed notice');
      return;
    }
    const now = this.#o.clock.now();
    this.#lastEventAt = now;
    const seq = id !== undefined && /^\d+$/.test(id) ? Math.max(Number(id), notice.seq) : notice.seq;
    if (this.#lastSeq === undefined || seq > this.#lastSeq) this.#lastSeq = seq;
    this.#accept(notice, now);
  }

  #accept(notice: RevocationNotice, now: number): void {
    this.#o.set.add(notice, now);
    try {
      this.#o.onNotice?.(notice);
    } catch (err) {
      this.#o.logger.error({ err: String(err) }, 'tessera-resource: onRevocation hook threw');
    }
  }
}
