import { equalStrings } from '@tessera/protocol';
import { base64url } from 'jose';

/** Where the resource server's DPoP nonces come from. */
export interface DpopNonceSource {
  /** The nonce to hand out at `now` (ms), in `DPoP-Nonce`. */
  current(now: number): Promise<string>;
  accepts(nonce: string, now: number): Promise<boolean>;
}

/**
 * Resource-server DPoP nonces (RFC 9449 §9): an HMAC-SHA-256 of the time step under `secret`
 * (WebCrypto), the current and the previous period accepted. Nothing is stored, and every
 * instance given the same secret accepts the others' nonces.
 */
export function hmacDpopNonces(secret: Uint8Array, periodMs: number): DpopNonceSource {
  if (secret.length < 32) throw new TypeError('@tessera/resource: dpopNonceSecret must be at least 32 bytes');
  const key = crypto.subtle.importKey(
    'raw',
    new Uint8Array(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const encoder = new TextEncoder();
  const forStep = async (step: number) => {
    const mac = await crypto.subtle.sign('HMAC', await key, encoder.encode(`dpop-nonce ${step}`));
    return base64url.encode(new Uint8Array(mac).subarray(0, 24));
  };
  return {
    current: (now) => forStep(Math.floor(now / periodMs)),
    async accepts(nonce, now) {
      const step = Math.floor(now / periodMs);
      const [current, previous] = await Promise.all([forStep(step), forStep(step - 1)]);
      const a = equalStrings(nonce, current);
      const b = equalStrings(nonce, previous);
      return a || b;
    },
  };
}
