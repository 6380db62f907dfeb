/** Single-use values (refresh nonces, DPoP `jti`s). Must fail closed: an unreachable store throws. */
export interface ReplayStore {
  /** Atomically records `key` until `expiresAt` (ms); false when it was already recorded. */
  insertIfAbsent(key: string, expiresAt: number, now: number): Promise<boolean>;
}
