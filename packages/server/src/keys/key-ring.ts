import { KeyObject } from 'node:crypto';
import type { Clock } from '@tessera/protocol';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
} from 'jose';
import type { SigningAlg } from '../config/defaults.js';
import { LIMITS } from '../config/limits.js';
import { open, seal } from '../crypto/seal.js';
import type { ServerKeys } from '../crypto/secrets.js';
import { KeyRotationTooSoonError } from '../errors.js';
import type { KeyRecord, KeyStore } from '../ports/index.js';

type SigningKey = CryptoKey | KeyObject;

export interface ActiveKey {
  kid: string;
  alg: string;
  privateKey: SigningKey;
  /** The same private key as a `node:crypto` `KeyObject`, for the synchronous `sign`. */
  keyObject: KeyObject;
}

export interface KeyRingOptions {
  /** The ring's name in the key store (`jwt`, `paseto`). */
  ring: string;
  store: KeyStore;
  secrets: ServerKeys;
  clock: Clock;
  alg: SigningAlg;
  /** How long a retired key stays published: the longest access-token lifetime plus leeway (ms). */
  retiredKeepMs: () => number;
  /**
   * How long the `next` key must have been published before it may sign: long enough for every
   * resource server's JWKS cache and every instance's key-ring refresh to have seen it (ms).
   */
  minPublishedMs?: number;
  /**
   * Import private keys as extractable. Only for libraries that must derive the public half
   * themselves (paseto on Node 20, which lacks SubtleCrypto.getPublicKey); the JWT ring keeps
   * its private keys non-extractable.
   */
  extractablePrivateKeys?: boolean;
}

/**
 * The signing key ring: `current` signs; `next` is published in the JWKS before it
 * ever signs, so resource servers already hold it when it becomes current; `retired` keys stay
 * published until every token they signed has expired.
 */
export class KeyRing {
  private records: KeyRecord[] = [];
  private active: ActiveKey | undefined;
  private verifyKeys = new Map<string, { alg: string; key: SigningKey }>();
  private jwksCache: { keys: JWK[] } = { keys: [] };

  private readonly store: KeyStore;
  private readonly secrets: ServerKeys;
  private readonly clock: Clock;
  private readonly alg: SigningAlg;
  private readonly retiredKeepMs: () => number;
  private readonly minPublishedMs: number;
  private readonly extractablePrivateKeys: boolean;
  /** The ring's name in the key store (`jwt`, `paseto`). */
  readonly ring: string;

  constructor(options: KeyRingOptions) {
    this.ring = options.ring;
    this.store = options.store;
    this.secrets = options.secrets;
    this.clock = options.clock;
    this.alg = options.alg;
    this.retiredKeepMs = options.retiredKeepMs;
    this.minPublishedMs = options.minPublishedMs ?? 0;
    this.extractablePrivateKeys = options.extractablePrivateKeys ?? false;
  }

  /** Loads the ring, creating `current` and `next` on first start. */
  async init(): Promise<void> {
    const existing = await this.store.listKeys(this.ring);
    if (existing.length === 0) {
      const now = this.clock.now();
      const current = await this.generate('current', now);
      const next = await this.generate('next', now);
      await this.store.initKeys(this.ring, [current, next]);
    }
    await this.reload();
  }

  /** Re-reads the ring from the store (another process may have rotated it). */
  async reload(): Promise<void> {
    const records = await this.store.listKeys(this.ring);
    const current = records.find((r) => r.state === 'current');
    if (!current) throw new Error('the key store has no current signing key');
    if (current.kid !== this.active?.kid) {
      const privateKey = await this.unseal(current);
      const keyObject = privateKey instanceof KeyObject ? privateKey : KeyObject.from(privateKey);
      this.active = { kid: current.kid, alg: current.alg, privateKey, keyObject };
    }
    const verifyKeys = new Map<string, { alg: string; key: SigningKey }>();
    for (const r of records) {
      const prior = this.verifyKeys.get(r.kid);
      verifyKeys.set(
        r.kid,
        prior ?? { alg: r.alg, key: (await importJWK(r.publicJwk, r.alg)) as SigningKey },
      );
    }
    this.verifyKeys = verifyKeys;
    this.records = records;
    this.jwksCache = {
      keys: this.publishable().map((r) => ({ ...r.publicJwk, kid: r.kid, alg: r.alg, use: 'sig' })),
    };
  }

  /** The key that signs now. */
  current(): ActiveKey {
    if (!this.active) throw new Error('the key ring is not loaded');
    return this.active;
  }

  /** A public key for verification by `kid` (current, next or retired). */
  verificationKey(kid: string): { alg: string; key: SigningKey } | undefined {
    return this.verifyKeys.get(kid);
  }

  /** The JWKS document: next, current and recently retired public keys. */
  jwks(): { keys: JWK[] } {
    return this.jwksCache;
  }

  /** Key records (for the CLI and the dashboard); no private material. */
  list(): Omit<KeyRecord, 'privateJwkSealed'>[] {
    return this.records.map(({ privateJwkSealed: _, ...r }) => r);
  }

  /** Age of the current key in ms. */
  currentAge(): number {
    const current = this.records.find((r) => r.state === 'current');
    return current ? this.clock.now() - (current.activatedAt ?? current.createdAt) : 0;
  }

  /**
   * Promotes `next` to `current`, retires `current`, publishes a new `next`. Refuses (unless
   * `force`) while the next key is younger than `minPublishedMs`: a resource server that has not
   * fetched it yet would reject the tokens it signs.
   */
  async rotate(options: { force?: boolean } = {}): Promise<{ kid: string; rotated: boolean }> {
    await this.reload();
    const now = this.clock.now();
    const next = this.records.find((r) => r.state === 'next');
    const age = next ? now - next.createdAt : 0;
    if (!options.force && next && age < this.minPublishedMs) {
      const wait = Math.ceil((this.minPublishedMs - age) / 1000);
      throw new KeyRotationTooSoonError(
        `the next key was published ${Math.floor(age / 1000)} s ago; resource servers may not have fetched it yet. ` +
          `Rotate again in ${wait} s, or force it`,
      );
    }
    const newNext = await this.generate('next', now);
    const rotated = await this.store.rotateKeys({
      ring: this.ring,
      newNext,
      now,
      expectedCurrentKid: this.current().kid,
      dropRetiredBefore: now - this.retiredKeepMs(),
    });
    await this.reload();
    return { kid: this.current().kid, rotated };
  }

  private publishable(): KeyRecord[] {
    const horizon = this.clock.now() - this.retiredKeepMs();
    return this.records.filter((r) => r.state !== 'retired' || (r.retiredAt ?? 0) >= horizon);
  }

  private async generate(state: 'current' | 'next', now: number): Promise<KeyRecord> {
    const { publicKey, privateKey } = await generateKeyPair(this.alg, {
      extractable: true,
      modulusLength: LIMITS.rsaModulusBits,
    });
    const publicJwk = await exportJWK(publicKey);
    const privateJwk = await exportJWK(privateKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    return {
      kid,
      alg: this.alg,
      state,
      publicJwk,
      privateJwkSealed: seal(
        this.secrets.keyEncryption,
        Buffer.from(JSON.stringify(privateJwk)),
        `key:${kid}`,
      ),
      createdAt: now,
      activatedAt: state === 'current' ? now : null,
      retiredAt: null,
    };
  }

  private async unseal(record: KeyRecord): Promise<SigningKey> {
    const plain = open(this.secrets.keyEncryption, record.privateJwkSealed, `key:${record.kid}`);
    if (!plain) {
      throw new Error(
        `cannot decrypt signing key ${record.kid}: the master secret (TESSERA_SECRET or the .key file) does not match this database`,
      );
    }
    return (await importJWK(JSON.parse(plain.toString('utf8')) as JWK, record.alg, {
      extractable: this.extractablePrivateKeys,
    })) as SigningKey;
  }
}
