import type { ServerResponse } from 'node:http';
import { ENDPOINTS, type RevocationNotice, TesseraError } from '@tessera/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LIMITS } from '../../config/limits.js';
import { requireClient } from '../../domain/authenticate-client.js';
import type { TesseraContext } from '../../domain/context.js';
import type { RevocationRecord } from '../../ports/index.js';

const toNotice = (r: RevocationRecord): RevocationNotice => ({
  seq: r.seq,
  kind: r.kind,
  value: r.value,
  exp: Math.ceil(r.expiresAt / 1000),
});

interface Subscriber {
  res: ServerResponse;
  lastSeq: number;
}

/**
 * `GET /oauth/revocations`: revoked sessions and access-token ids for resource
 * servers. `Accept: application/json` answers a snapshot `{seq, notices}`; `text/event-stream`
 * streams every notice after `Last-Event-ID` (or all live ones), then new ones as they are
 * written, by this instance or another one sharing the store, with keep-alive comments. The
 * stream reads the store every `revocationFeedPoll` seconds, and at once when the revocation
 * signal says a notice was written (here, or on any instance sharing the signal).
 * Resource-server clients only (`--resource-server`).
 */
export function revocationRoutes(app: FastifyInstance, ctx: TesseraContext) {
  const subscribers = new Set<Subscriber>();
  let pollTimer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  let keepalive: NodeJS.Timeout | undefined;

  const send = (sub: Subscriber, notices: RevocationRecord[]) => {
    for (const n of notices) {
      if (n.seq <= sub.lastSeq) continue;
      sub.res.write(`id: ${n.seq}\ndata: ${JSON.stringify(toNotice(n))}\n\n`);
      sub.lastSeq = n.seq;
    }
  };

  let polling = false;
  let again = false;
  const poll = async () => {
    if (subscribers.size === 0) return;
    // One read at a time; a signal that comes during a read asks for one more after it.
    if (polling) {
      again = true;
      return;
    }
    polling = true;
    try {
      do {
        again = false;
        await readFresh();
      } while (again && subscribers.size > 0);
    } finally {
      polling = false;
    }
  };

  const readFresh = async () => {
    const from = Math.min(...[...subscribers].map((s) => s.lastSeq));
    try {
      const fresh = await ctx.stores.revocationFeed.listRevocations(
        from,
        ctx.clock.now(),
        LIMITS.revocationPollBatch,
      );
      for (const sub of subscribers) send(sub, fresh);
    } catch (err) {
      ctx.log.warn({ err: { message: (err as Error).message } }, 'revocation feed: store unavailable');
    }
  };

  const startTimers = () => {
    if (pollTimer) return;
    pollTimer = setInterval(() => void poll(), ctx.config.revocationFeedPoll * 1000);
    // A revocation here or on another instance (a shared signal) is read at once; the poll
    // stays, for a signal that is lost or a signal bus that is down.
    unsubscribe = ctx.revocationSignal.subscribe(() => void poll());
    keepalive = setInterval(() => {
      for (const sub of subscribers) sub.res.write(': keepalive\n\n');
    }, ctx.config.revocationFeedKeepalive * 1000);
    pollTimer.unref();
    keepalive.unref();
  };
  const stopTimers = () => {
    clearInterval(pollTimer);
    clearInterval(keepalive);
    unsubscribe?.();
    pollTimer = keepalive = unsubscribe = undefined;
  };

  // preClose: an open stream would keep the server from closing (it waits for every request).
  app.addHook('preClose', async () => {
    stopTimers();
    for (const sub of subscribers) sub.res.end();
    subscribers.clear();
  });

  app.get(ENDPOINTS.revocationFeed, async (request, reply) => {
    const { client, method } = await requireClient(ctx, {
      authorization: request.headers.authorization,
      ip: request.ip,
    });
    if (method === 'none' || !client.introspectAny) {
      throw new TesseraError('forbidden', 'Only resource-server clients may read the revocation feed');
    }
    const after = lastEventId(request);
    const backlog = await ctx.stores.revocationFeed.listRevocations(
      after,
      ctx.clock.now(),
      LIMITS.revocationBacklogMax,
    );

    if (!request.headers.accept?.includes('text/event-stream')) {
      const seq = backlog.at(-1)?.seq ?? after;
      return reply.send({ seq, notices: backlog.map(toNotice) });
    }

    reply.hijack();
    const res = reply.raw;
    // A hijacked reply skips Fastify's hooks: this stream states its own no-store.
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${LIMITS.feedRetryMs}\n: tessera revocation feed\n\n`);
    const sub: Subscriber = { res, lastSeq: after };
    send(sub, backlog);
    subscribers.add(sub);
    startTimers();
    request.raw.on('close', () => {
      subscribers.delete(sub);
      if (subscribers.size === 0) stopTimers();
    });
  });
}

function lastEventId(request: FastifyRequest): number {
  const header = request.headers['last-event-id'];
  const query = (request.query as Record<string, string | undefined>).after;
  const raw = typeof header === 'string' ? header : query;
  if (raw === undefined) return 0;
  if (!/^\d{1,15}$/.test(raw))
    throw new TesseraError('invalid_request', 'Last-Event-ID must be a sequence number');
  return Number(raw);
}
