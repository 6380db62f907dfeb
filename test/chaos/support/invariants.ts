import Database from 'better-sqlite3';
import { hashToken, parseRefreshToken } from '../../../packages/server/src/crypto/refresh-token.js';
import type { ServerKeys } from '../../../packages/server/src/crypto/secrets.js';
import type { FamilyRecord, RefreshTokenRecord, SessionStore } from '../../../packages/server/src/index.js';

/**
 * The invariant checker of the fault tests: what every client saw (a history of observations)
 * checked against what the store holds afterwards. Every fault test (crash, disk full, locked
 * database, races, other stores) records its clients' requests and answers here and calls
 * `checkInvariants` after each run.
 *
 * It reads the store through the `SessionStore` port (`findToken`, `listTokens`), never through
 * tables, so it holds for any adapter and any storage layout; only `PRAGMA integrity_check`
 * reads a SQLite file.
 *
 * The invariants, stated once:
 * 1. lineage: in every family at most one live (active) token, one child per parent and one
 *    token per generation, each child's parent the generation before it;
 * 2. nothing after a revocation: no token of a revoked family was issued after it ended, and no
 *    refresh sent after a revocation was answered got a token of that family;
 * 3. persisted: every refresh token a client received with a 200 is in the store, and is active,
 *    or rotated by a request of that same client, or revoked together with its whole family;
 * 4. no collateral revocation: the only families revoked are those the test revoked itself (a
 *    crash, a full disk or a lock revokes nothing);
 * 5. no false reuse: no client was told `token_reused` (unless the test replayed on purpose);
 * 6. one answer per parent: every 200 for one presented token carried the same child;
 * 7. recovery: a client whose answer was lost got a 200 on a later retry of the same token; when
 *    the lost request had rotated it (its child was issued before the retry was sent), the retry
 *    came within the grace period (when the test says how long that is);
 * 8. single use: a single-use value (refresh nonce, DPoP `jti`) was accepted at most once
 *    across every instance;
 * 9. `PRAGMA integrity_check` is `ok`.
 */

/** What a refresh's client got back. */
export type RefreshAnswer =
  | { status: 200; refreshToken: string }
  | { status: number; errorCode: string | undefined }
  | 'lost';

export type Observation =
  | {
      kind: 'refresh';
      /** The client (session, tab, SDK instance) that sent it. */
      actor: string;
      presented: string;
      /** When it was sent and when its answer came (ms, the test's clock). */
      sentAt: number;
      answeredAt: number;
      answer: RefreshAnswer;
      /** The test presents this token on purpose after its grace period (a reuse is expected). */
      deliberateReuse?: boolean;
    }
  | { kind: 'login'; actor: string; refreshToken: string; at: number }
  /** A revocation the server accepted (its answer came at `answeredAt`). */
  | { kind: 'revoke'; actor: string; familyOf: string; answeredAt: number }
  /** A single-use value (nonce, DPoP jti) and whether a server accepted it. */
  | { kind: 'single-use'; value: string; accepted: boolean; instance?: string };

export type RefreshObservation = Extract<Observation, { kind: 'refresh' }>;

/** Records a run's observations; one per test run. */
export class History {
  readonly observations: Observation[] = [];
  /** Token hashes already computed (a long run checks the same tokens after every run). */
  readonly hashes = new Map<string, string>();
  add(o: Observation): void {
    this.observations.push(o);
  }
  get refreshes(): RefreshObservation[] {
    return this.observations.filter((o): o is RefreshObservation => o.kind === 'refresh');
  }
}

export interface CheckInput {
  history: History;
  sessions: Pick<SessionStore, 'findToken' | 'listTokens' | 'findFamily'>;
  /** The server's keys (from its master secret): to find a token's family and hash as it does. */
  keys: ServerKeys;
  /** A SQLite database file to run `PRAGMA integrity_check` on. */
  sqlitePath?: string;
  /** Families (named by any token of theirs) the test revoked or ended on purpose. */
  deliberatelyEnded?: Iterable<string>;
  /**
   * Between the runs of a crash test, answers lost in the last crash are still to be retried:
   * invariant 7 is checked at the end only.
   */
  retriesPending?: boolean;
  /**
   * The server's grace period (ms): a rotation whose answer was lost must be recovered within it.
   * The observations' times must then be on the store's clock (they are compared with `issuedAt`).
   */
  graceMs?: number;
}

export interface CheckReport {
  violations: string[];
  families: number;
  tokens: number;
  observations: number;
  /** Refresh answers by kind: 200, lost, each error code. */
  answers: Record<string, number>;
}

/** Checks every invariant; a report with no violations means the run lost and duplicated nothing. */
export async function checkInvariants(input: CheckInput): Promise<CheckReport> {
  const { history, sessions, keys } = input;
  const violations: string[] = [];
  const fail = (msg: string) => {
    if (violations.length < 50) violations.push(msg);
  };
  const short = (t: string) => `${t.slice(0, 12)}…`;
  const familyOf = (token: string) => parseRefreshToken(keys, token)?.familyId;
  const ended = new Set([...(input.deliberatelyEnded ?? [])].map((t) => familyOf(t) ?? t));

  // Every family any client touched.
  const familyIds = new Set<string>();
  const received: { actor: string; token: string }[] = [];
  for (const o of history.observations) {
    if (o.kind === 'login') received.push({ actor: o.actor, token: o.refreshToken });
    if (o.kind === 'refresh' && o.answer !== 'lost' && o.answer.status === 200 && 'refreshToken' in o.answer)
      received.push({ actor: o.actor, token: o.answer.refreshToken });
    const tokens = o.kind === 'refresh' ? [o.presented] : o.kind === 'login' ? [o.refreshToken] : [];
    for (const t of tokens) {
      const id = familyOf(t);
      if (id) familyIds.add(id);
      else fail(`a client holds a token the server does not recognise: ${short(t)}`);
    }
  }

  const families = new Map<string, FamilyRecord>();
  const lineages = new Map<string, RefreshTokenRecord[]>();
  let tokenCount = 0;
  for (const id of familyIds) {
    const family = await sessions.findFamily(id);
    if (!family) {
      fail(`family ${id} is lost`);
      continue;
    }
    families.set(id, family);
    const lineage = await sessions.listTokens(id);
    lineages.set(id, lineage);
    tokenCount += lineage.length;
    checkLineage(family, lineage, fail);
  }

  const byHash = new Map<string, { token: RefreshTokenRecord; family: FamilyRecord }>();
  for (const [id, lineage] of lineages) {
    const family = families.get(id)!;
    for (const token of lineage) byHash.set(token.hash, { token, family });
  }

  // 3. Every token received with a 200 (or at sign-in) is persisted, and in a state its holder explains.
  const presentedBy = new Set(history.refreshes.map((o) => `${o.actor}|${o.presented}`));
  for (const { actor, token } of received) {
    const id = familyOf(token);
    if (!id) continue;
    let hash = history.hashes.get(token);
    if (hash === undefined) {
      hash = hashToken(keys, token);
      history.hashes.set(token, hash);
    }
    const found = byHash.get(hash) ?? (await sessions.findToken(id, hash));
    if (!found) {
      fail(`${actor} was handed ${short(token)} with a 200, but the store never had it`);
      continue;
    }
    const { token: record, family } = found;
    if (record.status === 'rotated' && !presentedBy.has(`${actor}|${token}`)) {
      fail(`${actor}'s token ${short(token)} was rotated by a request that was not its own`);
    }
    if (record.status === 'revoked' || family.status === 'revoked') {
      const lineage = lineages.get(id) ?? [];
      if (family.status !== 'revoked' || lineage.some((t) => t.status !== 'revoked')) {
        fail(`family ${id}: a token is revoked without its whole family`);
      }
    }
  }

  // 4. Only deliberately ended families are revoked.
  for (const [id, family] of families) {
    if (family.status === 'revoked' && !ended.has(id)) {
      fail(`family ${id} was revoked (${family.endReason}) though the test never ended it`);
    }
  }

  // 2. Nothing minted after a revocation.
  for (const [id, family] of families) {
    if (family.status !== 'revoked' || family.endedAt === null) continue;
    for (const t of lineages.get(id) ?? []) {
      if (t.issuedAt > family.endedAt) fail(`family ${id}: generation ${t.generation} issued after its end`);
    }
  }
  const revokedAt = new Map<string, number>();
  for (const o of history.observations) {
    if (o.kind !== 'revoke') continue;
    const id = familyOf(o.familyOf);
    if (!id) continue;
    revokedAt.set(id, Math.min(revokedAt.get(id) ?? Number.POSITIVE_INFINITY, o.answeredAt));
  }
  for (const o of history.refreshes) {
    if (o.answer === 'lost' || o.answer.status !== 200) continue;
    const at = revokedAt.get(familyOf(o.presented) ?? '');
    if (at !== undefined && o.sentAt > at) {
      fail(`${o.actor}: a refresh sent after its family's revocation was answered got a token`);
    }
  }

  // 5, 6, 7: what each client was told.
  const childOf = new Map<string, string>();
  const answers: Record<string, number> = {};
  for (const o of history.refreshes) {
    const kind =
      o.answer === 'lost'
        ? 'lost'
        : o.answer.status === 200
          ? '200'
          : `${o.answer.status} ${errorOf(o.answer)}`;
    answers[kind] = (answers[kind] ?? 0) + 1;
    if (o.answer === 'lost') continue;
    if ('errorCode' in o.answer && o.answer.errorCode === 'token_reused' && !o.deliberateReuse) {
      fail(`${o.actor} was told token_reused for ${short(o.presented)}, a retry of its own`);
    }
    if ('refreshToken' in o.answer) {
      const first = childOf.get(o.presented);
      if (first === undefined) childOf.set(o.presented, o.answer.refreshToken);
      else if (first !== o.answer.refreshToken) {
        fail(`two different children answered for ${short(o.presented)}`);
      }
    }
  }
  const refreshes = history.refreshes;
  const lastOk = new Map<string, number>();
  refreshes.forEach((r, i) => {
    if (r.answer !== 'lost' && r.answer.status === 200) lastOk.set(`${r.actor}|${r.presented}`, i);
  });
  // For each lost answer, the first later 200 for the same client and token.
  const recoveredBy = new Map<number, RefreshObservation>();
  const pending = new Map<string, number[]>();
  refreshes.forEach((r, i) => {
    const key = `${r.actor}|${r.presented}`;
    if (r.answer === 'lost') pending.set(key, [...(pending.get(key) ?? []), i]);
    else if (r.answer.status === 200) {
      for (const j of pending.get(key) ?? []) recoveredBy.set(j, r);
      pending.delete(key);
    }
  });
  refreshes.forEach((o, i) => {
    if (o.answer !== 'lost') return;
    if (ended.has(familyOf(o.presented) ?? '')) return;
    const recovered = lastOk.get(`${o.actor}|${o.presented}`) ?? -1;
    if (recovered < i) {
      if (!input.retriesPending)
        fail(`${o.actor} lost the answer for ${short(o.presented)} and never recovered it`);
      return;
    }
    // The lost request had rotated the token when the child the retry got was issued before the
    // retry was sent: that retry was answered from the grace period, so it must fall within it.
    // (A lost request that never committed leaves the token as it was: any later retry rotates.)
    const retry = recoveredBy.get(i);
    if (input.graceMs === undefined || !retry || retry.answer === 'lost' || !('refreshToken' in retry.answer))
      return;
    const child = byHash.get(history.hashes.get(retry.answer.refreshToken) ?? '');
    const late = retry.sentAt - o.sentAt;
    if (child && child.token.issuedAt < retry.sentAt && late > input.graceMs) {
      fail(
        `${o.actor} recovered the answer for ${short(o.presented)} only ${late} ms later, past the grace period`,
      );
    }
  });

  // 8. Single-use values.
  const accepted = new Map<string, number>();
  for (const o of history.observations) {
    if (o.kind === 'single-use' && o.accepted) accepted.set(o.value, (accepted.get(o.value) ?? 0) + 1);
  }
  for (const [value, n] of accepted) {
    if (n > 1) fail(`single-use value ${short(value)} accepted ${n} times`);
  }

  // 9. The file itself.
  if (input.sqlitePath) {
    const integrity = sqliteIntegrity(input.sqlitePath);
    if (integrity !== 'ok') fail(`PRAGMA integrity_check: ${integrity}`);
  }

  return {
    violations,
    families: families.size,
    tokens: tokenCount,
    observations: history.observations.length,
    answers,
  };
}

/** 1. One live successor per generation. */
function checkLineage(family: FamilyRecord, lineage: RefreshTokenRecord[], fail: (m: string) => void) {
  const generations = new Set<number>();
  const parents = new Set<string>();
  const byGeneration = new Map<number, RefreshTokenRecord>();
  for (const t of lineage) {
    if (generations.has(t.generation)) fail(`family ${family.id}: two tokens of generation ${t.generation}`);
    generations.add(t.generation);
    byGeneration.set(t.generation, t);
    if (t.parentHash !== null) {
      if (parents.has(t.parentHash)) fail(`family ${family.id}: two children of one parent`);
      parents.add(t.parentHash);
    }
  }
  for (const t of lineage) {
    if (t.generation === 0 || t.parentHash === null) continue;
    const parent = byGeneration.get(t.generation - 1);
    // Cleanup may prune old ancestors; a parent that is there must be the right one.
    if (parent && parent.hash !== t.parentHash)
      fail(`family ${family.id}: generation ${t.generation}'s parent is not generation ${t.generation - 1}`);
    if (parent && parent.status === 'active')
      fail(`family ${family.id}: generation ${t.generation - 1} is still active beside its child`);
  }
  const live = lineage.filter((t) => t.status === 'active');
  if (live.length > 1) fail(`family ${family.id}: ${live.length} live tokens`);
  if (family.status === 'active' && live[0] && live[0].generation !== family.generation) {
    fail(`family ${family.id}: the live token is not the family's current generation`);
  }
  if (family.status === 'revoked' && live.length > 0)
    fail(`family ${family.id}: revoked, yet a token is live`);
}

function errorOf(answer: Exclude<RefreshAnswer, 'lost'>): string {
  return ('errorCode' in answer ? answer.errorCode : undefined) ?? 'unknown';
}

/** `PRAGMA integrity_check` of a SQLite file, read-only. */
export function sqliteIntegrity(path: string): string {
  const db = new Database(path, { readonly: true });
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
}

/** A one-line summary of a check report, for diagnostics. */
export function describeReport(r: CheckReport): string {
  const answers = Object.entries(r.answers)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
  return `${r.families} families, ${r.tokens} tokens, ${r.observations} observations (${answers}); ${
    r.violations.length === 0 ? 'no violation' : `VIOLATIONS:\n  ${r.violations.join('\n  ')}`
  }`;
}
