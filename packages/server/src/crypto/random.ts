import { randomFillSync } from 'node:crypto';

/**
 * Random bytes for the hot path. Each `randomBytes` call pays for a crypto job around the CSPRNG
 * (a few µs); a rotation needs three small draws (refresh secret, `jti`, AES-GCM IV). Like Node's
 * own `randomUUID` cache, one call fills a 4 KiB buffer and draws are cut from it; every byte is
 * handed out once and copied out, so no two callers ever share bytes.
 */
const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafeSlow(POOL_BYTES);
let offset = POOL_BYTES;

/** `n` fresh CSPRNG bytes (at most 256 per call), in a buffer of their own. */
export function randomBytesFast(n: number): Buffer {
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new RangeError('randomBytesFast: 1 to 256 bytes');
  if (offset + n > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const out = Buffer.from(pool.subarray(offset, offset + n));
  // The pool keeps no copy of what it handed out (a refresh secret, say).
  pool.fill(0, offset, offset + n);
  offset += n;
  return out;
}
