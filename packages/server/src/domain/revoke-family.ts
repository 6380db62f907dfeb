import type { ClientRecord, FamilyRecord } from '../ports/index.js';
import { clientPolicy, LEEWAY_MS, recordEvents, type TesseraContext } from './context.js';

/**
 * Ends a session: the family and all its refresh tokens are revoked, and resource servers are
 * told (through the revocation feed) to refuse its access tokens. Idempotent.
 *
 * @param initiator who asked: `user` (logout), `client` (RFC 7009), `admin`, `system` (reuse).
 */
export async function revokeFamily(
  ctx: TesseraContext<'sessions' | 'directory' | 'events'>,
  family: FamilyRecord,
  reason: string,
  initiator: string,
  client?: ClientRecord | null,
): Promise<boolean> {
  const now = ctx.clock.now();
  const owner = client ?? (await ctx.stores.directory.findClient(family.clientId));
  const accessTtl = owner
    ? clientPolicy(ctx.config, owner).accessTokenTtlMs
    : ctx.config.accessTokenTtl * 1000;
  const changed = await ctx.stores.sessions.revokeFamily(family.id, {
    reason,
    now,
    noticeUntil: now + accessTtl + LEEWAY_MS,
  });
  if (changed) {
    ctx.metrics.revocations.inc({ reason });
    await recordEvents(ctx, [
      {
        at: now,
        type: 'session.ended',
        familyId: family.id,
        userId: family.userId,
        clientId: family.clientId,
        reason,
        data: { initiator, generation: family.generation },
      },
    ]);
  }
  return changed;
}
