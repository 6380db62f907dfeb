import { TesseraError } from '@tessera/protocol';
import type { FamilyRecord } from '../ports/index.js';
import { recordEvents, type TesseraContext } from './context.js';

/**
 * A refresh of a DPoP-bound session must prove the session's key (RFC 9449 §5). Checked before
 * anything is decided about the token, so a stolen refresh token presented with another key, or
 * with none, is refused *without* touching the family: it neither rotates, nor is answered from
 * the grace period, nor counts as reuse (which would let a thief end the victim's session). The
 * attempt is recorded as `dpop.key_mismatch`.
 *
 * @param jkt the thumbprint of the request's verified proof, if it had one.
 */
export async function checkDpopBinding(
  ctx: TesseraContext<'events'>,
  family: FamilyRecord,
  jkt: string | undefined,
): Promise<void> {
  const bound = family.dpopJkt ?? null;
  if (bound === null || bound === jkt) return;
  ctx.metrics.refreshes.inc({ result: 'dpop_key_mismatch' });
  await recordEvents(ctx, [
    {
      at: ctx.clock.now(),
      type: 'dpop.key_mismatch',
      familyId: family.id,
      userId: family.userId,
      clientId: family.clientId,
      reason: jkt === undefined ? 'proof_missing' : 'other_key',
      data: jkt === undefined ? {} : { presentedJkt: jkt },
    },
  ]);
  throw new TesseraError(
    'invalid_dpop_proof',
    jkt === undefined
      ? 'This session is bound to a DPoP key: send a proof signed with it'
      : 'The DPoP proof is signed by another key than the one this session is bound to',
  );
}
