import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { type LifecycleEvent, TesseraError } from '@tessera/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LIMITS } from '../config/limits.js';
import type { TesseraContext } from '../domain/context.js';
import { signedInAdmin } from './admin-auth.js';
import { findUser, intParam, query } from './admin-params.js';
import { EXPORT_FORMATS, type ExportFormat, exportLines } from './event-export.js';
import { type EventTail, matchesTail, type TailFilter } from './event-tail.js';
import { deviceOf } from './session-view.js';

const MAX_ID = Number.MAX_SAFE_INTEGER;

/** The filters of the events list, stream and export, from the query string. */
async function eventFilterOf(
  ctx: TesseraContext,
  q: Record<string, string | undefined>,
): Promise<TailFilter> {
  return {
    ...(q.type ? { type: q.type } : {}),
    ...(q.client ? { clientId: q.client } : {}),
    ...(q.session ? { familyId: q.session } : {}),
    // An unknown user matches nothing (their id as given never equals a stored one by accident).
    ...(q.user ? { userId: (await findUser(ctx, q.user))?.id ?? q.user } : {}),
  };
}

function timeRangeOf(q: Record<string, string | undefined>): { from?: number; to?: number } {
  const from = q.from === undefined ? undefined : intParam(q.from, 0, 0, MAX_ID);
  const to = q.to === undefined ? undefined : intParam(q.to, 0, 0, MAX_ID);
  if (from !== undefined && to !== undefined && to <= from) {
    throw new TesseraError('invalid_request', '`to` must be after `from`');
  }
  return { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
}

/** An event as the admin API shows it: as stored, plus the device its user agent names. */
export function eventView(e: LifecycleEvent): LifecycleEvent & { device?: string } {
  const ua = e.data?.userAgent;
  const device = typeof ua === 'string' ? deviceOf(ua) : null;
  return device === null ? e : { ...e, device };
}

interface Stream {
  res: ServerResponse;
  filter: TailFilter;
  adminId: string;
  lastId: number;
  queue: string[];
  blocked: boolean;
  live: boolean;
  closed: boolean;
  cancelHeartbeat?: () => void;
  stop?: () => void;
}

/**
 * `GET /events` (a page), `GET /events/stream` (the live tail over Server-Sent Events) and
 * `GET /events/export` (NDJSON or CSV of a filtered range, streamed).
 */
export function eventRoutes(app: FastifyInstance, ctx: TesseraContext, tail: EventTail): void {
  const streams = new Set<Stream>();

  app.get('/events', async (request) => {
    const q = query(request);
    const limit = intParam(q.limit, 100, 1, 1000);
    if (q.order !== undefined && q.order !== 'asc' && q.order !== 'desc') {
      throw new TesseraError('invalid_request', '`order` must be `asc` or `desc`');
    }
    const events = await ctx.stores.events.list({
      limit,
      ...(await eventFilterOf(ctx, q)),
      ...timeRangeOf(q),
      ...(q.after ? { afterId: intParam(q.after, 0, 0, MAX_ID) } : {}),
      ...(q.before ? { beforeId: intParam(q.before, 0, 0, MAX_ID) } : {}),
      ...(q.order ? { order: q.order } : {}),
    });
    return {
      items: events.map(eventView),
      next: events.length === limit ? (events.at(-1)?.id ?? null) : null,
    };
  });

  const frame = (e: LifecycleEvent) =>
    `id: ${e.id}\nevent: lifecycle\ndata: ${JSON.stringify(eventView(e))}\n\n`;

  const close = (s: Stream) => {
    if (s.closed) return;
    s.closed = true;
    s.stop?.();
    s.cancelHeartbeat?.();
    streams.delete(s);
    s.res.end();
  };

  /** Writes, or queues while the socket is full; a reader that falls too far behind is cut off. */
  const write = (s: Stream, text: string) => {
    if (s.closed) return;
    if (s.blocked) {
      s.queue.push(text);
      if (s.queue.length > LIMITS.eventStreamBufferMax) {
        // Told where it stopped; EventSource reconnects with Last-Event-ID and catches up.
        s.res.write(`event: overflow\ndata: ${JSON.stringify({ lastId: s.lastId })}\n\n`);
        close(s);
      }
      return;
    }
    if (!s.res.write(text)) s.blocked = true;
  };

  const deliver = (s: Stream, events: readonly LifecycleEvent[]) => {
    for (const e of events) {
      if (e.id <= s.lastId || !matchesTail(s.filter, e)) continue;
      write(s, frame(e));
      // The id of the last event queued: what an overflow says to resume after.
      s.lastId = e.id;
    }
  };

  app.addHook('preClose', async () => {
    for (const s of [...streams]) close(s);
  });

  app.get('/events/stream', async (request, reply) => {
    const q = query(request);
    const filter = await eventFilterOf(ctx, q);
    const resume = resumeIdOf(request, q.after);
    const adminId = signedInAdmin(request).userId;
    // A plain request (a script, HEAD, a proxy's probe) gets a snapshot instead of a stream that
    // never ends: the newest event id to tail from, and what follows the resume id.
    if (request.method !== 'GET' || !request.headers.accept?.includes('text/event-stream')) {
      const lastEventId = await ctx.stores.events.lastEventId();
      const items =
        resume === undefined ? [] : await ctx.stores.events.list({ ...filter, afterId: resume, limit: 100 });
      return reply.send({ lastEventId, items: items.map(eventView) });
    }

    if (streams.size >= LIMITS.eventStreamsMax) {
      throw new TesseraError('rate_limited', 'Too many event streams are open on this server', {
        retryAfter: 5,
      });
    }
    if ([...streams].filter((s) => s.adminId === adminId).length >= LIMITS.eventStreamsPerAdminMax) {
      throw new TesseraError('rate_limited', 'Too many event streams are open for this admin; close a tab', {
        retryAfter: 5,
      });
    }

    reply.hijack();
    const res = reply.raw;
    // A hijacked reply skips Fastify's hooks: the stream states its own headers.
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${LIMITS.feedRetryMs}\n: tessera events\n\n`);
    const s: Stream = {
      res,
      filter,
      adminId,
      lastId: resume ?? 0,
      queue: [],
      blocked: false,
      live: false,
      closed: false,
    };
    streams.add(s);
    res.on('drain', () => {
      s.blocked = false;
      while (!s.blocked) {
        const next = s.queue.shift();
        if (next === undefined) break;
        if (!res.write(next)) s.blocked = true;
      }
    });
    request.raw.on('close', () => close(s));
    res.on('error', () => close(s));

    // Live events wait until the catch-up from the store is written, then follow it.
    const early: LifecycleEvent[] = [];
    try {
      const sub = await tail.subscribe((events) => {
        if (s.live) deliver(s, events);
        else early.push(...events);
      });
      s.stop = sub.stop;
      if (s.closed) return sub.stop();
      if (resume === undefined) s.lastId = sub.from;
      else {
        let after = resume;
        for (let read = 0; read < LIMITS.eventStreamCatchUpMax && after < sub.from && !s.closed; ) {
          const page = await ctx.stores.events.list({
            ...filter,
            afterId: after,
            limit: LIMITS.eventTailBatch,
          });
          deliver(s, page);
          read += page.length;
          const last = page.at(-1);
          if (!last || page.length < LIMITS.eventTailBatch) break;
          after = last.id;
        }
      }
      s.live = true;
      deliver(s, early);
    } catch (err) {
      ctx.log.warn({ err: { message: (err as Error).message } }, 'event stream: store unavailable');
      close(s);
      return;
    }
    const beat = () => {
      s.cancelHeartbeat = ctx.setTimer(() => {
        if (s.closed) return;
        write(s, ': heartbeat\n\n');
        beat();
      }, LIMITS.eventStreamHeartbeatMs);
    };
    beat();
  });

  app.get('/events/export', async (request, reply) => {
    const q = query(request);
    const format = (q.format ?? 'ndjson') as ExportFormat;
    if (!EXPORT_FORMATS.includes(format)) {
      throw new TesseraError('invalid_request', `format: ${EXPORT_FORMATS.join(' or ')}`);
    }
    const filter = { ...(await eventFilterOf(ctx, q)), ...timeRangeOf(q) };
    const stamp = new Date(ctx.clock.now()).toISOString().replace(/[:.]/g, '-');
    reply
      .header(
        'content-type',
        format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      )
      .header('content-disposition', `attachment; filename="tessera-events-${stamp}.${format}"`)
      .header('x-content-type-options', 'nosniff');
    return reply.send(Readable.from(exportLines(ctx.stores.events, filter, format)));
  });
}

function resumeIdOf(request: FastifyRequest, after: string | undefined): number | undefined {
  const header = request.headers['last-event-id'];
  const raw = typeof header === 'string' && header !== '' ? header : after;
  if (raw === undefined) return undefined;
  if (!/^\d{1,15}$/.test(raw)) throw new TesseraError('invalid_request', 'Last-Event-ID must be an event id');
  return Number(raw);
}
