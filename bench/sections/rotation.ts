/**
 * Refresh rotation throughput, Tessera (SQLite WAL file) versus oidc-provider (unbounded memory),
 * alternating, with the parts of one rotation measured in the same rounds (the physical limit).
 */
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS, openSqliteStores, type RefreshTokenRecord } from '@tessera/server';
import { Redis } from 'ioredis';
import pg from 'pg';
// Not exported by the package: the signer the server issues JWT access tokens with.
import { compactSigner } from '../../packages/server/src/tokens/compact-jws.js';
import type { Baseline } from '../lib/baseline.js';
import { Child, processCpu, writeSyscalls } from '../lib/child.js';
import { type LoadResult, runLoad, runLoadSpread } from '../lib/load.js';
import { freePort } from '../lib/net.js';
import { median, ratio } from '../lib/stats.js';

export interface RotationProfile {
  rounds: number;
  warmup: number;
  /** Requests per run at each concurrency. */
  amounts: Record<number, number>;
  maxSeconds: number;
  signSeconds: number;
  sqliteRotations: number;
  bareAmount: number;
  /** Folder for CPU profiles of the Tessera server, one per measured run (start-up and minting excluded). */
  cpuProf?: string | undefined;
  /** An earlier commit of Tessera as a third contender (`--baseline=REV`). */
  baseline?: Baseline | undefined;
  /**
   * Left out (`--skip=`, for quick A/B work; RESULTS.md is never written then): contenders
   * `opaque`, `oidcRedis`, `pgRedis`, and `parts` (the limit's parts and the store's cost per
   * round), `frames` (the WAL page count).
   */
  skip?: string[] | undefined;
}

export const CONCURRENCIES = [1, 10, 50] as const;

export interface RotationResult {
  /** Per concurrency, per contender: every run. */
  runs: Record<
    number,
    {
      tessera: LoadResult[];
      oidc: LoadResult[];
      ratios: number[];
      /** With `--baseline`: its runs, and this tree ÷ the baseline per round. */
      baseline: LoadResult[];
      baselineRatios: number[];
      /** Tessera with opaque access tokens (what oidc-provider issues), and its ÷ oidc per round. */
      opaque: LoadResult[];
      opaqueRatios: number[];
      /** oidc-provider on Redis (its example adapter), and Tessera ÷ it per round. */
      oidcRedis: LoadResult[];
      redisRatios: number[];
      /** Per round: Tessera's server CPU per rotation ÷ oidc-provider's (in memory), all threads. */
      cpuRatios: number[];
      /**
       * Two Tessera instances on PostgreSQL + Redis, the load spread over both; per round ÷
       * oidc-provider in memory, ÷ oidc-provider on Redis and ÷ one Tessera on SQLite.
       */
      pgRedis: LoadResult[];
      pgRatios: number[];
      pgRedisRatios: number[];
      pgSqliteRatios: number[];
    }
  >;
  parts: {
    signSerial: number[];
    signInFlight: number[];
    sqliteRotate: number[];
    bareFastify: number[];
    bareFastifyP99: number[];
    /** Tessera's c=50 and c=10 throughput as a share of 1 / (sum of part costs), per round. */
    share50: number[];
    share10: number[];
    limit: number[];
    /**
     * Per round: the 2× goal (twice oidc-provider's c=50 rate) ÷ the limit, and ÷ the limit of the
     * signature and the bare request alone (a store that cost nothing). Above 1: out of reach.
     */
    goalOverLimit: number[];
    goalOverNoStoreLimit: number[];
    /** The store under the group commit, per round: CPU µs and write syscalls per rotation. */
    storeCpu: number[];
    storeWrites: number[];
    /** Per round: the CPU a 2× server could spend per rotation, 2 cores ÷ (2 × oidc-provider's c=50 rate). */
    budget: number[];
  };
  /** WAL pages written per rotation by the store: one at a time, in batches of 16; on the hot path and deferred. */
  frames: {
    single: { hot: number; deferred: number };
    batched: { hot: number; deferred: number };
    /** Batches of 16, over sessions rotated 16 times each (their event chains copied once). */
    long: { hot: number; deferred: number };
  };
  notes: string[];
}

const form = { 'content-type': 'application/x-www-form-urlencoded' };

interface Contender {
  name: 'tessera' | 'oidc' | 'baseline' | 'opaque' | 'oidcRedis' | 'pgRedis';
  /** The server that mints; with `others`, every instance behind the load generator. */
  child: Child;
  url: string;
  others?: { child: Child; url: string }[];
  path: string;
  prefix: string;
  /** PostgreSQL: the backends of this schema's pools count in the contender's CPU. */
  pgBackends?: () => Promise<number[]>;
}

/** The contender's server processes. */
const pidsOf = (c: Contender) =>
  [c.child, ...(c.others ?? []).map((o) => o.child)].flatMap((x) => (x.pid ? [x.pid] : []));

/** CPU so far of a contender's processes (all threads, main threads), write syscalls, and its PostgreSQL backends. */
async function contenderCpu(c: Contender) {
  let all = 0;
  let main = 0;
  let writes = 0;
  for (const pid of pidsOf(c)) {
    const x = processCpu(pid);
    if (!x) return undefined;
    all += x.all;
    main += x.main;
    writes += x.writes;
  }
  const db = new Map<number, number>();
  for (const pid of (await c.pgBackends?.()) ?? []) {
    const x = processCpu(pid);
    if (x) db.set(pid, x.all);
  }
  return { all, main, writes, db };
}

/**
 * `n` fresh sessions, in random order: real refreshes come from sessions that signed in at any
 * time, not in sign-in order (which would let a store find consecutive requests' rows on the
 * same pages, and write them as one).
 */
async function mint(c: Contender, n: number): Promise<string[]> {
  return shuffle((await c.child.call<{ refresh: string[] }>('mint', { n })).refresh);
}

/**
 * `n` sessions in the steady state: minted, then each rotated once over HTTP (not measured), so the
 * measured refresh is a session's second, like almost every refresh a server sees (a session
 * refreshes every few minutes for days): its family has rotated before, holds a sealed grace
 * answer, and its row does not grow. Returned in random order.
 */
async function steadyPool(c: Contender, n: number, maxSeconds: number): Promise<string[]> {
  const first = await mint(c, n);
  const children: string[] = [];
  const pattern = /"refresh_token":"([^"]+)"/;
  const r = await rotateLoad(c, first, 16, first.length, maxSeconds, (status, body) => {
    const m = status === 200 ? pattern.exec(body) : null;
    if (m?.[1]) children.push(m[1]);
    return m !== null;
  });
  if (r.failed + r.errors > 0) throw new Error(`${c.name}: first rotations failed: ${r.sampleFailure}`);
  if (children.length < n)
    throw new Error(`${c.name}: ${n - children.length} first rotations did not finish in time`);
  return shuffle(children);
}

function shuffle<T>(xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

function rotateLoad(
  c: Contender,
  pool: string[],
  connections: number,
  amount: number,
  maxSeconds: number,
  check?: (status: number, body: string) => boolean,
) {
  return runLoadSpread([c.url, ...(c.others ?? []).map((o) => o.url)], {
    path: c.path,
    method: 'POST',
    connections,
    amount,
    maxSeconds,
    fixedHeaders: form,
    // A fresh, never-used refresh token per request; a missing one would fail (and be counted).
    body: (i) => `grant_type=refresh_token&client_id=bench&refresh_token=${pool[i] ?? 'exhausted'}`,
    // Rotation means a 200 with a new refresh token in the body.
    check: check ?? ((status, body) => status === 200 && body.includes(`"refresh_token":"${c.prefix}`)),
  });
}

/**
 * ES256 access-token signatures per second as the server makes them (`node:crypto`'s synchronous
 * `sign`, compact JWS, same header and claims shape): one at a time, and `inFlight` at once (the
 * same for a synchronous signature; kept to show it).
 */
export async function signRate(seconds: number, inFlight: number): Promise<number> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer = compactSigner(
    { alg: 'ES256', typ: 'at+jwt', kid: randomBytes(8).toString('hex') },
    privateKey,
  );
  const sign = async () => {
    const now = Math.floor(Date.now() / 1000);
    return signer.sign(
      JSON.stringify({
        iss: 'http://127.0.0.1:4000',
        sub: randomUUID(),
        aud: 'http://127.0.0.1:4000',
        client_id: 'bench',
        scope: '',
        jti: randomBytes(16).toString('base64url'),
        iat: now,
        exp: now + 900,
        sid: randomBytes(16).toString('base64url'),
      }),
    );
  };
  for (let i = 0; i < 200; i++) await sign();
  let done = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        await sign();
        done++;
      }
    }),
  );
  return done / ((performance.now() - t0) / 1000);
}

/** A refresh token's idle lifetime in the store measures (the server's default). */
const IDLE_MS = DEFAULTS.refreshIdleTtl * 1000;
/** Sealed grace answers are about this big (IV + tag + the JSON of a rotation's answer). */
const GRACE_BYTES = 700;

interface Session {
  token: RefreshTokenRecord;
  userId: string;
}

/** `n` fresh sessions straight through the store: a family and its first refresh token each. */
async function createFamilies(
  stores: ReturnType<typeof openSqliteStores>,
  n: number,
  now: number,
  userOf: (i: number) => string,
): Promise<Session[]> {
  const sessions: Session[] = [];
  for (let i = 0; i < n; i++) {
    const id = randomBytes(16).toString('base64url');
    const token: RefreshTokenRecord = {
      hash: randomBytes(32).toString('base64url'),
      familyId: id,
      generation: 0,
      parentHash: null,
      status: 'active',
      issuedAt: now,
      expiresAt: now + IDLE_MS,
      rotatedAt: null,
      graceResponse: null,
    };
    const userId = userOf(i);
    await stores.sessions.createFamily(
      {
        id,
        clientId: 'bench',
        userId,
        scope: '',
        status: 'active',
        createdAt: now,
        expiresAt: now + 30 * 86_400_000,
        generation: 0,
        lastRefreshAt: null,
        endedAt: null,
        endReason: null,
        endedBy: null,
        endNote: null,
        userAgent: 'bench',
        ip: '127.0.0.1',
        dpopJkt: null,
      },
      token,
    );
    sessions.push({ token, userId });
  }
  return sessions;
}

/**
 * The next rotation of a session as a request makes it: a random child whose idle expiry runs
 * from `now` (the server never copies the parent's), the sealed answer, and (unless `bare`) the
 * `token.refreshed` event the server records.
 */
function nextRotation(s: Session, grace: Uint8Array, now: number, bare = false) {
  const parent = s.token;
  const child: RefreshTokenRecord = {
    ...parent,
    hash: randomBytes(32).toString('base64url'),
    generation: parent.generation + 1,
    parentHash: parent.hash,
    issuedAt: now,
    expiresAt: now + IDLE_MS,
    rotatedAt: null,
    graceResponse: null,
  };
  const input = {
    parentHash: parent.hash,
    parentGeneration: parent.generation,
    child,
    graceResponse: grace,
    now,
    ...(bare
      ? {}
      : {
          events: [
            {
              at: now,
              type: 'token.refreshed' as const,
              familyId: parent.familyId,
              userId: s.userId,
              clientId: 'bench',
              data: { generation: child.generation, jti: randomBytes(16).toString('base64url') },
            },
          ],
        }),
  };
  return { input, next: { token: child, userId: s.userId } };
}

/**
 * `n` sessions of 1,000 users in the steady state, in random order: created, then each rotated
 * once (the measured rotation is then a family's second, as almost every real one is).
 */
async function steadySessions(stores: ReturnType<typeof openSqliteStores>, n: number, now: number) {
  const created = shuffle(await createFamilies(stores, n, now, (i) => `user-${i % 1000}`));
  const grace = randomBytes(GRACE_BYTES);
  const current: Session[] = [];
  for (let i = 0; i < created.length; i += 64) {
    await Promise.all(
      created.slice(i, i + 64).map(async (s) => {
        const { input, next } = nextRotation(s, grace, now + 1);
        const r = await stores.sessions.rotate(input);
        if (r.outcome !== 'rotated') throw new Error('bench store: conflict on a fresh family');
        current.push(next);
      }),
    );
  }
  return shuffle(current);
}

/** The store's `rotate` alone (no event), one at a time, on families in the steady state, WAL file, default `synchronous`. */
export async function sqliteRotateRate(n: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-sqlite-'));
  const stores = openSqliteStores({ path: join(dir, 'rotate.db'), synchronous: DEFAULTS.sqliteSynchronous });
  try {
    const now = Date.now();
    const sessions = await steadySessions(stores, n, now);
    const grace = randomBytes(GRACE_BYTES);
    const inputs = sessions.map((s) => nextRotation(s, grace, now + 2, true).input);
    const t0 = performance.now();
    for (const input of inputs) {
      const r = await stores.sessions.rotate(input);
      if (r.outcome !== 'rotated') throw new Error('sqlite rotate: conflict');
    }
    return n / ((performance.now() - t0) / 1000);
  } finally {
    await stores.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What the store costs per rotation under the group commit, as a request uses it: `findToken`, then
 * `rotate` with its event, 16 rotations at a time, on 4,000 of 20,000 families (1,000 users) in the
 * steady state, in random order, with the checkpointer on. CPU of this process (the store's
 * checkpointer thread and its background indexing included; nothing else runs meanwhile) and its
 * write system calls (`/proc/self/io`).
 */
export async function sqliteBatchedCost(): Promise<{ cpu: number; writes: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-store-'));
  const stores = openSqliteStores({ path: join(dir, 'store.db'), synchronous: DEFAULTS.sqliteSynchronous });
  try {
    const now = Date.now();
    const sessions = await steadySessions(stores, 20_000, now);
    await settle(stores);
    stores.db.pragma('wal_checkpoint(TRUNCATE)');
    const grace = randomBytes(GRACE_BYTES);
    const n = 4000;
    const cpu0 = process.cpuUsage();
    const writes0 = writeSyscalls('self');
    for (let i = 0; i < n; i += 16) {
      await Promise.all(
        sessions.slice(i, i + 16).map(async (s) => {
          const state = await stores.sessions.findToken(s.token.familyId, s.token.hash);
          if (state?.token.status !== 'active')
            throw new Error('sqlite store cost: the current token was not found');
          const r = await stores.sessions.rotate(nextRotation(s, grace, now + 2).input);
          if (r.outcome !== 'rotated') throw new Error('sqlite store cost: conflict');
        }),
      );
    }
    // What the rotations left for later (background indexing) is part of their cost.
    await settle(stores);
    const cpu = process.cpuUsage(cpu0);
    return { cpu: (cpu.user + cpu.system) / n, writes: (writeSyscalls('self') - writes0) / n };
  } finally {
    await stores.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs whatever the store defers off the hot path (an index built in batches), if it has any. */
async function settle(stores: ReturnType<typeof openSqliteStores>): Promise<number> {
  const deferred = (stores as { settle?: () => number }).settle;
  return deferred ? deferred.call(stores) : 0;
}

/**
 * Rotations between two runs of the event index in the page count: what the server's index,
 * every `EVENT_INDEX_INTERVAL_MS` (250 ms), finds at about 2,000 rotations a second. Fewer events
 * a batch share fewer index pages, so one batch for all the rotations would understate it.
 */
const INDEX_EVERY = 512;

/**
 * WAL pages (frames) the store writes per rotation, one at a time and in batches of 16 (what the
 * group commit makes of concurrent requests): the store's own rotate, with the event a real
 * rotation records, 4,000 of 20,000 families of 1,000 users in the steady state (each rotated
 * before), in random order, checkpoints off so every frame stays in the WAL. The event index runs
 * every `INDEX_EVERY` rotations, as the server's timer would. Each frame is then told by the page
 * it holds: `deferred` are the pages of the event index's tables (written off the hot path, by
 * the index), `hot` all the others. Unlike a rate it does not depend on the machine's noise: the
 * same code gives the same figure.
 */
export async function sqliteFramesPerRotation(
  batch: number,
  perFamily = 1,
): Promise<{ hot: number; deferred: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-frames-'));
  const path = join(dir, 'frames.db');
  // The index runs here, at its cadence, not on the store's timer.
  const stores = openSqliteStores({ path, checkpointIntervalMs: 0, eventIndexIntervalMs: 0 });
  try {
    stores.db.pragma('wal_autocheckpoint = 0');
    const now = Date.now();
    const n = 4000;
    // `perFamily` rotations of each of n ÷ perFamily families, round robin: long-lived sessions,
    // whose event chains the index copies a family at a time (every `EVENT_CHAIN_FLUSH`).
    const sessions = (await steadySessions(stores, 20_000, now)).slice(0, n / perFamily);
    await settle(stores);
    stores.db.pragma('wal_checkpoint(TRUNCATE)');
    const grace = randomBytes(GRACE_BYTES);
    // What the index writes: the frames its runs add to the WAL (checkpoints are off, so the WAL
    // only grows: its size counts them).
    const pageSize = stores.db.pragma('page_size', { simple: true }) as number;
    const walFrames = () => Math.max(0, statSync(`${path}-wal`).size - 32) / (24 + pageSize);
    let deferred = 0;
    const index = async () => {
      const before = walFrames();
      await settle(stores);
      deferred += walFrames() - before;
    };
    let done = 0;
    for (let round = 0; round < perFamily; round++) {
      for (let i = 0; i < sessions.length; i += batch) {
        const rotations = sessions.slice(i, i + batch).map((s) => nextRotation(s, grace, now + 2 + round));
        const results = await Promise.all(rotations.map((r) => stores.sessions.rotate(r.input)));
        if (results.some((r) => r.outcome !== 'rotated')) throw new Error('sqlite frames: conflict');
        rotations.forEach((r, j) => {
          sessions[i + j] = r.next;
        });
        const before = done;
        done += rotations.length;
        if (Math.floor(done / INDEX_EVERY) > Math.floor(before / INDEX_EVERY)) await index();
      }
    }
    await index();
    let total = 0;
    for (const frames of walFramesByTree(stores.db, path).values()) total += frames;
    return { hot: (total - deferred) / n, deferred: deferred / n };
  } finally {
    await stores.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The frames in the WAL of the database at `path`, counted by the table or index their page
 * belongs to (SQLite's `dbstat`; page 1 is `sqlite_schema`). Checkpoints must have been off since
 * the WAL last restarted, so that every frame written is still there.
 */
function walFramesByTree(db: ReturnType<typeof openSqliteStores>['db'], path: string): Map<string, number> {
  const frames = (db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[])[0]?.log ?? 0;
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const tree = new Map<number, string>();
  for (const row of db.prepare('SELECT name, pageno FROM dbstat').all() as { name: string; pageno: number }[])
    tree.set(row.pageno, row.name);
  const wal = readFileSync(`${path}-wal`);
  const counts = new Map<string, number>();
  // The WAL header is 32 bytes; each frame a 24-byte header (its page number first) and the page.
  for (let i = 0; i < frames; i++) {
    const at = 32 + i * (24 + pageSize);
    if (at + 24 + pageSize > wal.length)
      throw new Error('sqlite frames: the WAL is shorter than its frame count');
    const name = tree.get(wal.readUInt32BE(at)) ?? 'free pages';
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

export async function rotationBench(p: RotationProfile, log: (m: string) => void): Promise<RotationResult> {
  const notes: string[] = [];
  const tessera = await Child.start('tessera', { port: await freePort() });
  const oidc = await Child.start('oidc', { port: await freePort() });
  // oidc-provider as deployed with a shared store: its example Redis adapter, on the Redis service.
  const oidcRedis = await Child.start('oidc', { port: await freePort(), adapter: 'redis' });
  const bare = await Child.start('api', { port: await freePort() });
  // Like for like: oidc-provider's access tokens are opaque, so Tessera's are too in this contender.
  const opaque = await Child.start('tessera', { port: await freePort(), accessTokenFormat: 'opaque' });
  // Two instances on one PostgreSQL schema and one Redis key prefix of the bench's own (dropped
  // after), as `TESSERA_DATABASE_URL`/`TESSERA_REDIS_URL` configure them: the first migrates and
  // creates the keys, users and clients, the second finds them.
  const pair = p.skip?.includes('pgRedis') ? undefined : await startPgPair(notes);
  const base = p.baseline
    ? await Child.startFile(
        `tessera@${p.baseline.rev}`,
        p.baseline.serverScript,
        { port: await freePort() },
        [],
        p.baseline.dir,
      )
    : undefined;
  const contenders: Contender[] = [
    { name: 'tessera', child: tessera, url: String(tessera.info.url), path: '/oauth/token', prefix: 'tsr_' },
    {
      name: 'oidc',
      child: oidc,
      url: String(oidc.info.url),
      path: new URL(String(oidc.info.tokenEndpoint)).pathname,
      prefix: '',
    },
    { name: 'opaque', child: opaque, url: String(opaque.info.url), path: '/oauth/token', prefix: 'tsr_' },
    {
      name: 'oidcRedis',
      child: oidcRedis,
      url: String(oidcRedis.info.url),
      path: new URL(String(oidcRedis.info.tokenEndpoint)).pathname,
      prefix: '',
    },
  ];
  if (pair) contenders.push(pair.contender);
  for (const name of p.skip ?? []) {
    const at = contenders.findIndex((c) => c.name === name);
    if (at >= 0) contenders.splice(at, 1);
  }
  if (base) {
    contenders.push({
      name: 'baseline',
      child: base,
      url: String(base.info.url),
      path: '/oauth/token',
      prefix: 'tsr_',
    });
  }
  const result: RotationResult = {
    runs: Object.fromEntries(
      CONCURRENCIES.map((c) => [
        c,
        {
          tessera: [],
          oidc: [],
          ratios: [],
          baseline: [],
          baselineRatios: [],
          opaque: [],
          opaqueRatios: [],
          oidcRedis: [],
          redisRatios: [],
          cpuRatios: [],
          pgRedis: [],
          pgRatios: [],
          pgRedisRatios: [],
          pgSqliteRatios: [],
        },
      ]),
    ),
    parts: {
      signSerial: [],
      signInFlight: [],
      sqliteRotate: [],
      bareFastify: [],
      bareFastifyP99: [],
      share50: [],
      share10: [],
      limit: [],
      goalOverLimit: [],
      goalOverNoStoreLimit: [],
      storeCpu: [],
      storeWrites: [],
      budget: [],
    },
    frames: {
      single: { hot: Number.NaN, deferred: Number.NaN },
      batched: { hot: Number.NaN, deferred: Number.NaN },
      long: { hot: Number.NaN, deferred: Number.NaN },
    },
    notes,
  };
  try {
    if (!p.skip?.includes('frames'))
      result.frames = {
        single: await sqliteFramesPerRotation(1),
        batched: await sqliteFramesPerRotation(16),
        long: await sqliteFramesPerRotation(16, 16),
      };
    log(
      `rotation: WAL pages per rotation ${result.frames.single.hot.toFixed(2)} + ${result.frames.single.deferred.toFixed(2)} deferred (one at a time), ${result.frames.batched.hot.toFixed(2)} + ${result.frames.batched.deferred.toFixed(2)} deferred (batches of 16), ${result.frames.long.hot.toFixed(2)} + ${result.frames.long.deferred.toFixed(2)} deferred (batches of 16, sessions rotated 16 times)`,
    );
    for (const c of contenders) {
      log(`rotation: warm-up ${c.name}`);
      const pool = await mint(c, p.warmup + 40);
      const r = await rotateLoad(c, pool, 10, p.warmup, p.maxSeconds);
      if (r.failed + r.errors > 0) throw new Error(`${c.name} warm-up failed: ${r.sampleFailure}`);
    }
    await runLoad({
      url: String(bare.info.url),
      path: '/open',
      connections: 50,
      amount: p.bareAmount,
      maxSeconds: p.maxSeconds,
    });

    for (let round = 0; round < p.rounds; round++) {
      const thisRound: Record<number, Record<string, LoadResult>> = {};
      for (const [ci, conns] of CONCURRENCIES.entries()) {
        // Every contender takes every place in the order over the rounds.
        const shift = (round + ci) % contenders.length;
        const order = [...contenders.slice(shift), ...contenders.slice(0, shift)];
        thisRound[conns] = {};
        for (const c of order) {
          const amount = p.amounts[conns]!;
          const pool = await steadyPool(c, amount + conns * 4 + 16, p.maxSeconds * 6);
          const profiled = p.cpuProf !== undefined && (c.name === 'tessera' || c.name === 'pgRedis');
          if (profiled) await c.child.call('profileStart');
          const cpuBefore = await contenderCpu(c);
          const r = await rotateLoad(c, pool, conns, amount, p.maxSeconds);
          const cpuAfter = await contenderCpu(c);
          if (cpuBefore && cpuAfter && r.ok > 0) {
            // A backend that started during the run counts from zero.
            let db = 0;
            for (const [pid, t] of cpuAfter.db) db += t - (cpuBefore.db.get(pid) ?? 0);
            r.cpu = {
              all: (cpuAfter.all - cpuBefore.all) / r.ok,
              main: (cpuAfter.main - cpuBefore.main) / r.ok,
              writes: (cpuAfter.writes - cpuBefore.writes) / r.ok,
              ...(c.pgBackends ? { db: db / r.ok } : {}),
            };
          }
          if (profiled) {
            const who = c.name === 'tessera' ? 'tessera' : 'tessera-postgres-a';
            const file = join(p.cpuProf!, `${who}-c${conns}-round${round + 1}.cpuprofile`);
            await c.child.call('profileStop', { file });
          }
          log(
            `rotation round ${round + 1}/${p.rounds} c=${conns} ${c.name}: ${r.rps.toFixed(0)}/s p50 ${r.p50.toFixed(2)} ms p99 ${r.p99.toFixed(2)} ms failed ${r.failed + r.errors}${r.cpu ? ` cpu ${r.cpu.all.toFixed(0)} µs/rot (main ${r.cpu.main.toFixed(0)}${r.cpu.db === undefined ? '' : `, PostgreSQL backends ${r.cpu.db.toFixed(0)}`}), ${r.cpu.writes.toFixed(1)} writes/rot` : ''}${r.sampleFailure ? ` (${r.sampleFailure})` : ''}`,
          );
          delete r.latencies;
          result.runs[conns]![c.name].push(r);
          thisRound[conns]![c.name] = r;
        }
        result.runs[conns]!.ratios.push(ratio(thisRound[conns]!.tessera!.rps, thisRound[conns]!.oidc!.rps));
        result.runs[conns]!.opaqueRatios.push(
          ratio(thisRound[conns]!.opaque?.rps ?? Number.NaN, thisRound[conns]!.oidc!.rps),
        );
        result.runs[conns]!.redisRatios.push(
          ratio(thisRound[conns]!.tessera!.rps, thisRound[conns]!.oidcRedis?.rps ?? Number.NaN),
        );
        const pg = thisRound[conns]!.pgRedis;
        if (pg) {
          result.runs[conns]!.pgRatios.push(ratio(pg.rps, thisRound[conns]!.oidc!.rps));
          result.runs[conns]!.pgRedisRatios.push(
            ratio(pg.rps, thisRound[conns]!.oidcRedis?.rps ?? Number.NaN),
          );
          result.runs[conns]!.pgSqliteRatios.push(ratio(pg.rps, thisRound[conns]!.tessera!.rps));
        }
        const tc = thisRound[conns]!.tessera!.cpu;
        const oc = thisRound[conns]!.oidc!.cpu;
        if (tc && oc) result.runs[conns]!.cpuRatios.push(tc.all / oc.all);
        if (base) {
          result.runs[conns]!.baselineRatios.push(
            ratio(thisRound[conns]!.tessera!.rps, thisRound[conns]!.baseline!.rps),
          );
        }
      }
      if (p.skip?.includes('parts')) continue;
      // The parts of one rotation, in the same round.
      const signSerial = await signRate(p.signSeconds, 1);
      const signInFlight = await signRate(p.signSeconds, 64);
      const sqliteRotate = await sqliteRotateRate(p.sqliteRotations);
      const store = await sqliteBatchedCost();
      const b = await runLoad({
        url: String(bare.info.url),
        path: '/open',
        connections: 50,
        amount: p.bareAmount,
        maxSeconds: p.maxSeconds,
      });
      const limit = 1 / (1 / signInFlight + 1 / sqliteRotate + 1 / b.rps);
      result.parts.signSerial.push(signSerial);
      result.parts.signInFlight.push(signInFlight);
      result.parts.sqliteRotate.push(sqliteRotate);
      result.parts.bareFastify.push(b.rps);
      result.parts.bareFastifyP99.push(b.p99);
      result.parts.limit.push(limit);
      result.parts.share50.push(thisRound[50]!.tessera!.rps / limit);
      result.parts.share10.push(thisRound[10]!.tessera!.rps / limit);
      const goal = 2 * thisRound[50]!.oidc!.rps;
      result.parts.goalOverLimit.push(goal / limit);
      result.parts.goalOverNoStoreLimit.push(goal / (1 / (1 / signInFlight + 1 / b.rps)));
      result.parts.storeCpu.push(store.cpu);
      result.parts.storeWrites.push(store.writes);
      result.parts.budget.push((cpus().length * 1e6) / goal);
      log(
        `parts round ${round + 1}: sign ${signSerial.toFixed(0)}/s serial, ${signInFlight.toFixed(0)}/s in flight; sqlite rotate ${sqliteRotate.toFixed(0)}/s; store batched ${store.cpu.toFixed(0)} µs and ${store.writes.toFixed(1)} writes per rotation; bare fastify ${b.rps.toFixed(0)}/s; limit ${limit.toFixed(0)}/s`,
      );
    }
  } finally {
    await Promise.all([
      tessera.stop(),
      oidc.stop(),
      oidcRedis.stop(),
      bare.stop(),
      opaque.stop(),
      base?.stop(),
    ]);
    await pair?.stop();
  }
  return result;
}

/** The PostgreSQL service the bench uses (the test suite's, or PostgreSQL's default on loopback). */
export const PG_URL =
  process.env.TESSERA_BENCH_PG_URL ??
  process.env.TESSERA_TEST_PG_URL ??
  'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TESSERA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * A PostgreSQL schema and a Redis key prefix of the bench's own, and a pool to read the
 * backends' pids and to drop the schema after; `undefined` (with a note) when PostgreSQL is
 * not reachable.
 */
export async function benchPostgres(notes: string[], label: string) {
  const schema = `tessera_bench_${label}_${process.pid}`;
  const prefix = `tessera-bench-${label}-${process.pid}:`;
  const admin = new pg.Pool({ connectionString: PG_URL, max: 1 });
  try {
    await admin.query('SELECT 1');
  } catch (err) {
    await admin.end().catch(() => {});
    notes.push(
      `PostgreSQL at ${PG_URL} is not reachable (${(err as Error).message}): no PostgreSQL contender`,
    );
    return undefined;
  }
  return {
    schema,
    prefix,
    /** The pids of the backends the schema's pools hold (the pools name their connections after it). */
    backends: async () =>
      (
        await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [
          `tessera ${schema}`,
        ])
      ).rows.map((r) => r.pid),
    /** Drops the schema and deletes the prefix's Redis keys. */
    async drop() {
      try {
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await admin.end().catch(() => {});
        const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
        try {
          await redis.connect();
          let cursor = '0';
          let rounds = 0;
          do {
            const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
            if (keys.length) await redis.del(...keys);
            cursor = next;
          } while (cursor !== '0' && ++rounds < 10_000);
        } catch {
          // Redis down: nothing of ours to delete that will outlive its TTLs.
        } finally {
          redis.disconnect();
        }
      }
    },
  };
}

/** Two Tessera instances on one PostgreSQL schema and one Redis prefix, one master secret. */
async function startPgPair(notes: string[]) {
  const store = await benchPostgres(notes, 'pair');
  if (!store) return undefined;
  const shared = {
    databaseUrl: PG_URL,
    databaseSchema: store.schema,
    redisUrl: REDIS_URL,
    redisPrefix: store.prefix,
    secret: randomBytes(32).toString('base64url'),
  };
  const started: Child[] = [];
  try {
    const portA = await freePort();
    // One issuer, as behind a load balancer: the first instance's URL stands for it.
    const issuer = `http://127.0.0.1:${portA}`;
    const a = await Child.start('tessera', { port: portA, issuer, ...shared });
    started.push(a);
    const b = await Child.start('tessera', { port: await freePort(), issuer, ...shared });
    started.push(b);
    const contender: Contender = {
      name: 'pgRedis',
      child: a,
      url: String(a.info.url),
      others: [{ child: b, url: String(b.info.url) }],
      path: '/oauth/token',
      prefix: 'tsr_',
      pgBackends: store.backends,
    };
    return {
      contender,
      stop: async () => {
        await Promise.all(started.map((c) => c.stop()));
        await store.drop();
      },
    };
  } catch (err) {
    await Promise.all(started.map((c) => c.stop()));
    await store.drop();
    throw err;
  }
}

export function summariseRotation(r: RotationResult) {
  return CONCURRENCIES.map((c) => {
    const t = r.runs[c]!.tessera;
    const o = r.runs[c]!.oidc;
    const sum = (xs: LoadResult[], f: (x: LoadResult) => number) => xs.reduce((a, x) => a + f(x), 0);
    const summary = (xs: LoadResult[]) => ({
      rps: median(xs.map((x) => x.rps)),
      p50: median(xs.map((x) => x.p50)),
      p99: median(xs.map((x) => x.p99)),
      failed: sum(xs, (x) => x.failed + x.errors),
      requests: sum(xs, (x) => x.ok + x.failed + x.errors),
      cpuAll: median(xs.flatMap((x) => (x.cpu ? [x.cpu.all] : []))),
      cpuMain: median(xs.flatMap((x) => (x.cpu ? [x.cpu.main] : []))),
      writes: median(xs.flatMap((x) => (x.cpu ? [x.cpu.writes] : []))),
    });
    const b = r.runs[c]!.baseline;
    return {
      c,
      tessera: summary(t),
      oidc: summary(o),
      opaque: {
        ...summary(r.runs[c]!.opaque),
        ratio: median(r.runs[c]!.opaqueRatios),
        ratios: r.runs[c]!.opaqueRatios,
      },
      oidcRedis: {
        ...summary(r.runs[c]!.oidcRedis),
        ratio: median(r.runs[c]!.redisRatios),
        ratios: r.runs[c]!.redisRatios,
      },
      pgRedis: {
        ...summary(r.runs[c]!.pgRedis),
        db: median(r.runs[c]!.pgRedis.flatMap((x) => (x.cpu?.db === undefined ? [] : [x.cpu.db]))),
        ratio: median(r.runs[c]!.pgRatios),
        ratios: r.runs[c]!.pgRatios,
        redisRatio: median(r.runs[c]!.pgRedisRatios),
        redisRatios: r.runs[c]!.pgRedisRatios,
        sqliteRatio: median(r.runs[c]!.pgSqliteRatios),
        sqliteRatios: r.runs[c]!.pgSqliteRatios,
      },
      cpuRatio: median(r.runs[c]!.cpuRatios),
      cpuRatios: r.runs[c]!.cpuRatios,
      ratio: median(r.runs[c]!.ratios),
      ratios: r.runs[c]!.ratios,
      baseline:
        b.length > 0
          ? {
              ...summary(b),
              ratio: median(r.runs[c]!.baselineRatios),
              ratios: r.runs[c]!.baselineRatios,
              // Per round: this tree's server CPU per rotation ÷ the baseline's (all threads).
              cpuRatios: b.flatMap((x, i) => {
                const mine = t[i]?.cpu?.all;
                return mine !== undefined && x.cpu ? [mine / x.cpu.all] : [];
              }),
            }
          : undefined,
    };
  });
}
