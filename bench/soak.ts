// Soak: a real `tessera serve` under sustained refresh and validation (introspection) load at
// half its measured capacity, with cleanup running, for a bounded time (10 minutes at most).
// Sessions are short-lived here (idle 40 s, absolute 80 s, each signed in again at 60 s), so
// cleanup has tokens and families to delete within minutes and the session state must level off.
// Reports RSS and heap (start, end, peak), p99 per window, the database (session state and the
// append-only event log apart, from SQLite's dbstat) and WAL sizes, errors, and a verdict on each.
// Usage: npm run soak [-- --minutes 10] [--json soak.json]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENDPOINTS, encodeBasicCredentials } from '@tessera/protocol';
import Database from 'better-sqlite3';
import { createTessera, createUser, loadConfig, saveClient } from '../packages/server/src/index.js';
import { freePort } from '../packages/server/test/helpers/test-server.js';
import { buildServer, kill, startServer } from '../test/chaos/support/processes.js';

const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const MINUTES = Math.min(10, Number(arg('minutes') ?? 10));
const WINDOW_MS = 10_000;
const SESSIONS = 200;
/** Session lifetimes (seconds): short, so that cleanup deletes while the soak runs. */
const IDLE_TTL_S = 40;
const ABSOLUTE_TTL_S = 80;
/** A session is signed in again at this age, before its absolute expiry (as an app would). */
const RENEW_AT_S = 60;
const RS_SECRET = 'soak-resource-server-secret-0123456789';
const PASSWORD = 'soak password, long enough';

const dir = mkdtempSync(join(tmpdir(), 'tessera-soak-'));
const db = join(dir, 'tessera.db');
const secret = randomBytes(32);
const seed = await createTessera({
  config: loadConfig({ env: {}, overrides: { db, logLevel: 'silent', passwordHashCost: 10 } }),
  masterSecret: secret,
  background: false,
});
await saveClient(seed.ctx, { id: 'web', public: true });
await saveClient(seed.ctx, {
  id: 'api',
  public: false,
  secret: RS_SECRET,
  introspectAny: true,
  grantTypes: [],
});
await createUser(seed.ctx, { username: 'soak', password: PASSWORD });
await seed.close();

const build = await buildServer();
const port = await freePort();
const server = await startServer(
  build.cli,
  ['serve', '--db', db, '--port', String(port)],
  {
    TESSERA_SECRET: secret.toString('base64url'),
    TESSERA_LOG_LEVEL: 'error',
    TESSERA_PASSWORD_HASH_COST: '10',
    TESSERA_RATE_LIMIT_LOGIN: '0',
    TESSERA_RATE_LIMIT_REFRESH: '0',
    // Cleanup has work every 10 s: grace answers older than 30 s, tokens idle for 40 s, and
    // families (the tombstones) past their 80 s absolute lifetime.
    TESSERA_CLEANUP_INTERVAL: '10s',
    TESSERA_REFRESH_GRACE_PERIOD: '30s',
    TESSERA_REFRESH_IDLE_TTL: `${IDLE_TTL_S}s`,
    TESSERA_REFRESH_ABSOLUTE_TTL: `${ABSOLUTE_TTL_S}s`,
  },
  port,
);
const pid = server.child.pid!;

const agentless = (path: string, body: string, headers: Record<string, string> = {}) =>
  new Promise<{ status: number; text: string }>((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          ...headers,
        },
        timeout: 10_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, text: '' }));
    req.end(body);
  });

interface SoakSession {
  refresh: string;
  access: string;
  startedAt: number;
}
let errors = 0;
let logins = 0;
const errorKinds: Record<string, number> = {};
const fail = (kind: string) => {
  errors++;
  errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
};
async function signIn(): Promise<SoakSession | undefined> {
  const r = await agentless(
    ENDPOINTS.login,
    JSON.stringify({ username: 'soak', password: PASSWORD, client_id: 'web' }),
    { 'content-type': 'application/json' },
  );
  if (r.status !== 200) {
    fail(`login ${r.status}`);
    return undefined;
  }
  logins++;
  const body = JSON.parse(r.text);
  return { refresh: body.refresh_token, access: body.access_token, startedAt: Date.now() };
}
const sessions: SoakSession[] = [];
for (let i = 0; i < SESSIONS; i++) {
  const session = await signIn();
  if (!session) throw new Error(`sign-in failed: ${JSON.stringify(errorKinds)}`);
  sessions.push(session);
}

/**
 * Sessions not being refreshed, the one idle longest first. A unit takes one and gives it back
 * when its answer is in: one refresh at a time per session, as a client's single flight makes it.
 * (Two units of one session in flight at once would be the client's own race, not the server's:
 * the slower one's answer, written back last, holds an older token, and presenting that later
 * is a reuse.)
 */
const idle: SoakSession[] = [...sessions];

/**
 * One unit of load: refresh a session, then validate its new access token by introspection. A
 * session near its absolute lifetime is signed in again first (that sign-in is not timed), and so
 * is one whose refresh was refused (counted as an error), so the load goes on at its rate.
 * Returns the unit's time, or undefined when no session was idle (not counted).
 */
async function unit(): Promise<number | undefined> {
  let s = idle.shift();
  if (!s) return undefined;
  try {
    if (Date.now() - s.startedAt > RENEW_AT_S * 1000) s = (await signIn()) ?? s;
    const t0 = performance.now();
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: 'web',
      refresh_token: s.refresh,
    }).toString();
    let r = await agentless(ENDPOINTS.token, form);
    // An answer lost (timed out on an overloaded machine) is retried at once with the same token,
    // within the grace period, as a well-behaved client does.
    if (r.status === 0) {
      fail('refresh 0 (retried)');
      r = await agentless(ENDPOINTS.token, form);
    }
    if (r.status !== 200) {
      let code = '';
      try {
        code = ` ${JSON.parse(r.text).error_code}`;
      } catch {}
      fail(`refresh ${r.status}${code}`);
      if (r.status === 400) s = (await signIn()) ?? s;
      return performance.now() - t0;
    }
    const body = JSON.parse(r.text);
    s.refresh = body.refresh_token;
    s.access = body.access_token;
    const v = await agentless(ENDPOINTS.introspection, new URLSearchParams({ token: s.access }).toString(), {
      authorization: encodeBasicCredentials('api', RS_SECRET),
    });
    if (v.status !== 200 || !JSON.parse(v.text).active) fail(`introspect ${v.status}`);
    return performance.now() - t0;
  } finally {
    idle.push(s);
  }
}

// Capacity: closed loop, 16 at a time, for 15 s.
let done = 0;
const capacityEnds = Date.now() + 15_000;
await Promise.all(
  Array.from({ length: 16 }, async () => {
    while (Date.now() < capacityEnds) {
      if ((await unit()) !== undefined) done++;
      else await new Promise((r) => setTimeout(r, 1));
    }
  }),
);
const capacity = done / 15;
const rate = capacity / 2;
process.stdout.write(
  `capacity ${capacity.toFixed(0)} units/s (refresh + introspection); soak at ${rate.toFixed(0)}/s for ${MINUTES} min\n`,
);
errors = 0;
logins = 0;
for (const k of Object.keys(errorKinds)) delete errorKinds[k];

/** The server process's resident set, from /proc (Linux). */
function rssMiB(): number {
  let status = '';
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {}
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

async function heapMiB(): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await res.text();
  const used = /^tessera_nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1];
  return Number(used ?? 0) / 2 ** 20;
}
/**
 * The database's pages by what they hold (SQLite's dbstat, on a read-only connection beside the
 * server): the append-only event log (its table and indexes) apart from everything else, the
 * session state that cleanup must keep bounded.
 */
const reader = new Database(db, { readonly: true, fileMustExist: true });
const tableOf = new Map(
  (
    reader.prepare('SELECT name, tbl_name FROM sqlite_schema').all() as { name: string; tbl_name: string }[]
  ).map((r) => [r.name, r.tbl_name]),
);
function pagesMiB(): { sessionStateMiB: number; eventsMiB: number; freeMiB: number } {
  const rows = reader.prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name').all() as {
    name: string;
    bytes: number;
  }[];
  let events = 0;
  let state = 0;
  for (const r of rows) {
    if ((tableOf.get(r.name) ?? r.name).startsWith('event')) events += r.bytes;
    else state += r.bytes;
  }
  const pageSize = reader.pragma('page_size', { simple: true }) as number;
  const free = (reader.pragma('freelist_count', { simple: true }) as number) * pageSize;
  return { sessionStateMiB: state / 2 ** 20, eventsMiB: events / 2 ** 20, freeMiB: free / 2 ** 20 };
}
const size = (p: string) => {
  try {
    return statSync(p).size / 2 ** 20;
  } catch {
    return 0;
  }
};

interface Window {
  minute: number;
  units: number;
  p50: number;
  p99: number;
  rssMiB: number;
  heapMiB: number;
  dbMiB: number;
  sessionStateMiB: number;
  eventsMiB: number;
  freeMiB: number;
  walMiB: number;
  errors: number;
}
const windows: Window[] = [];
const start = { rssMiB: rssMiB(), heapMiB: await heapMiB() };
const peak = { ...start };
const ends = Date.now() + MINUTES * 60_000;
let next = 0;
let inFlight = 0;
let latencies: number[] = [];
let windowErrors = errors;
const started = Date.now();
const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? 0;
};
// Open loop at `rate`: a unit starts every 1/rate s whatever the answers do (at most one per
// session in flight; each session is refreshed many times a second, far within its idle lifetime).
const ticker = setInterval(() => {
  // As many as are due since the start (a late tick catches up) while a session is idle.
  const due = Math.floor(((Date.now() - started) * rate) / 1000) - next;
  for (let k = 0; k < due && idle.length > 0; k++) {
    inFlight++;
    next++;
    void unit().then((ms) => {
      inFlight--;
      if (ms !== undefined) latencies.push(ms);
    });
  }
}, 20);
while (Date.now() < ends) {
  await new Promise((r) => setTimeout(r, Math.min(WINDOW_MS, ends - Date.now())));
  const w: Window = {
    minute: Number(((Date.now() - started) / 60_000).toFixed(2)),
    units: latencies.length,
    p50: q(latencies, 0.5),
    p99: q(latencies, 0.99),
    rssMiB: rssMiB(),
    heapMiB: await heapMiB(),
    dbMiB: size(db),
    ...pagesMiB(),
    walMiB: size(`${db}-wal`),
    errors: errors - windowErrors,
  };
  windowErrors = errors;
  latencies = [];
  peak.rssMiB = Math.max(peak.rssMiB, w.rssMiB);
  peak.heapMiB = Math.max(peak.heapMiB, w.heapMiB);
  windows.push(w);
  process.stdout.write(
    `${w.minute.toFixed(2).padStart(5)} min  ${String(w.units).padStart(6)} units  p50 ${w.p50.toFixed(1)} ms  p99 ${w.p99.toFixed(1)} ms  rss ${w.rssMiB.toFixed(0)} MiB  heap ${w.heapMiB.toFixed(0)} MiB  db ${w.dbMiB.toFixed(1)} MiB (state ${w.sessionStateMiB.toFixed(2)}, events ${w.eventsMiB.toFixed(2)}, free ${w.freeMiB.toFixed(2)})  wal ${w.walMiB.toFixed(1)} MiB  errors ${w.errors}\n`,
  );
}
clearInterval(ticker);
while (inFlight > 0) await new Promise((r) => setTimeout(r, 50));
const last = windows.at(-1);
reader.close();

/**
 * The verdicts, each over the windows after the first minute (start-up, and the first sessions
 * reaching the age at which cleanup starts deleting): the last third against the middle third.
 */
const settled = windows.filter((w) => w.minute > Math.min(1, MINUTES / 3));
const third = Math.max(1, Math.floor(settled.length / 3));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const compareThirds = (f: (w: Window) => number) => {
  const middle = mean(settled.slice(third, 2 * third).map(f));
  const end = mean(settled.slice(-third).map(f));
  return {
    middle: Number(middle.toFixed(2)),
    end: Number(end.toFixed(2)),
    ratio: Number((end / middle).toFixed(3)),
  };
};
const eventsGrowth = compareThirds((w) => w.eventsMiB);
const verdicts = {
  errors: errors === 0,
  /** RSS and heap: the last third within 20% (and 16 MiB) of the middle third. */
  rssFlat: ((r) => r.end <= r.middle * 1.2 + 16)(compareThirds((w) => w.rssMiB)),
  heapFlat: ((r) => r.end <= r.middle * 1.2 + 16)(compareThirds((w) => w.heapMiB)),
  /** p99: the last third's within 2× the middle third's (a shared machine's noise is larger than a leak's trend is not). */
  p99Stable: ((r) => r.end <= r.middle * 2)(compareThirds((w) => w.p99)),
  /** Session state (all but the event log) levels off under cleanup: within 15% between the thirds. */
  sessionStateBounded: ((r) => r.end <= r.middle * 1.15 + 0.05)(compareThirds((w) => w.sessionStateMiB)),
  /** The WAL never grows past its largest size of the middle third by more than 25%. */
  walBounded:
    Math.max(...settled.slice(-third).map((w) => w.walMiB)) <=
    Math.max(...settled.slice(third, 2 * third).map((w) => w.walMiB)) * 1.25 + 1,
};
const summary = {
  minutes: MINUTES,
  capacityUnitsPerSecond: Math.round(capacity),
  rateUnitsPerSecond: Math.round(rate),
  units: next,
  logins,
  sessionLifetimes: {
    idleSeconds: IDLE_TTL_S,
    absoluteSeconds: ABSOLUTE_TTL_S,
    renewedAtSeconds: RENEW_AT_S,
  },
  achievedUnitsPerSecond: Math.round(next / ((Date.now() - started) / 1000)),
  errors,
  errorKinds,
  rssMiB: { start: start.rssMiB, end: last?.rssMiB, peak: peak.rssMiB },
  heapMiB: { start: start.heapMiB, end: last?.heapMiB, peak: peak.heapMiB },
  p99Ms: windows.map((w) => Number(w.p99.toFixed(1))),
  dbMiB: windows.map((w) => Number(w.dbMiB.toFixed(1))),
  sessionStateMiB: windows.map((w) => Number(w.sessionStateMiB.toFixed(2))),
  eventsMiB: windows.map((w) => Number(w.eventsMiB.toFixed(2))),
  walMiB: windows.map((w) => Number(w.walMiB.toFixed(1))),
  /** The event log is append-only by design: what it grows by per refresh. */
  eventBytesPerUnit: Math.round(
    ((eventsGrowth.end - eventsGrowth.middle) * 2 ** 20) / Math.max(1, (third * WINDOW_MS * rate) / 1000),
  ),
  verdicts,
};
process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
const json = arg('json');
if (json) writeFileSync(json, `${JSON.stringify({ name: 'soak', ...summary, windows }, null, 2)}\n`);
await kill(server);
build.remove();
rmSync(dir, { recursive: true, force: true });
process.exit(Object.values(verdicts).every(Boolean) ? 0 : 1);
