// The SQLite lifecycle record against a model: whatever writes, background index batches,
// retention and family deletions came before, `events.list(filter)` answers exactly what a naive
// filter over an in-memory array of the events answers.
//
// The store appends an event to `events` and indexes it later, in batches: a rotation's events
// are chained per family and copied into the per-family and per-user indexes only once
// `eventChainFlush` of them gathered (or when the family is deleted); readers merge the indexes
// with what was not indexed yet. None of that may show in an answer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventType, LifecycleEvent } from '@tessera/protocol';
import { newFamily, newToken, T0 } from '@tessera/server/testing';
import fc from 'fast-check';
import {
  type EventFilter,
  type EventInput,
  LIMITS,
  openSqliteStores,
  type RotateInput,
  type SqliteStores,
} from '../../src/index.js';

const STEP = 1000;
const FAMILIES = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5'] as const;
const USERS = ['u0', 'u1', 'u2'] as const;
const CLIENTS = ['c0', 'c1'] as const;
const TYPES = [
  'token.issued',
  'token.refreshed',
  'session.ended',
  'token.reuse.detected',
  'token.revoked',
  'login.succeeded',
] as const satisfies readonly EventType[];
/** Absolute lifetimes of a family, in steps: some end within a run (and are deleted by a sweep). */
const LIVES = [3, 8, 20, 100_000] as const;

function open(flush: number): SqliteStores {
  return openSqliteStores({ path: ':memory:', eventIndexIntervalMs: 0, eventChainFlush: flush });
}

// --- The model

type Status = 'active' | 'revoked';

interface ModelFamily {
  id: string;
  userId: string;
  clientId: string;
  expiresAt: number;
  status: Status;
  generation: number;
  hash: string;
  /** When its last rotation (or its creation) was. */
  lastAt: number;
}

interface Model {
  clock: number;
  /** The families in the store's table (deleted ones are gone; their events stay). */
  families: Map<string, ModelFamily>;
  /** Every event in the store, in id order, as `list` returns it. */
  events: LifecycleEvent[];
  hashes: number;
}

/** An event as the store reads it back: absent columns are null, `data` only when there is some. */
function stored(e: EventInput, id: number): LifecycleEvent {
  return {
    id,
    at: e.at,
    type: e.type,
    familyId: e.familyId ?? null,
    userId: e.userId ?? null,
    clientId: e.clientId ?? null,
    reason: e.reason ?? null,
    ...(e.data ? { data: e.data } : {}),
  };
}

function modelList(events: readonly LifecycleEvent[], f: EventFilter): LifecycleEvent[] {
  const limit = Math.min(Math.max(f.limit ?? LIMITS.listDefault, 1), LIMITS.listMax);
  const matching = events.filter(
    (e) =>
      (f.familyId === undefined || e.familyId === f.familyId) &&
      (f.userId === undefined || e.userId === f.userId) &&
      (f.clientId === undefined || e.clientId === f.clientId) &&
      (f.type === undefined || e.type === f.type) &&
      (f.afterId === undefined || e.id > f.afterId) &&
      (f.beforeId === undefined || e.id < f.beforeId) &&
      (f.from === undefined || e.at >= f.from) &&
      (f.to === undefined || e.at < f.to),
  );
  if (f.order === 'desc') matching.reverse();
  return matching.slice(0, limit);
}

const lastId = (m: Model) => m.events.at(-1)?.id ?? 0;
const ids = (events: readonly LifecycleEvent[]) => events.map((e) => e.id);

/**
 * Records `written` (the events of one write, in order) in the model, with the ids the store gave
 * them: ascending past every event there is, consecutive, the last one the store's newest. The
 * queries then check that each one is where it should be.
 */
async function recordWritten(stores: SqliteStores, m: Model, written: EventInput[]): Promise<void> {
  const last = await stores.events.lastEventId();
  if (written.length === 0) {
    assert.equal(last, lastId(m), 'a write without events moved the newest event id');
    return;
  }
  const first = last - written.length + 1;
  assert.ok(
    first > lastId(m),
    `the ${written.length} new events end at id ${last}, not past the newest before them (${lastId(m)})`,
  );
  written.forEach((e, i) => {
    m.events.push(stored(e, first + i));
  });
}

// --- The commands

type Extra = 'second' | 'otherUser' | 'noUser' | 'noClient' | 'otherFamily' | 'noFamily';

interface AppendSpec {
  fam: number | null;
  user: number | null;
  client: number | null;
  type: number;
  /** Steps back from the clock: a late event, older than some already recorded. */
  back: number;
  reason: boolean;
  data: boolean;
}

interface FilterSpec {
  fam?: number;
  user?: number;
  client?: number;
  type?: number;
  /** Bounds as per mille of the ids and times recorded so far (resolved when the query runs). */
  after?: number;
  before?: number;
  from?: number;
  to?: number;
  order?: 'asc' | 'desc';
  limit?: number;
}

type Command =
  | { kind: 'create'; fam: number; user: number; client: number; life: number; events: 0 | 1 | 2 }
  /**
   * `skew`: the rotation's clock is this many steps behind the family's last rotation (a clock set
   * back): its events are older than the family's previous ones, though their ids are greater.
   */
  | { kind: 'rotate'; fam: number; extras: Extra[]; extrasFirst: boolean; skew: number }
  | { kind: 'rotateMany'; fams: number[]; race: boolean }
  | { kind: 'revoke'; fam: number }
  | { kind: 'append'; events: AppendSpec[] }
  | { kind: 'index'; n: number }
  | { kind: 'settle' }
  | { kind: 'prune'; back: number; limit: number }
  /** `exact`: at the very expiry of a family (the boundary), else at the clock. */
  | { kind: 'sweep'; exact: number | null }
  | { kind: 'query'; filter: FilterSpec; whole: boolean }
  | { kind: 'checkAll' };

/** `arb` in `percent` of the cases, else undefined. */
const maybe = <T>(arb: fc.Arbitrary<T>, percent: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: 100 - percent }, { arbitrary: arb, weight: percent });

/** 0..max, or null once in `freq` cases. */
const nullable = (max: number, freq: number) => fc.option(fc.integer({ min: 0, max }), { freq });

const filterArb: fc.Arbitrary<FilterSpec> = fc
  .record({
    fam: maybe(fc.integer({ min: 0, max: FAMILIES.length }), 40), // FAMILIES.length: an unknown family
    user: maybe(fc.integer({ min: 0, max: USERS.length }), 30),
    client: maybe(fc.integer({ min: 0, max: CLIENTS.length - 1 }), 20),
    type: maybe(fc.integer({ min: 0, max: TYPES.length - 1 }), 20),
    after: maybe(fc.integer({ min: 0, max: 1000 }), 20),
    before: maybe(fc.integer({ min: 0, max: 1100 }), 20),
    from: maybe(fc.integer({ min: 0, max: 1000 }), 15),
    to: maybe(fc.integer({ min: 0, max: 1100 }), 15),
    order: maybe(fc.constantFrom<'asc' | 'desc'>('asc', 'desc'), 60),
    limit: maybe(fc.oneof(fc.integer({ min: 1, max: 10 }), fc.constantFrom(0, 20_000)), 80),
  })
  .map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as FilterSpec);

const extraArb = fc.constantFrom<Extra>(
  'second',
  'otherUser',
  'noUser',
  'noClient',
  'otherFamily',
  'noFamily',
);

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('create' as const),
      fam: fc.integer({ min: 0, max: FAMILIES.length - 1 }),
      user: fc.integer({ min: 0, max: USERS.length - 1 }),
      client: fc.integer({ min: 0, max: CLIENTS.length - 1 }),
      life: fc.constantFrom(...LIVES),
      events: fc.constantFrom<0 | 1 | 2>(0, 1, 1, 2),
    }),
  },
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant('rotate' as const),
      fam: fc.integer({ min: 0, max: FAMILIES.length - 1 }),
      extras: fc.oneof(
        { weight: 3, arbitrary: fc.constant([] as Extra[]) },
        { weight: 2, arbitrary: fc.array(extraArb, { minLength: 1, maxLength: 2 }) },
      ),
      extrasFirst: fc.boolean(),
      skew: fc.oneof(
        { weight: 85, arbitrary: fc.constant(0) },
        { weight: 15, arbitrary: fc.constantFrom(1, 2, 5) },
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('rotateMany' as const),
      fams: fc.uniqueArray(fc.integer({ min: 0, max: FAMILIES.length - 1 }), { minLength: 2, maxLength: 3 }),
      race: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('revoke' as const), fam: fc.nat(FAMILIES.length - 1) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      events: fc.array(
        fc.record({
          fam: nullable(FAMILIES.length - 1, 3),
          user: nullable(USERS.length - 1, 3),
          client: nullable(CLIENTS.length - 1, 2),
          type: fc.nat(TYPES.length - 1),
          back: fc.constantFrom(0, 0, 0, 1, 3),
          reason: fc.boolean(),
          data: fc.boolean(),
        }),
        { minLength: 1, maxLength: 3 },
      ),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('index' as const), n: fc.integer({ min: 1, max: 5 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'settle' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('prune' as const),
      // 0 with a limit of 1000: every event (all are older than the clock).
      back: fc.constantFrom(0, 0, 1, 2, 3, 5, 8),
      limit: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.constant(1000)),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('sweep' as const),
      exact: fc.option(fc.nat(FAMILIES.length - 1)),
    }),
  },
  {
    weight: 8,
    arbitrary: fc.record({ kind: fc.constant('query' as const), filter: filterArb, whole: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'checkAll' as const }) },
);

/** The bounds of a query spec, from the ids and the times recorded so far. */
function resolveFilter(m: Model, s: FilterSpec): EventFilter {
  const idAt = (permille: number) => Math.floor((permille * (lastId(m) + 1)) / 1000);
  // Times on a half-step grid: some bounds fall on an event's `at`, some between two.
  const timeAt = (permille: number) => T0 + 500 * Math.floor((permille * ((m.clock - T0) / 500 + 2)) / 1000);
  const f: EventFilter = {};
  if (s.fam !== undefined) f.familyId = FAMILIES[s.fam] ?? 'fx';
  if (s.user !== undefined) f.userId = USERS[s.user] ?? 'ux';
  if (s.client !== undefined) f.clientId = CLIENTS[s.client];
  if (s.type !== undefined) f.type = TYPES[s.type];
  if (s.after !== undefined) f.afterId = idAt(s.after);
  if (s.before !== undefined) f.beforeId = idAt(s.before);
  if (s.from !== undefined) f.from = timeAt(s.from);
  if (s.to !== undefined) f.to = timeAt(s.to);
  if (s.order !== undefined) f.order = s.order;
  if (s.limit !== undefined) f.limit = s.limit;
  return f;
}

async function assertList(
  stores: SqliteStores,
  m: Model,
  filter: EventFilter,
  whole: boolean,
): Promise<void> {
  const got = await stores.events.list(filter);
  const want = modelList(m.events, filter);
  if (whole) assert.deepEqual(got, want, `events of ${JSON.stringify(filter)}`);
  else assert.deepEqual(ids(got), ids(want), `ids of ${JSON.stringify(filter)}`);
}

/** Every page of `filter`, `size` at a time: by `afterId` oldest first, by `beforeId` newest first. */
async function paged(stores: SqliteStores, filter: EventFilter, order: 'asc' | 'desc', size: number) {
  const out: number[] = [];
  let cursor: number | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const bound = cursor === undefined ? {} : order === 'asc' ? { afterId: cursor } : { beforeId: cursor };
    const page = await stores.events.list({ ...filter, ...bound, order, limit: size });
    out.push(...ids(page));
    if (page.length < size) return out;
    cursor = page.at(-1)?.id;
  }
  throw new Error('paging did not end');
}

/** Each family, user, client and type in full both ways, and paged, against the model. */
async function checkAll(stores: SqliteStores, m: Model): Promise<void> {
  const keys: EventFilter[] = [
    {},
    ...[...FAMILIES, 'fx'].map((familyId) => ({ familyId })),
    ...[...USERS, 'ux'].map((userId) => ({ userId })),
    ...CLIENTS.map((clientId) => ({ clientId })),
    ...TYPES.map((type) => ({ type })),
  ];
  for (const key of keys) {
    for (const order of ['asc', 'desc'] as const) {
      await assertList(stores, m, { ...key, order, limit: LIMITS.listMax }, true);
    }
  }
  // Time bounds on events' own times (`from` inclusive, `to` exclusive), and id bounds on their ids.
  const third = (i: number) => m.events[Math.floor((i * m.events.length) / 3)];
  const [a, b] = [third(1), third(2)];
  if (a && b) {
    for (const key of keys) {
      for (const order of ['asc', 'desc'] as const) {
        await assertList(stores, m, { ...key, order, from: a.at, to: b.at, limit: LIMITS.listMax }, false);
        await assertList(
          stores,
          m,
          { ...key, order, afterId: a.id, beforeId: b.id, limit: LIMITS.listMax },
          false,
        );
      }
    }
  }
  for (const key of keys.filter((k) => k.familyId !== undefined || k.userId !== undefined)) {
    for (const order of ['asc', 'desc'] as const) {
      const want = ids(modelList(m.events, { ...key, order, limit: LIMITS.listMax }));
      assert.deepEqual(
        await paged(stores, key, order, 3),
        want,
        `pages of 3 of ${JSON.stringify(key)} ${order}`,
      );
    }
  }
}

interface RotationPlan {
  family: ModelFamily;
  input: RotateInput;
  rotates: boolean;
}

/** A rotation of `f` from the generation the model holds, and its events. */
function planRotation(
  m: Model,
  f: ModelFamily,
  extras: Extra[],
  extrasFirst: boolean,
  skew = 0,
): RotationPlan {
  const at = skew === 0 ? m.clock : Math.min(m.clock, f.lastAt) - skew * STEP;
  const generation = f.generation + 1;
  const base: EventInput = {
    at,
    type: 'token.refreshed',
    familyId: f.id,
    userId: f.userId,
    clientId: f.clientId,
    data: { generation },
  };
  const otherUser = USERS[(USERS.indexOf(f.userId as (typeof USERS)[number]) + 1) % USERS.length];
  const otherFamily = FAMILIES[(FAMILIES.indexOf(f.id as (typeof FAMILIES)[number]) + 1) % FAMILIES.length];
  const extra = (x: Extra): EventInput => {
    switch (x) {
      case 'second':
        return {
          at,
          type: 'token.issued',
          familyId: f.id,
          userId: f.userId,
          clientId: f.clientId,
          data: { generation, n: 2 },
        };
      case 'otherUser':
        return {
          at,
          type: 'token.reuse.detected',
          familyId: f.id,
          userId: otherUser,
          clientId: f.clientId,
          reason: 'token_reused',
        };
      case 'noUser':
        return {
          at,
          type: 'session.ended',
          familyId: f.id,
          userId: null,
          clientId: f.clientId,
          reason: 'logout',
        };
      case 'noClient':
        return { at, type: 'token.revoked', familyId: f.id, userId: f.userId };
      case 'otherFamily':
        return { at, type: 'token.revoked', familyId: otherFamily, userId: f.userId, clientId: f.clientId };
      case 'noFamily':
        return { at, type: 'login.succeeded', userId: f.userId, clientId: f.clientId };
    }
  };
  const more = extras.map(extra);
  const events = extrasFirst ? [...more, base] : [base, ...more];
  const hash = `h${++m.hashes}`;
  const child = newToken(newFamily({ id: f.id }), {
    hash,
    generation,
    parentHash: f.hash,
    issuedAt: at,
    expiresAt: f.expiresAt,
  });
  return {
    family: f,
    input: {
      parentHash: f.hash,
      parentGeneration: f.generation,
      child,
      graceResponse: Buffer.from(hash),
      now: at,
      events,
    },
    rotates: f.status === 'active',
  };
}

function pick(m: Model, index: number, status?: Status): ModelFamily | undefined {
  const present = [...m.families.values()].filter((f) => status === undefined || f.status === status);
  return present[index % Math.max(present.length, 1)];
}

async function run(stores: SqliteStores, m: Model, c: Command): Promise<void> {
  switch (c.kind) {
    case 'create': {
      const id = FAMILIES[c.fam] as string;
      if (m.families.has(id)) return; // still in the table: its id is taken
      const f: ModelFamily = {
        id,
        userId: USERS[c.user] as string,
        clientId: CLIENTS[c.client] as string,
        expiresAt: m.clock + c.life * STEP,
        status: 'active',
        generation: 0,
        hash: `h${++m.hashes}`,
        lastAt: m.clock,
      };
      const events: EventInput[] = [];
      if (c.events >= 1) {
        events.push({
          at: m.clock,
          type: 'token.issued',
          familyId: id,
          userId: f.userId,
          clientId: f.clientId,
          data: { generation: 0 },
        });
      }
      if (c.events >= 2)
        events.push({ at: m.clock, type: 'login.succeeded', userId: f.userId, clientId: f.clientId });
      const family = newFamily({
        id,
        userId: f.userId,
        clientId: f.clientId,
        createdAt: m.clock,
        expiresAt: f.expiresAt,
      });
      // Its tokens live as long as it does: only the absolute expiry ends a family here.
      const token = newToken(family, { hash: f.hash, issuedAt: m.clock, expiresAt: f.expiresAt });
      await stores.sessions.createFamily(family, token, events);
      m.families.set(id, f);
      await recordWritten(stores, m, events);
      return;
    }
    case 'rotate': {
      // An active family, or sometimes a revoked one (which must refuse, and record nothing).
      const f = pick(m, c.fam);
      if (!f) return;
      const plan = planRotation(m, f, c.extras, c.extrasFirst, c.skew);
      const result = await stores.sessions.rotate(plan.input);
      assert.equal(
        result.outcome,
        plan.rotates ? 'rotated' : 'conflict',
        `rotation of ${f.id} (${f.status})`,
      );
      if (plan.rotates) {
        f.generation = plan.input.child.generation;
        f.hash = plan.input.child.hash;
        f.lastAt = plan.input.now;
      }
      await recordWritten(stores, m, plan.rotates ? (plan.input.events ?? []) : []);
      return;
    }
    case 'rotateMany': {
      // Rotations queued in one turn share a group commit; in a race the second of two rotations
      // of one parent loses, and its events are not recorded.
      const families = [...new Set(c.fams.map((i) => pick(m, i, 'active')).filter((f) => f !== undefined))];
      if (families.length === 0) return;
      const plans = families.map((f) => planRotation(m, f, [], false));
      if (c.race) {
        const [first] = families as [ModelFamily];
        const loser = planRotation(m, first, ['noFamily'], false);
        plans.splice(1, 0, { ...loser, rotates: false });
      }
      const results = await Promise.all(plans.map((p) => stores.sessions.rotate(p.input)));
      assert.deepEqual(
        results.map((r) => r.outcome),
        plans.map((p) => (p.rotates ? 'rotated' : 'conflict')),
      );
      const written: EventInput[] = [];
      for (const p of plans) {
        if (!p.rotates) continue;
        p.family.generation = p.input.child.generation;
        p.family.hash = p.input.child.hash;
        p.family.lastAt = p.input.now;
        written.push(...(p.input.events ?? []));
      }
      await recordWritten(stores, m, written);
      return;
    }
    case 'revoke': {
      const f = pick(m, c.fam, 'active');
      if (!f) return;
      const end = { reason: 'admin_revoked' as const, now: m.clock, noticeUntil: m.clock + STEP };
      assert.equal(await stores.sessions.revokeFamily(f.id, end), true);
      f.status = 'revoked';
      await recordWritten(stores, m, []);
      return;
    }
    case 'append': {
      const events = c.events.map(
        (s, i): EventInput => ({
          at: m.clock - s.back * STEP,
          type: TYPES[s.type] as EventType,
          ...(s.fam === null ? {} : { familyId: FAMILIES[s.fam] }),
          ...(s.user === null ? {} : { userId: USERS[s.user] }),
          ...(s.client === null ? {} : { clientId: CLIENTS[s.client] }),
          ...(s.reason ? { reason: 'admin' } : {}),
          ...(s.data ? { data: { i, note: 'appended' } } : {}),
        }),
      );
      await stores.events.append(events);
      await recordWritten(stores, m, events);
      return;
    }
    case 'index': {
      const n = stores.indexEvents(c.n);
      assert.ok(Number.isInteger(n) && n >= 0 && n <= c.n, `an index batch of at most ${c.n} indexed ${n}`);
      return;
    }
    case 'settle': {
      stores.settle();
      assert.equal(stores.settle(), 0, 'a settled record has nothing left to index');
      assert.equal(stores.indexEvents(5), 0, 'nor has a batch after it');
      return;
    }
    case 'prune': {
      const before = m.clock - c.back * STEP;
      const oldest = m.events.slice(0, c.limit);
      // Never the newest event: a new one's id is the largest plus one, and an id never comes back.
      const gone = new Set(ids(oldest.filter((e) => e.at < before && e.id < lastId(m))));
      const n = await stores.events.pruneEvents({ before, limit: c.limit });
      assert.equal(n, gone.size, `pruneEvents({ before: T0 + ${before - T0}, limit: ${c.limit} })`);
      m.events = m.events.filter((e) => !gone.has(e.id));
      assert.equal(await stores.events.lastEventId(), lastId(m));
      return;
    }
    case 'sweep': {
      const expired = [...m.families.values()].map((f) => f.expiresAt).filter((at) => at <= m.clock);
      const now =
        c.exact === null || expired.length === 0 ? m.clock : (expired[c.exact % expired.length] as number);
      const over = [...m.families.values()].filter((f) => f.expiresAt <= now);
      const result = await stores.cleanup.sweep({ now, graceHorizon: now });
      assert.equal(result.familiesDeleted, over.length, 'families past their absolute expiry');
      // The families go; their events stay (cleanup never deletes events).
      for (const f of over) m.families.delete(f.id);
      await recordWritten(stores, m, []);
      return;
    }
    case 'query':
      await assertList(stores, m, resolveFilter(m, c.filter), c.whole);
      return;
    case 'checkAll':
      await checkAll(stores, m);
      return;
  }
}

describe('sqlite lifecycle record against a model', () => {
  it('list(filter) answers what the model answers, whatever writes, index batches, retention and deletions came before', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(1, 2, 3, 5),
        fc.array(commandArb, { maxLength: 60, size: 'max' }),
        async (flush, commands) => {
          const stores = open(flush);
          try {
            const m: Model = { clock: T0, families: new Map(), events: [], hashes: 0 };
            for (const c of commands) {
              m.clock += STEP;
              await run(stores, m, c);
            }
            await checkAll(stores, m);
            // Indexed in full, the answers are the same.
            stores.settle();
            await checkAll(stores, m);
          } finally {
            await stores.close();
          }
        },
      ),
      { numRuns: 120 },
    );
  });
});

// --- Examples

/** A family and its first token; its tokens lapse at `tokenExpiresAt` (idle), the family at `expiresAt`. */
function session(
  id: string,
  userId: string,
  clientId: string,
  expiresAt = T0 + 100 * 86_400_000,
  tokenExpiresAt = expiresAt,
) {
  const family = newFamily({ id, userId, clientId, createdAt: T0, expiresAt });
  const token = newToken(family, { hash: `${id}-0`, issuedAt: T0, expiresAt: tokenExpiresAt });
  let parent = token;
  /** Rotates the family once at `at`, with its `token.refreshed` event. */
  const rotate = async (stores: SqliteStores, at: number) => {
    const generation = parent.generation + 1;
    const child = newToken(family, {
      hash: `${id}-${generation}`,
      generation,
      parentHash: parent.hash,
      issuedAt: at,
      expiresAt: tokenExpiresAt,
    });
    const result = await stores.sessions.rotate({
      parentHash: parent.hash,
      parentGeneration: parent.generation,
      child,
      graceResponse: Buffer.from(`box ${generation}`),
      now: at,
      events: [{ at, type: 'token.refreshed', familyId: id, userId, clientId, data: { generation } }],
    });
    assert.equal(result.outcome, 'rotated');
    parent = child;
  };
  return { family, token, rotate };
}

const generations = (events: LifecycleEvent[]) => events.map((e) => e.data?.generation);
const range = (from: number, to: number) =>
  Array.from({ length: Math.abs(to - from) + 1 }, (_, i) => (from <= to ? from + i : from - i));

describe('sqlite lifecycle record: examples', () => {
  it('a family that ends (idle expiry by cleanup, revocation) has its chain copied: reads by user still find every event', async () => {
    const stores = open(16);
    try {
      // Its tokens lapse at T0 + 5 steps: cleanup at 6 ends it by idle expiry.
      const idle = session('fi', 'ui', 'ci', T0 + 100 * 86_400_000, T0 + 5 * STEP);
      await stores.sessions.createFamily(idle.family, idle.token);
      for (let g = 1; g <= 3; g++) await idle.rotate(stores, T0 + g * STEP);
      const revoked = session('fr', 'ui', 'ci');
      await stores.sessions.createFamily(revoked.family, revoked.token);
      await revoked.rotate(stores, T0 + 4 * STEP);
      stores.settle();
      const byUser = async () => generations(await stores.events.list({ userId: 'ui' }));
      assert.deepEqual(await byUser(), [1, 2, 3, 1]);
      // Three and one chained events: fewer than 16, so not copied yet.
      const copied = () =>
        stores.db.prepare("SELECT COUNT(*) FROM event_index_user WHERE user_id = 'ui'").pluck().get();
      assert.equal(copied(), 0);
      await stores.sessions.revokeFamily('fr', {
        now: T0 + 5 * STEP,
        reason: 'logout',
        noticeUntil: T0 + 100 * 86_400_000,
      });
      const swept = await stores.cleanup.sweep({ now: T0 + 6 * STEP, graceHorizon: T0 + 6 * STEP });
      assert.equal(swept.familiesExpired, 1);
      assert.equal((await stores.sessions.findFamily('fi'))?.status, 'expired');
      assert.equal(copied(), 4, 'both ended families have their chains in the index');
      assert.deepEqual(await byUser(), [1, 2, 3, 1]);
      assert.deepEqual(
        generations(await stores.events.list({ userId: 'ui', order: 'desc', limit: 2 })),
        [1, 3],
      );
    } finally {
      await stores.close();
    }
  });

  it('ten rotations of one family (a flush every 3) read back complete by family and user, both ways and paged', async () => {
    const stores = open(3);
    try {
      const a = session('fa', 'ua', 'ca');
      const b = session('fb', 'ub', 'ca');
      await stores.sessions.createFamily(a.family, a.token);
      await stores.sessions.createFamily(b.family, b.token);
      const check = async (n: number) => {
        for (const key of [{ familyId: 'fa' }, { userId: 'ua' }]) {
          assert.deepEqual(generations(await stores.events.list(key)), range(1, n), JSON.stringify(key));
          assert.deepEqual(generations(await stores.events.list({ ...key, order: 'desc' })), range(n, 1));
        }
      };
      for (let g = 1; g <= 10; g++) {
        await a.rotate(stores, T0 + g * STEP);
        // Another family's rotations in between: in the client's record, never in fa's or ua's.
        if (g % 2 === 0) await b.rotate(stores, T0 + g * STEP);
        if (g % 4 === 0) stores.indexEvents(1);
        await check(g);
      }
      assert.ok(stores.settle() > 0);
      assert.equal(stores.settle(), 0);
      await check(10);
      const all = await stores.events.list({ familyId: 'fa' });
      assert.equal(all.length, 10);
      assert.ok(all.every((e) => e.familyId === 'fa' && e.userId === 'ua' && e.clientId === 'ca'));
      assert.equal((await stores.events.list({ clientId: 'ca' })).length, 15);
      assert.equal((await stores.events.list({ userId: 'ub' })).length, 5);
      const byId = all.map((e) => e.id);
      for (const key of [{ familyId: 'fa' }, { userId: 'ua' }]) {
        // Oldest first, after each page's last id.
        const p1 = await stores.events.list({ ...key, limit: 4 });
        const p2 = await stores.events.list({ ...key, limit: 4, afterId: p1.at(-1)?.id });
        const p3 = await stores.events.list({ ...key, limit: 4, afterId: p2.at(-1)?.id });
        assert.deepEqual([p1, p2, p3].map(generations), [range(1, 4), range(5, 8), range(9, 10)]);
        // Newest first, before each page's last id.
        const q1 = await stores.events.list({ ...key, order: 'desc', limit: 4 });
        const q2 = await stores.events.list({ ...key, order: 'desc', limit: 4, beforeId: q1.at(-1)?.id });
        const q3 = await stores.events.list({ ...key, order: 'desc', limit: 4, beforeId: q2.at(-1)?.id });
        assert.deepEqual([q1, q2, q3].map(generations), [range(10, 7), range(6, 3), range(2, 1)]);
        // Between two ids, both ways.
        const between = { ...key, afterId: byId[2], beforeId: byId[7] };
        assert.deepEqual(generations(await stores.events.list(between)), range(4, 7));
        assert.deepEqual(generations(await stores.events.list({ ...between, order: 'desc' })), range(7, 4));
      }
    } finally {
      await stores.close();
    }
  });

  it('a family deleted by a sweep keeps all its events, by family and by user, and a new family of its id adds to them', async () => {
    const stores = open(3);
    try {
      const a = session('fa', 'ua', 'ca', T0 + 5 * STEP);
      await stores.sessions.createFamily(a.family, a.token, [
        { at: T0, type: 'token.issued', familyId: 'fa', userId: 'ua', clientId: 'ca' },
      ]);
      // Four rotations: three indexed by a batch, the fourth still pending in the chain when the
      // sweep deletes the family, exactly at its absolute expiry.
      for (let g = 1; g <= 3; g++) await a.rotate(stores, T0 + g * STEP);
      stores.indexEvents(10);
      await a.rotate(stores, T0 + 4 * STEP);
      const result = await stores.cleanup.sweep({ now: T0 + 5 * STEP, graceHorizon: T0 + 5 * STEP });
      assert.equal(result.familiesDeleted, 1);
      assert.equal(await stores.sessions.findFamily('fa'), null);
      const check = async (want: (number | undefined)[]) => {
        for (const key of [{ familyId: 'fa' }, { userId: 'ua' }, { clientId: 'ca' }]) {
          assert.deepEqual(generations(await stores.events.list(key)), want, JSON.stringify(key));
          assert.deepEqual(
            generations(await stores.events.list({ ...key, order: 'desc' })),
            [...want].reverse(),
          );
        }
        assert.deepEqual(
          generations(await stores.events.list({ type: 'token.refreshed', familyId: 'fa' })),
          want.slice(1),
        );
      };
      await check([undefined, 1, 2, 3, 4]);
      stores.settle();
      await check([undefined, 1, 2, 3, 4]);
      // The id again, for a new sign-in of the same user: its chain starts over, after the old events.
      const again = session('fa', 'ua', 'ca');
      await stores.sessions.createFamily(again.family, again.token);
      for (let g = 1; g <= 4; g++) {
        await again.rotate(stores, T0 + (10 + g) * STEP);
        if (g === 2) stores.indexEvents(2);
      }
      await check([undefined, 1, 2, 3, 4, 1, 2, 3, 4]);
      stores.settle();
      await check([undefined, 1, 2, 3, 4, 1, 2, 3, 4]);
    } finally {
      await stores.close();
    }
  });

  it('events deleted by retention never come back, and the rest stay complete', async () => {
    const stores = open(2);
    try {
      const a = session('fa', 'ua', 'ca');
      await stores.sessions.createFamily(a.family, a.token);
      for (let g = 1; g <= 6; g++) {
        await a.rotate(stores, T0 + g * STEP);
        if (g === 3) stores.indexEvents(2);
      }
      await stores.events.append([
        { at: T0 + 7 * STEP, type: 'session.ended', userId: 'ua', reason: 'logout' },
      ]);
      // The oldest two only, though three are older than `before`.
      assert.equal(await stores.events.pruneEvents({ before: T0 + 4 * STEP, limit: 2 }), 2);
      // The logout (no family, no generation) is the user's event between generations 6 and 7.
      const end = undefined;
      const check = async (family: number[], user: (number | undefined)[]) => {
        assert.deepEqual(generations(await stores.events.list({ familyId: 'fa' })), family);
        assert.deepEqual(
          generations(await stores.events.list({ familyId: 'fa', order: 'desc' })),
          [...family].reverse(),
        );
        assert.deepEqual(generations(await stores.events.list({ userId: 'ua' })), user);
        assert.deepEqual(
          generations(await stores.events.list({ userId: 'ua', order: 'desc' })),
          [...user].reverse(),
        );
        assert.deepEqual(generations(await stores.events.list({ clientId: 'ca' })), family);
        assert.deepEqual(generations(await stores.events.list({ type: 'token.refreshed' })), family);
        assert.deepEqual(generations(await stores.events.list({})), user);
        // Nothing older than the oldest kept event, whatever the bounds.
        const early = await stores.events.list({ familyId: 'fa', afterId: 0, to: T0 + 4 * STEP });
        assert.deepEqual(
          generations(early),
          family.filter((g) => g < 4),
        );
      };
      await check([3, 4, 5, 6], [3, 4, 5, 6, end]);
      stores.settle();
      await check([3, 4, 5, 6], [3, 4, 5, 6, end]);
      // The rest of what is older than \`before\`; then more rotations, indexed and not.
      assert.equal(await stores.events.pruneEvents({ before: T0 + 4 * STEP, limit: 100 }), 1);
      await check([4, 5, 6], [4, 5, 6, end]);
      await a.rotate(stores, T0 + 8 * STEP);
      await check([4, 5, 6, 7], [4, 5, 6, end, 7]);
      await a.rotate(stores, T0 + 9 * STEP);
      stores.indexEvents(1);
      await check([4, 5, 6, 7, 8], [4, 5, 6, end, 7, 8]);
      stores.settle();
      await check([4, 5, 6, 7, 8], [4, 5, 6, end, 7, 8]);
      // Retention past the logout: only the two newest rotations stay, and no pruned id is listed again.
      assert.equal(await stores.events.pruneEvents({ before: T0 + 8 * STEP, limit: 100 }), 4);
      await check([7, 8], [7, 8]);
      assert.equal((await stores.events.list({ familyId: 'fa', limit: LIMITS.listMax })).length, 2);
    } finally {
      await stores.close();
    }
  });
});

describe('sqlite lifecycle record: retention edge cases', () => {
  it('retention keeps the newest event, so no id comes back: the next events are found by every filter', async () => {
    const stores = open(2);
    try {
      const a = session('fa', 'ua', 'ca');
      await stores.sessions.createFamily(a.family, a.token);
      await a.rotate(stores, T0 + STEP);
      await stores.events.append([
        { at: T0 + STEP, type: 'token.issued', familyId: 'fb', userId: 'ub', clientId: 'cb' },
      ]);
      stores.settle();
      const newest = await stores.events.lastEventId();
      // Both are older than `before`; the newest stays.
      assert.equal(await stores.events.pruneEvents({ before: T0 + 2 * STEP, limit: 100 }), 1);
      assert.deepEqual(ids(await stores.events.list({})), [newest]);
      assert.equal(await stores.events.pruneEvents({ before: T0 + 2 * STEP, limit: 100 }), 0);
      await a.rotate(stores, T0 + 3 * STEP);
      await stores.events.append([
        { at: T0 + 3 * STEP, type: 'token.issued', familyId: 'fb', userId: 'ub', clientId: 'cb' },
      ]);
      const check = async () => {
        const all = await stores.events.list({});
        assert.equal(all.length, 3);
        const [kept, rotated, appended] = all as [LifecycleEvent, LifecycleEvent, LifecycleEvent];
        assert.equal(kept.id, newest);
        assert.ok(rotated.id > newest, `a new event's id ${rotated.id} is past the newest before it`);
        for (const [key, want] of [
          [{ familyId: 'fa' }, [rotated]],
          [{ userId: 'ua' }, [rotated]],
          [{ clientId: 'ca' }, [rotated]],
          [{ type: 'token.refreshed' }, [rotated]],
          [{ familyId: 'fb' }, [kept, appended]],
          [{ userId: 'ub' }, [kept, appended]],
          [{ clientId: 'cb' }, [kept, appended]],
          [{ type: 'token.issued' }, [kept, appended]],
        ] as [EventFilter, LifecycleEvent[]][]) {
          assert.deepEqual(await stores.events.list(key), want, JSON.stringify(key));
        }
      };
      await check();
      stores.settle();
      await check();
    } finally {
      await stores.close();
    }
  });

  it('a rotation event older than its family’s previous one (a clock set back) hides nothing once retention deletes it', async () => {
    const stores = open(5);
    try {
      const a = session('fa', 'ua', 'ca');
      await stores.sessions.createFamily(a.family, a.token);
      await a.rotate(stores, T0 + 5 * STEP);
      await a.rotate(stores, T0 + STEP); // the clock went back
      // Another family's event, so that retention does not delete the newest event.
      await stores.events.append([{ at: T0 + 6 * STEP, type: 'token.issued', familyId: 'fb', userId: 'ub' }]);
      stores.settle();
      // Deletes the second rotation's event (the older by time), not the first one's.
      assert.equal(await stores.events.pruneEvents({ before: T0 + 2 * STEP, limit: 100 }), 1);
      const check = async (want: number[]) => {
        for (const key of [
          { familyId: 'fa' },
          { userId: 'ua' },
          { clientId: 'ca' },
          { type: 'token.refreshed' },
        ]) {
          assert.deepEqual(generations(await stores.events.list(key)), want, JSON.stringify(key));
          assert.deepEqual(
            generations(await stores.events.list({ ...key, order: 'desc' })),
            [...want].reverse(),
          );
        }
      };
      await check([1]);
      await a.rotate(stores, T0 + 7 * STEP);
      await check([1, 3]);
      stores.settle();
      await check([1, 3]);
      assert.equal((await stores.events.list({})).length, 3);
    } finally {
      await stores.close();
    }
  });
});
