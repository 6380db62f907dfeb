/**
 * `npm run bench`: installs the peers, runs every benchmark on 127.0.0.1 with
 * bounded counts and durations, alternating contenders, and writes bench/RESULTS.md.
 *
 *   npm run bench                     full run (about 10-15 minutes on 2 cores)
 *   npm run bench -- --quick          smoke test: short runs, one round, small growth sizes
 *                                     (--quick and --only write RESULTS.partial.md, never RESULTS.md)
 *   npm run bench -- --only=rotation,client   some sections (rotation, protected, client, growth)
 *   npm run bench -- --cpu-prof       also profile the Tessera server during each measured rotation run
 *   npm run bench -- --rounds=3       rounds per section instead of the profile's (writes RESULTS.partial.md)
 *   npm run bench -- --baseline=REV   also run commit REV's Tessera in the rotation section, alternating,
 *                                     and report this tree ÷ REV (writes RESULTS.partial.md)
 *   npm run bench -- --fill-budget=600  the growth sections' fill budget in seconds (default 240)
 *   npm run bench -- --skip=opaque,oidcRedis,pgRedis,parts,frames
 *                                     leave out rotation contenders or measures (writes RESULTS.partial.md)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { prepareBaseline } from './lib/baseline.js';
import { installPeers } from './lib/peers.js';
import { fmt } from './lib/stats.js';
import { clientSdkBench, PEERS_DIR, type SdkRow } from './sections/client-sdk.js';
import { type GrowthProfile, type GrowthRow, growthBench } from './sections/growth.js';
import { type ProtectedProfile, protectedBench, summariseProtected } from './sections/protected.js';
import { type RotationProfile, rotationBench, summariseRotation } from './sections/rotation.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const only = argv
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const want = (s: string) => !only || only.includes(s);
const baselineRev = argv.find((a) => a.startsWith('--baseline='))?.slice('--baseline='.length);
const skip = argv
  .find((a) => a.startsWith('--skip='))
  ?.slice('--skip='.length)
  .split(',');
const cpuProfDir = argv.includes('--cpu-prof')
  ? fileURLToPath(new URL('./profiles', import.meta.url))
  : undefined;

const started = Date.now();
const log = (m: string) =>
  process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${m}\n`);

const PROFILES: {
  rotation: RotationProfile;
  protectedRoute: ProtectedProfile;
  client: { callers: number; iterations: number };
  growth: GrowthProfile;
} = quick
  ? {
      rotation: {
        rounds: 1,
        warmup: 300,
        amounts: { 1: 200, 10: 1000, 50: 1500 },
        maxSeconds: 10,
        signSeconds: 0.5,
        sqliteRotations: 1000,
        bareAmount: 3000,
      },
      protectedRoute: {
        rounds: 1,
        tokens: 1000,
        amount: 3000,
        connections: 50,
        maxSeconds: 5,
        verifySeconds: 0.5,
      },
      client: { callers: 1000, iterations: 10_000 },
      growth: {
        sizes: [1_000, 10_000],
        rounds: 1,
        amount1: 100,
        amount10: 500,
        maxSeconds: 10,
        fillBudgetSeconds: 60,
      },
    }
  : {
      rotation: {
        rounds: 5,
        warmup: 2000,
        amounts: { 1: 1500, 10: 6000, 50: 10_000 },
        maxSeconds: 20,
        signSeconds: 2,
        sqliteRotations: 5000,
        bareAmount: 20_000,
      },
      protectedRoute: {
        rounds: 5,
        tokens: 1000,
        amount: 20_000,
        connections: 50,
        maxSeconds: 10,
        verifySeconds: 2,
      },
      client: { callers: 1000, iterations: 100_000 },
      growth: {
        sizes: [10_000, 100_000, 1_000_000],
        rounds: 3,
        amount1: 500,
        amount10: 3000,
        maxSeconds: 20,
        fillBudgetSeconds: 240,
      },
    };
if (cpuProfDir) {
  mkdirSync(cpuProfDir, { recursive: true });
  PROFILES.rotation.cpuProf = cpuProfDir;
}
const roundsArg = argv.find((a) => a.startsWith('--rounds='))?.slice('--rounds='.length);
if (roundsArg !== undefined) {
  const rounds = Number(roundsArg);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) {
    throw new Error(`--rounds=${roundsArg}: give a whole number of rounds from 1 to 50`);
  }
  PROFILES.rotation.rounds = rounds;
  PROFILES.protectedRoute.rounds = rounds;
  PROFILES.growth.rounds = rounds;
}
const fillBudgetArg = argv.find((a) => a.startsWith('--fill-budget='))?.slice('--fill-budget='.length);
if (fillBudgetArg !== undefined) {
  const seconds = Number(fillBudgetArg);
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > 3600) {
    throw new Error(`--fill-budget=${fillBudgetArg}: give the growth fill's budget in seconds, 1 to 3600`);
  }
  PROFILES.growth.fillBudgetSeconds = seconds;
}
if (baselineRev !== undefined && cpuProfDir) {
  // The profiler slows the server it samples; only this tree's server can be profiled.
  throw new Error(
    '--cpu-prof slows the profiled server, so its ratio to --baseline would be biased: run them apart',
  );
}
const baseline = baselineRev ? prepareBaseline(baselineRev, log) : undefined;
PROFILES.rotation.baseline = baseline;
PROFILES.rotation.skip = skip;

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: totalmem() / 2 ** 30,
  node: process.version,
  date: new Date().toISOString(),
  commit: gitCommit(),
  loadBefore: loadavg(),
};

installPeers(PEERS_DIR, log);

const rotation = want('rotation') ? await rotationBench(PROFILES.rotation, log) : undefined;
const protectedRoute = want('protected') ? await protectedBench(PROFILES.protectedRoute, log) : undefined;
const client = want('client') ? await clientSdkBench({ ...PROFILES.client, log }) : undefined;
const growth = want('growth') ? await growthBench(PROFILES.growth, log) : undefined;
const growthPg = want('growth-pg') ? await growthBench(PROFILES.growth, log, 'postgres') : undefined;

// --- RESULTS.md -------------------------------------------------------------------------------------
const out: string[] = [];
const line = (s = '') => out.push(s);
const yes = (ok: boolean) => (ok ? '**met**' : '**not met**');
const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

line('# Benchmark results');
line();
line(
  `Written by \`npm run bench${quick ? ' -- --quick' : ''}\` (${quick ? 'QUICK smoke run: one round, short runs; not for quoting' : 'full run'}). See [README.md](README.md) for what each figure measures.`,
);
line();
line('| | |');
line('|---|---|');
line(`| date | ${machine.date} |`);
line(`| machine | ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB.toFixed(1)} GiB |`);
line(`| Node | ${machine.node} |`);
line(`| commit | ${machine.commit} (plus any uncommitted changes) |`);
line(
  `| load average (1/5/15 min) | before ${machine.loadBefore.map((x) => x.toFixed(2)).join(' / ')}, after ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' / ')} |`,
);
line(`| duration | ${((Date.now() - started) / 60_000).toFixed(1)} min |`);
line();
line(
  'Everything runs on 127.0.0.1. Servers run in their own processes; the load generator (autocannon, one fresh token per request, every response checked) runs in the main process on the same 2 cores, so absolute numbers include its cost. Figures are medians over rounds; ratios are taken within a round (contenders alternate, order swapped every round), then the median of those ratios.',
);
line();

const rot = rotation ? summariseRotation(rotation) : undefined;
const prot = protectedRoute ? summariseProtected(protectedRoute) : undefined;
const median = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
};

line('## Goals');
line();
line('| goal | target | measured | |');
line('|---|---|---|---|');
if (rot && rotation) {
  for (const c of [10, 50]) {
    const r = rot.find((x) => x.c === c)!;
    line(
      `| rotations/s, Tessera ÷ oidc-provider in memory, c=${c} | ≥ 1.25× | ${r.ratio.toFixed(2)}× (${fmt(r.tessera.rps)} vs ${fmt(r.oidc.rps)}/s; rounds ${r.ratios.map((x) => x.toFixed(2)).join(', ')}) | ${yes(r.ratio >= 1.25)} |`,
    );
  }
  for (const c of [10, 50]) {
    const r = rot.find((x) => x.c === c)!;
    line(
      `| rotations/s, Tessera ÷ oidc-provider on Redis, c=${c} | ≥ 2× | ${r.oidcRedis.ratio.toFixed(2)}× (${fmt(r.tessera.rps)} vs ${fmt(r.oidcRedis.rps)}/s; rounds ${r.oidcRedis.ratios.map((x) => x.toFixed(2)).join(', ')}) | ${yes(r.oidcRedis.ratio >= 2)} |`,
    );
  }
  for (const c of [10, 50]) {
    const r = rot.find((x) => x.c === c)!;
    line(
      `| server CPU per rotation (all threads), Tessera ÷ oidc-provider in memory, c=${c} | ≤ 0.7 | ${r.cpuRatio.toFixed(2)} (${fmt(r.tessera.cpuAll, 0)} vs ${fmt(r.oidc.cpuAll, 0)} µs; rounds ${r.cpuRatios.map((x) => x.toFixed(2)).join(', ')}) | ${yes(r.cpuRatio <= 0.7)} |`,
    );
  }
  const r50 = rot.find((x) => x.c === 50)!;
  line(`| Tessera p99 at c=50 | < 20 ms | ${fmt(r50.tessera.p99)} ms | ${yes(r50.tessera.p99 < 20)} |`);
  const failed = rot.reduce((a, r) => a + r.tessera.failed + r.oidc.failed + r.oidcRedis.failed, 0);
  line(`| failed rotations (every response checked) | 0 | ${failed} | ${yes(failed === 0)} |`);
  const pages = rotation.frames.batched;
  line(
    `| WAL pages per rotation, steady state, batches of 16 | ≤ 1.5 | ${pages.hot.toFixed(2)} on the hot path (+ ${pages.deferred.toFixed(2)} written later, off it) | ${yes(pages.hot <= 1.5)} |`,
  );
}
if (growth) {
  const rows = growth.rows as GrowthRow[];
  const small = rows.find((r) => r.size === 10_000);
  const big = rows.find((r) => r.size === 1_000_000);
  if (small && big) {
    const g = big.c10.p50 / small.c10.p50;
    line(
      `| refresh p50 growth, 10^4 → 10^6 families, c=10 | ≤ 1.2× | ${g.toFixed(2)}× (${fmt(small.c10.p50)} → ${fmt(big.c10.p50)} ms) | ${yes(g <= 1.2)} |`,
    );
  }
}
if (growthPg) {
  const rows = growthPg.rows as GrowthRow[];
  const small = rows.find((r) => r.size === 10_000);
  const big = rows.find((r) => r.size === 1_000_000);
  if (small && big) {
    const g = big.c10.p50 / small.c10.p50;
    line(
      `| refresh p50 growth on PostgreSQL, 10^4 → 10^6 families, c=10 | ≤ 1.2× | ${g.toFixed(2)}× (${fmt(small.c10.p50)} → ${fmt(big.c10.p50)} ms) | ${yes(g <= 1.2)} |`,
    );
  }
}
if (prot) {
  line(
    `| protected route ÷ no auth (1,000-token working set) | ≥ 0.85 | ${prot.ratioCached.toFixed(2)} | ${yes(prot.ratioCached >= 0.85)} |`,
  );
}
if (client) {
  const t = client.find((x) => x.name === '@tessera/client')!;
  line(
    `| refresh requests for ${PROFILES.client.callers} concurrent getAccessToken() at expiry | 1 | ${t.refreshes} | ${yes(t.refreshes === 1)} |`,
  );
}
line();
if (rotation && rot) {
  line('## 1. Refresh rotation throughput (token endpoint)');
  line();
  line(
    `Tessera: a real \`createTessera\` server, SQLite WAL file in a temp dir, \`synchronous\` at its default, rate limits off (one client IP sends everything), log level \`warn\`. oidc-provider ${'9'}: \`rotateRefreshToken: true\`, \`issueRefreshToken\` → true, unbounded in-memory adapter, opaque access tokens, no ID token (no \`openid\` scope); and the same oidc-provider on the Redis service with the Redis adapter pattern of its own example (payload JSON per key with its expiry, a set per grant, uid and user-code index keys; a key prefix of its own, deleted after). All: a public client (\`client_id\` in the form body), 1,000 users, and sessions in the steady state: every measured refresh is a session's second (each was rotated once over HTTP before the run, not measured), as almost every real refresh is. Requests per run: ${Object.entries(
      PROFILES.rotation.amounts,
    )
      .map(([c, n]) => `c=${c}: ${n}`)
      .join(', ')}; ${PROFILES.rotation.rounds} rounds.`,
  );
  line();
  line(
    '| c | Tessera rot/s | p50 ms | p99 ms | failed | oidc-provider (memory) rot/s | p50 ms | p99 ms | failed | Tessera ÷ oidc memory (per-round ratios) | oidc-provider (Redis) rot/s | p50 ms | p99 ms | failed | Tessera ÷ oidc Redis (per-round ratios) |',
  );
  line('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rot) {
    const q = r.oidcRedis;
    line(
      `| ${r.c} | ${fmt(r.tessera.rps)} | ${fmt(r.tessera.p50)} | ${fmt(r.tessera.p99)} | ${r.tessera.failed}/${r.tessera.requests} | ${fmt(r.oidc.rps)} | ${fmt(r.oidc.p50)} | ${fmt(r.oidc.p99)} | ${r.oidc.failed}/${r.oidc.requests} | **${r.ratio.toFixed(2)}×** (${r.ratios.map((x) => x.toFixed(2)).join(', ')}) | ${fmt(q.rps)} | ${fmt(q.p50)} | ${fmt(q.p99)} | ${q.failed}/${q.requests} | **${q.ratio.toFixed(2)}×** (${q.ratios.map((x) => x.toFixed(2)).join(', ')}) |`,
    );
  }
  line();
  line(
    "Like for like: oidc-provider's access tokens are opaque (a random string it stores), so this Tessera server issues opaque access tokens too (`accessTokenFormat: 'opaque'`: stored by HMAC in the same SQLite file, through the group commit); it runs in the same rounds, in turn with the others.",
  );
  line();
  line(
    '| c | Tessera (opaque) rot/s | p50 ms | p99 ms | failed | CPU µs/rot (main) | writes/rot | ÷ oidc-provider (per-round ratios) |',
  );
  line('|---|---|---|---|---|---|---|---|');
  for (const r of rot) {
    const q = r.opaque;
    line(
      `| ${r.c} | ${fmt(q.rps)} | ${fmt(q.p50)} | ${fmt(q.p99)} | ${q.failed}/${q.requests} | ${fmt(q.cpuAll, 0)} (${fmt(q.cpuMain, 0)}) | ${fmt(q.writes, 1)} | **${q.ratio.toFixed(2)}×** (${q.ratios.map((x) => x.toFixed(2)).join(', ')}) |`,
    );
  }
  line();
  line(
    'Server CPU per rotation, µs (read from `/proc` around each run; all threads, then the main thread alone), and write system calls per rotation (`syscw` in `/proc/<pid>/io`: WAL frames are two each, checkpoint copies one, the response one). CPU is far steadier than throughput on a shared machine: it is what one rotation costs, whatever the neighbours do; the write count is nearly a constant of the code.',
  );
  line();
  line(
    `| c | Tessera all | Tessera main | writes | oidc-provider all | oidc-provider main | writes | Tessera ÷ oidc-provider, all (per round) | oidc-provider on Redis all (its process only) |${baseline ? ' baseline all | baseline main | writes | this ÷ baseline, all (per round) |' : ''}`,
  );
  line(`|---|---|---|---|---|---|---|---|---|${baseline ? '---|---|---|---|' : ''}`);
  for (const r of rot) {
    const b = r.baseline;
    line(
      `| ${r.c} | ${fmt(r.tessera.cpuAll, 0)} | ${fmt(r.tessera.cpuMain, 0)} | ${fmt(r.tessera.writes, 1)} | ${fmt(r.oidc.cpuAll, 0)} | ${fmt(r.oidc.cpuMain, 0)} | ${fmt(r.oidc.writes, 1)} | **${r.cpuRatio.toFixed(2)}** (${r.cpuRatios.map((x) => x.toFixed(2)).join(', ')}) | ${fmt(r.oidcRedis.cpuAll, 0)} |${b ? ` ${fmt(b.cpuAll, 0)} | ${fmt(b.cpuMain, 0)} | ${fmt(b.writes, 1)} | **${median(b.cpuRatios).toFixed(2)}** (${b.cpuRatios.map((x) => x.toFixed(2)).join(', ')}) |` : ''}`,
    );
  }
  line();
  if (baseline) {
    line(
      `### This tree ÷ \`${baseline.rev}\` (${baseline.sha.slice(0, 12)}), same runs, alternating${baseline.lockfileDiffers ? " (the baseline's package-lock.json differs; it ran on this checkout's dependencies)" : ''}`,
    );
    line();
    line(
      '| c | this tree rot/s | p50 ms | p99 ms | baseline rot/s | p50 ms | p99 ms | failed | this ÷ baseline (per-round ratios) |',
    );
    line('|---|---|---|---|---|---|---|---|---|');
    for (const r of rot) {
      const b = r.baseline!;
      line(
        `| ${r.c} | ${fmt(r.tessera.rps)} | ${fmt(r.tessera.p50)} | ${fmt(r.tessera.p99)} | ${fmt(b.rps)} | ${fmt(b.p50)} | ${fmt(b.p99)} | ${b.failed}/${b.requests} | **${b.ratio.toFixed(2)}×** (${b.ratios.map((x) => x.toFixed(2)).join(', ')}) |`,
      );
    }
    line();
  }
  line('## 2. The physical limit (same rounds)');
  line();
  const p = rotation.parts;
  line('| part of one rotation | rate (median) | cost |');
  line('|---|---|---|');
  const row = (name: string, xs: number[]) =>
    line(`| ${name} | ${fmt(median(xs))}/s | ${fmt(1e6 / median(xs))} µs |`);
  row('ES256 access-token signature, `node:crypto` sign (as the server signs), one at a time', p.signSerial);
  row('ES256 access-token signature, `node:crypto` sign, 64 callers', p.signInFlight);
  row('SQLite rotation transaction (`sessions.rotate` on pre-created families)', p.sqliteRotate);
  row(`bare Fastify request (small JSON, c=50, same load generator)`, p.bareFastify);
  line(
    `| **limit** = 1 / (sign in flight + SQLite rotate + bare request) | **${fmt(median(p.limit))}/s** | ${fmt(1e6 / median(p.limit))} µs |`,
  );
  line();
  line(
    `WAL pages (4 KiB frames) the SQLite store writes per rotation in the steady state, with its event, checkpoints off: **${rotation.frames.single.hot.toFixed(2)}** one at a time, **${rotation.frames.batched.hot.toFixed(2)}** in batches of 16 (the group commit under concurrency), on the hot path; then ${rotation.frames.single.deferred.toFixed(2)} and ${rotation.frames.batched.deferred.toFixed(2)} more per rotation written later, off the hot path (the lifecycle record's per-family, per-user, per-client and per-type indexes, built in batches: here every 512 rotations, what the server's 250 ms index timer finds at about 2,000 rotations/s; the frames those runs add to the WAL). Sessions that rotate many times, whose event chains the index copies a family at a time every 16 rotations (4,000 rotations as 16 of each of 250 sessions, batches of 16): **${rotation.frames.long.hot.toFixed(2)}** on the hot path and ${rotation.frames.long.deferred.toFixed(2)} off it. A count, not a rate: the same code gives the same figure (±0.1, random B-tree splits) on any machine, so it shows a change in the store's writes that the noise in rotations/s hides.`,
  );
  line();
  line(
    `The store as a request uses it, under the group commit (\`findToken\`, then \`rotate\` with its event, 16 at a time, 4,000 of 20,000 families of 1,000 users in random order, checkpointer on): **${fmt(median(p.storeCpu), 0)} µs of CPU** and **${fmt(median(p.storeWrites), 1)} write syscalls** per rotation (rounds: ${p.storeCpu.map((x) => x.toFixed(0)).join(', ')} µs). Beside it, what a server at 2× oidc-provider could spend on a whole rotation: ${cpus().length} cores ÷ twice oidc-provider's c=50 rate = **${fmt(median(p.budget), 0)} µs of CPU**, the load generator's share included (rounds: ${p.budget.map((x) => x.toFixed(0)).join(', ')}).`,
  );
  line();
  line(
    `Tessera's throughput as a share of the limit: **c=50: ${pct(median(p.share50))}** (rounds: ${p.share50.map(pct).join(', ')}), c=10: ${pct(median(p.share10))}. Goal ≥ 60%.`,
  );
  line();
}

if (protectedRoute && prot) {
  line('## 3. Protected route (`@tessera/resource`, Fastify plugin)');
  line();
  line(
    `${PROFILES.protectedRoute.tokens.toLocaleString('en-US')} real ES256 access tokens from the server, round robin, c=${PROFILES.protectedRoute.connections}, ${PROFILES.protectedRoute.amount.toLocaleString('en-US')} requests per run, ${PROFILES.protectedRoute.rounds} rounds; revocation feed on (resource-server client). \`/open\` is the same Fastify app's route without auth (it receives the same header).`,
  );
  line();
  line('| route | req/s | p50 ms | p99 ms | failed | ÷ no auth |');
  line('|---|---|---|---|---|---|');
  line(
    `| no auth | ${fmt(prot.open.rps)} | ${fmt(prot.open.p50)} | ${fmt(prot.open.p99)} | ${prot.open.failed} | 1 |`,
  );
  line(
    `| \`requireAuth()\`, default cache (1,000-token working set) | ${fmt(prot.cached.rps)} | ${fmt(prot.cached.p50)} | ${fmt(prot.cached.p99)} | ${prot.cached.failed} | **${prot.ratioCached.toFixed(2)}** |`,
  );
  line(
    `| \`requireAuth()\`, \`cacheSize: 0\` (0% cache hits) | ${fmt(prot.uncached.rps)} | ${fmt(prot.uncached.p50)} | ${fmt(prot.uncached.p99)} | ${prot.uncached.failed} | ${prot.ratioUncached.toFixed(2)} |`,
  );
  line();
  line(
    `Raw \`jose.jwtVerify\` (ES256, same tokens and key, in the bench process): ${fmt(prot.verifySerial)}/s one at a time, ${fmt(prot.verifyInFlight)}/s with 64 in flight. The uncached route reaches **${pct(prot.uncached.rps / prot.verifyInFlight)}** of the in-flight verify rate (its process also parses HTTP; the load generator shares the cores).`,
  );
  line();
  line(`Middleware counters after the run: \`${JSON.stringify(protectedRoute.stats)}\``);
  line();
}

if (client) {
  line('## 4. Client SDKs');
  line();
  line(
    `${PROFILES.client.callers} concurrent calls at expiry against a local token endpoint that answers after 20 ms; cached-token time is the added time of \`await call()\` over awaiting an already-resolved async function (median of 5 × ${PROFILES.client.iterations.toLocaleString('en-US')} calls); bundle = esbuild (bundle, minify, ESM, browser) + gzip level 9.`,
  );
  line();
  line(
    "| SDK | version | refresh requests for 1,000 concurrent calls | callers' distinct tokens | added ns per call, cached token | min | min+gzip |",
  );
  line('|---|---|---|---|---|---|---|');
  for (const r of client as SdkRow[]) {
    line(
      `| ${r.name} | ${r.version} | **${r.refreshes}** (${r.concurrentCall}) | ${r.distinct} | ${fmt(r.cachedNs, 0)} (whole call ${fmt(r.cachedTotalNs, 0)}; ${r.cachedCall}) | ${(r.minBytes / 1024).toFixed(1)} KiB | **${(r.gzipBytes / 1024).toFixed(1)} KiB** (${r.bundled}) |`,
    );
  }
  line();
  for (const r of client) for (const n of r.notes) line(`- ${r.name}: ${n}`);
  line();
}

if (growth) {
  line('## 5. Growth (refresh latency as the token table grows)');
  line();
  line(
    `One SQLite file; filler families inserted straight into it (the store's row shape, random hashes), then real sessions minted and refreshed. ${PROFILES.growth.rounds} rounds per size; ${PROFILES.growth.amount1} requests at c=1, ${PROFILES.growth.amount10} at c=10.`,
  );
  line();
  growthTable(growth);
}

function growthTable(g: { rows: GrowthRow[]; skipped: string[] }) {
  line(
    '| target | families in the store | fill time | c=1 p50 ms | c=1 p99 ms | c=10 p50 ms | c=10 p99 ms | c=10 rot/s | failed |',
  );
  line('|---|---|---|---|---|---|---|---|---|');
  for (const r of g.rows) {
    line(
      `| ${r.size.toLocaleString('en-US')} | ${r.families.toLocaleString('en-US')} | ${r.fillSeconds.toFixed(1)} s | ${fmt(r.c1.p50)} | ${fmt(r.c1.p99)} | ${fmt(r.c10.p50)} | ${fmt(r.c10.p99)} | ${fmt(r.c10.rps)} | ${r.c1.failed + r.c10.failed} |`,
    );
  }
  for (const s of g.skipped) line(`- skipped: ${s}`);
  line();
}

const pgRows = rot?.filter((r) => r.pgRedis.requests > 0) ?? [];
if (pgRows.length > 0 || growthPg) {
  line('## 6. Two instances on PostgreSQL + Redis');
  line();
}
if (pgRows.length > 0) {
  line(
    "Two `createTessera` servers on one PostgreSQL schema and one Redis key prefix of the bench's own (created at start, dropped after), configured as `TESSERA_DATABASE_URL`/`TESSERA_REDIS_URL` configure them (`@tessera/store-postgres`, pool of 10 per instance; `@tessera/store-redis` for the replay store, rate-limit counters and revocation fan-out), one master secret and one issuer; the load generator spreads connections and requests evenly over both, in the same rounds as the contenders above, sessions in the same steady state. CPU: both server processes (all threads), and beside it the PostgreSQL backends of the two pools (`pg_stat_activity` by application name, `/proc/<pid>/stat`); PostgreSQL's WAL writer and checkpointer, shared with the machine, are not counted.",
  );
  line();
  line(
    '| c | 2 × Tessera on PostgreSQL + Redis rot/s | p50 ms | p99 ms | failed | servers CPU µs/rot (main) | PostgreSQL backends CPU µs/rot | ÷ oidc-provider in memory (per round) | ÷ oidc-provider on Redis (per round) | ÷ one Tessera on SQLite (per round) |',
  );
  line('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of pgRows) {
    const q = r.pgRedis;
    const rounds = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');
    line(
      `| ${r.c} | ${fmt(q.rps)} | ${fmt(q.p50)} | ${fmt(q.p99)} | ${q.failed}/${q.requests} | ${fmt(q.cpuAll, 0)} (${fmt(q.cpuMain, 0)}) | ${fmt(q.db, 0)} | **${q.ratio.toFixed(2)}×** (${rounds(q.ratios)}) | **${q.redisRatio.toFixed(2)}×** (${rounds(q.redisRatios)}) | **${q.sqliteRatio.toFixed(2)}×** (${rounds(q.sqliteRatios)}) |`,
    );
  }
  line();
}
if (growthPg) {
  line('### Growth on PostgreSQL');
  line();
  line(
    `One Tessera instance on a schema of its own; filler families and their first refresh token written by PostgreSQL itself (\`generate_series\`, 50,000 rows a statement, ids and hashes md5 of a salted counter so the keys land all over the indexes), then \`VACUUM ANALYZE\`; the measured tokens are real sessions minted through \`issueSession\`. ${PROFILES.growth.rounds} rounds per size; ${PROFILES.growth.amount1} requests at c=1, ${PROFILES.growth.amount10} at c=10.`,
  );
  line();
  growthTable(growthPg);
}

// A smoke or partial run must not overwrite the full results.
const resultsPath = fileURLToPath(
  new URL(
    quick || only || baseline || skip || roundsArg !== undefined || fillBudgetArg !== undefined
      ? './RESULTS.partial.md'
      : './RESULTS.md',
    import.meta.url,
  ),
);
writeFileSync(resultsPath, `${out.join('\n')}\n`);
log(`wrote ${resultsPath}`);
process.stdout.write(`${out.join('\n')}\n`);
// Peers may leave timers behind (e.g. auth-js); the benchmark is done.
process.exit(0);
