/**
 * Single-use values: refresh nonces (and DPoP proof `jti`s). The refresh grant uses it.
 *
 * What an adapter guarantees: `insertIfAbsent` is atomic across every process sharing the store
 * (of many concurrent inserts of one key, exactly one answers true), and it fails closed: an
 * unreachable store throws, it never answers true.
 */
export interface ReplayStore {
  /** Atomically records `key` until `expiresAt` (ms); false while it is recorded and unexpired. */
  insertIfAbsent(key: string, expiresAt: number, now: number): Promise<boolean>;
}
