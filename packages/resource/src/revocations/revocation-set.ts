import type { RevocationNotice } from '@tessera/protocol';
import { DEFAULTS } from '../core/defaults.js';

/**
 * Revoked session (family) ids and token ids, each remembered until its notice's `exp`:
 * after that every affected token has expired anyway, so the set stays as small as the
 * number of live revocations.
 */
export class RevocationSet {
  readonly #families = new Map<string, number>();
  readonly #jtis = new Map<string, number>();
  #lastPruneMs = 0;

  /** Records a notice; `nowMs` drives pruning. */
  add(notice: RevocationNotice, nowMs: number): void {
    const map = notice.kind === 'family' ? this.#families : this.#jtis;
    const known = map.get(notice.value);
    if (known === undefined || known < notice.exp) map.set(notice.value, notice.exp);
    this.#maybePrune(nowMs);
  }

  /** True when the session `sid` or the token `jti` was revoked and the notice still matters. */
  isRevoked(sid: string | undefined, jti: string | undefined, nowMs: number): boolean {
    const now = nowMs / 1000;
    if (sid !== undefined) {
      const exp = this.#families.get(sid);
      if (exp !== undefined && exp > now) return true;
    }
    if (jti !== undefined) {
      const exp = this.#jtis.get(jti);
      if (exp !== undefined && exp > now) return true;
    }
    return false;
  }

  /** Counts of remembered revocations. */
  get size(): { families: number; jtis: number } {
    return { families: this.#families.size, jtis: this.#jtis.size };
  }

  /** Drops notices whose `exp` has passed. Runs at most once a minute, amortised over adds. */
  #maybePrune(nowMs: number): void {
    if (nowMs - this.#lastPruneMs < DEFAULTS.revocationPruneIntervalMs) return;
    this.prune(nowMs);
  }

  prune(nowMs: number): void {
    this.#lastPruneMs = nowMs;
    const now = nowMs / 1000;
    for (const map of [this.#families, this.#jtis]) {
      for (const [value, exp] of map) if (exp <= now) map.delete(value);
    }
  }
}

/** Validates one notice from the wire; `undefined` for anything malformed. */
export function parseRevocationNotice(value: unknown): RevocationNotice | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.seq !== 'number' || !Number.isSafeInteger(v.seq)) return undefined;
  if (v.kind !== 'family' && v.kind !== 'jti') return undefined;
  if (typeof v.value !== 'string' || v.value === '') return undefined;
  if (typeof v.exp !== 'number' || !Number.isFinite(v.exp)) return undefined;
  return { seq: v.seq, kind: v.kind, value: v.value, exp: v.exp };
}
