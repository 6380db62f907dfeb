import { TesseraError } from '@tessera/protocol';
import type { FastifyInstance } from 'fastify';
import { recordEvents, type TesseraContext } from '../domain/context.js';
import { hasErrorCode } from '../errors.js';
import { bodyOfType } from '../http/parse-body.js';
import { COUNTER_NAMES, MINUTE_MS, minuteOf } from '../observability/minute-counters.js';
import type { KeyRecord } from '../ports/index.js';
import { signedInAdmin } from './admin-auth.js';
import { reasonOf } from './admin-params.js';

/** The signing-key rings the dashboard shows, with the access-token format each one signs. */
export const KEY_RINGS = { jwt: 'jwt', paseto: 'paseto' } as const;
export type KeyRingName = keyof typeof KEY_RINGS;

/** The longest access-token lifetime of any client (ms): how long a key's last token verifies. */
async function longestAccessTtlMs(ctx: TesseraContext): Promise<number> {
  const clients = await ctx.stores.directory.listClients();
  return Math.max(ctx.config.accessTokenTtl, ...clients.map((c) => c.accessTokenTtl ?? 0)) * 1000;
}

/**
 * How many access tokens a key still verifies, estimated from the per-minute count of access
 * tokens issued in its format: those issued while it was the current key (from its activation to
 * its retirement) and within the longest access-token lifetime before now. Whole minutes are
 * counted, so the estimate errs high by at most the tokens of the two edge minutes; tokens
 * revoked since are still counted (a revoked token is refused by its `jti` or session, not by
 * its signature). A `next` key has signed nothing.
 */
export function estimateVerifiable(
  key: Pick<KeyRecord, 'state' | 'activatedAt' | 'retiredAt'>,
  issuedPerMinute: ReadonlyMap<number, number>,
  now: number,
  ttlMs: number,
): number {
  if (key.state === 'next' || key.activatedAt === null) return 0;
  const from = Math.max(key.activatedAt, now - ttlMs);
  const to = Math.min(key.retiredAt ?? now, now);
  if (to < from) return 0;
  let n = 0;
  for (const [minute, count] of issuedPerMinute) {
    if (minute + MINUTE_MS > from && minute <= to) n += count;
  }
  return n;
}

/** `GET /keys` (every ring's keys, their age and the tokens they still verify) and `POST /keys/rotate`. */
export function keyRoutes(app: FastifyInstance, ctx: TesseraContext): void {
  app.get('/keys', async () => {
    const now = ctx.clock.now();
    const ttlMs = await longestAccessTtlMs(ctx);
    const rows = await ctx.stores.counters.readCounts({
      from: minuteOf(now - ttlMs),
      to: minuteOf(now) + MINUTE_MS,
      names: [COUNTER_NAMES.accessTokens],
    });
    rows.push(
      ...ctx.counters
        .unflushed(minuteOf(now - ttlMs), minuteOf(now) + MINUTE_MS)
        .filter((r) => r.name === COUNTER_NAMES.accessTokens),
    );
    const items = [];
    for (const [ring, format] of Object.entries(KEY_RINGS)) {
      const perMinute = new Map<number, number>();
      for (const r of rows)
        if (r.label === format) perMinute.set(r.minute, (perMinute.get(r.minute) ?? 0) + r.count);
      for (const k of await ctx.stores.keys.listKeys(ring)) {
        items.push({
          ring,
          kid: k.kid,
          alg: k.alg,
          state: k.state,
          createdAt: k.createdAt,
          activatedAt: k.activatedAt,
          retiredAt: k.retiredAt,
          ageSeconds: Math.floor((now - (k.activatedAt ?? k.createdAt)) / 1000),
          verifiableTokens: estimateVerifiable(k, perMinute, now, ttlMs),
          verifiesUntil: k.state === 'retired' && k.retiredAt !== null ? k.retiredAt + ttlMs : null,
        });
      }
    }
    return { items };
  });

  app.post('/keys/rotate', async (request) => {
    const reason = reasonOf(request);
    const params = bodyOfType(request, 'application/json');
    const ring = params.ring ?? 'jwt';
    const keyRing = ctx.keyRings.get(ring);
    if (!(ring in KEY_RINGS) || !keyRing) {
      throw new TesseraError('invalid_request', `ring: one of ${Object.keys(KEY_RINGS).join(', ')}`);
    }
    if (params.force !== undefined && params.force !== 'true' && params.force !== 'false') {
      throw new TesseraError('invalid_request', 'force: "true" or "false"');
    }
    const admin = signedInAdmin(request);
    const previous = keyRing.current().kid;
    const { kid, rotated } = await keyRing.rotate({ force: params.force === 'true' }).catch((err: Error) => {
      // The next key may not be in every JWKS cache yet: rotating now would refuse valid tokens.
      if (hasErrorCode(err, 'ERR_TESSERA_KEY_ROTATION_TOO_SOON')) {
        throw new TesseraError('rate_limited', `${err.message} (send "force": "true")`, { retryAfter: 60 });
      }
      throw err;
    });
    if (rotated) {
      await recordEvents(ctx, [
        {
          at: ctx.clock.now(),
          type: 'key.rotated',
          reason: 'admin',
          data: { admin: admin.username, reason, target: { ring, from: previous, to: kid } },
        },
      ]);
    }
    const keys = keyRing.list();
    return {
      ring,
      rotated,
      previous,
      current: kid,
      next: keys.find((k) => k.state === 'next')?.kid ?? null,
    };
  });
}
