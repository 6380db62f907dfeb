import type { JWK } from 'jose';

export type KeyState = 'next' | 'current' | 'retired';

/** A signing key. The private half is stored encrypted under a key derived from the master secret. */
export interface KeyRecord {
  kid: string;
  alg: string;
  state: KeyState;
  publicJwk: JWK;
  privateJwkSealed: Uint8Array;
  createdAt: number;
  activatedAt: number | null;
  retiredAt: number | null;
}

/**
 * Signing keys, in named rings (`jwt`, `paseto`, ...): each ring has one `current`, one `next`
 * and any number of `retired` keys.
 */
export interface KeyStore {
  listKeys(ring: string): Promise<KeyRecord[]>;
  /** Inserts keys only if the ring holds none (first start); false when keys already existed. */
  initKeys(ring: string, keys: KeyRecord[]): Promise<boolean>;
  /**
   * Atomically: the `next` key becomes `current`, the `current` one `retired`, `newNext` is added,
   * and retired keys retired before `dropRetiredBefore` are deleted. Conflicts (another process
   * rotated first: `expectedCurrentKid` is no longer current) change nothing and answer false.
   */
  rotateKeys(input: {
    ring: string;
    newNext: KeyRecord;
    now: number;
    expectedCurrentKid: string;
    dropRetiredBefore: number;
  }): Promise<boolean>;
}
