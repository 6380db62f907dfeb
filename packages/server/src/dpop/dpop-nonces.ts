import { createHmac } from 'node:crypto';
import { equalStrings } from '@tessera/protocol';

/**
 * Server DPoP nonces (RFC 9449 §8): an HMAC of the current time step under a key derived from the
 * master secret. Nothing is stored: every instance that shares the secret derives the same nonce
 * for a step, and a nonce cannot be predicted without the secret. A proof may carry the nonce of
 * the current step or of the previous one, so a nonce handed out just before a step ends still
 * works for a whole period.
 */
export class DpopNonces {
  constructor(
    private readonly key: Buffer,
    private readonly periodMs: number,
  ) {}

  /** The nonce to hand out at `now` (ms). */
  current(now: number): string {
    return this.forStep(Math.floor(now / this.periodMs));
  }

  /** Whether `nonce` is the current step's or the previous step's. */
  accepts(nonce: string, now: number): boolean {
    const step = Math.floor(now / this.periodMs);
    // Both compared, each in constant time, so the answer's time says nothing about which matched.
    const current = equalStrings(nonce, this.forStep(step));
    const previous = equalStrings(nonce, this.forStep(step - 1));
    return current || previous;
  }

  private forStep(step: number): string {
    return createHmac('sha256', this.key)
      .update(`dpop-nonce ${step}`)
      .digest()
      .subarray(0, 24)
      .toString('base64url');
  }
}

/** The nonce key: derived from the misc key, so it follows the master secret. */
export function dpopNonceKey(keys: { misc: Buffer }): Buffer {
  return createHmac('sha256', keys.misc).update('tessera dpop-nonce').digest();
}
