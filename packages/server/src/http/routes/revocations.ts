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
 * written, by this instance or another one sharing the store, with keep-alive comments.
 * Resource-server clients only (`--resource-server`).
 */
export function revocationRoutes(app: FastifyInstance, ctx: TesseraContext) {
  const subscribers = new Set<Subscriber>();
  let polling: NodeJS.Timeout | undefined;
  let keepalive: NodeJS.Timeout | undefined;

  const send = (sub: Subscriber, notices: RevocationRecord[]) => {
    for (const n of notices) {
      if (n.seq <= sub.lastSeq) continue;
      sub.res.write(`id: ${n.seq}\ndata: ${JSON.stringify(toNotice(n))}\n\n`);
      sub.lastSeq = n.seq;
    }
  };

  const poll = async () => {
    if (subscribers.size === 0) return;
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
    if (polling) return;
    polling = setInterval(() => void poll(), ctx.config.revocationFeedPoll * 1000);
    keepalive = setInterval(() => {
      for (const sub of subscribers) sub.res.write(': keepalive\n\n');
    }, ctx.config.revocationFeedKeepalive * 1000);
    polling.unref();
    keepalive.unref();
  };
  const stopTimers = () => {
    clearInterval(polling);
    clearInterval(keepalive);
    polling = keepalive = undefined;
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
