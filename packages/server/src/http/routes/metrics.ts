import { createHash, timingSafeEqual } from 'node:crypto';
import { TesseraError } from '@tessera/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TesseraContext } from '../../domain/context.js';
import { sendError } from '../error-handler.js';

/** The path of the Prometheus endpoint, on the main listener or on the metrics port. */
export const METRICS_PATH = '/metrics';

/** Headers a proxy adds: a request that carries one came through a proxy, so not from this machine. */
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'] as const;

export interface MetricsRouteOptions {
  /**
   * Without a token, answer only requests from this machine (the main listener: anyone who can
   * reach the API must not read its metrics). The separate metrics port is reachable only where
   * the operator binds it, so it does not need this.
   */
  loopbackOnly: boolean;
}

/**
 * `GET /metrics`, Prometheus text. With `metricsToken` set, every request must carry
 * `Authorization: Bearer <token>` (compared in constant time); without it, on the main listener,
 * only loopback peers that did not come through a proxy are answered.
 */
export function metricsRoute(app: FastifyInstance, ctx: TesseraContext, options: MetricsRouteOptions): void {
  const token = ctx.config.metricsToken;
  const expected = token === undefined ? undefined : digest(token);
  app.get(METRICS_PATH, async (request, reply) => {
    if (expected !== undefined) {
      const refusal = checkBearer(request, expected);
      if (refusal) return refuse(reply, refusal);
    } else if (options.loopbackOnly && !isLocal(request)) {
      return sendError(
        reply,
        new TesseraError(
          'forbidden',
          'Metrics are served to this machine only unless a metrics token is set',
        ),
      );
    }
    ctx.metrics.signingKeyAge.set(ctx.keyRing.currentAge() / 1000);
    reply.header('cache-control', 'no-store');
    reply.type(ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });
}

function checkBearer(request: FastifyRequest, expected: Buffer): TesseraError | undefined {
  const presented = /^Bearer ([\x21-\x7E]+)$/.exec(request.headers.authorization ?? '')?.[1];
  if (presented === undefined)
    return new TesseraError('access_token_missing', 'Send the metrics token as Bearer');
  // Digests of equal length, so the comparison takes the same time whatever was sent.
  if (!timingSafeEqual(digest(presented), expected)) {
    return new TesseraError('access_token_invalid', 'The metrics token is wrong');
  }
  return undefined;
}

function refuse(reply: FastifyReply, err: TesseraError): void {
  const challenge =
    err.code === 'access_token_missing'
      ? 'Bearer realm="tessera-metrics"'
      : 'Bearer realm="tessera-metrics", error="invalid_token"';
  reply.header('www-authenticate', challenge);
  sendError(reply, err);
}

/** The TCP peer is this machine and no proxy header says it forwards someone else. */
function isLocal(request: FastifyRequest): boolean {
  if (FORWARDING_HEADERS.some((h) => request.headers[h] !== undefined)) return false;
  const peer = request.raw.socket.remoteAddress ?? '';
  return peer === '::1' || /^(::ffff:)?127\./.test(peer);
}

const digest = (value: string) => createHash('sha256').update(value).digest();
