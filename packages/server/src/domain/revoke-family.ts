import type { SessionEndReason } from '@tessera/protocol';
import type { ClientRecord, FamilyRecord } from '../ports/index.js';
import { clientPolicy, LEEWAY_MS, recordEvents, type TesseraContext } from './context.js';

/** Who ended a session and why, when a person did; and the family's client when the caller has it. */
export interface RevokeFamilyOptions {
  /** The family's client, when the caller already read it. */
  client?: ClientRecord | null | undefined;
  /** Who ended it: an administrator's username, `cli`. Kept as the family's `endedBy`. */
  by?: string | undefined;
  /** Their reason, in their words. Kept as the family's `endNote`. */
  note?: string | undefined;
}

/**
 * Ends a session: the family and all its refresh tokens are revoked, with its end `reason`, and
 * resource servers are told (through the revocation feed) to refuse its access tokens. Idempotent.
 *
 * @param initiator who asked: `user` (logout), `client` (RFC 7009), `admin`, `system` (reuse).
 */
export async function revokeFamily(
  ctx: TesseraContext<'sessions' | 'directory' | 'events'>,
  family: FamilyRecord,
  reason: SessionEndReason,
  initiator: string,
  options: RevokeFamilyOptions = {},
): Promise<boolean> {
  const now = ctx.clock.now();
  const owner = options.client ?? (await ctx.stores.directory.findClient(family.clientId));
  const accessTtl = owner
    ? clientPolicy(ctx.config, owner).accessTokenTtlMs
    : ctx.config.accessTokenTtl * 1000;
  const changed = await ctx.stores.sessions.revokeFamily(family.id, {
    reason,
    by: options.by,
    note: options.note,
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
        data: {
          initiator,
          generation: family.generation,
          ...(options.by === undefined ? {} : { by: options.by }),
          ...(options.note === undefined ? {} : { note: options.note }),
        },
      },
    ]);
  }
  return changed;
}
