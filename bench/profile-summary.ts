/**
 * Where a server's CPU goes, from a V8 CPU profile (`npm run bench -- --cpu-prof` writes them to
 * bench/profiles): self time grouped into the parts of a rotation (SQLite, PostgreSQL driver,
 * crypto, HTTP + Fastify, domain, GC, ...), and the heaviest functions.
 *
 *   node --import tsx bench/profile-summary.ts bench/profiles/tessera-c50-round1.cpuprofile [--per=N] [--top=N]
 *
 * `--per=N`: also divide by N (the rotations the run made) to print µs per rotation.
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The part of a rotation a frame belongs to, by its file (then its name, for V8's own). */
export function partOf(url: string, name: string): string {
  if (name === '(garbage collector)') return 'GC';
  if (name === '(idle)') return 'idle';
  if (name === '(program)') return 'V8 / native (program)';
  const u = url.replace(/^file:\/\//, '');
  // The profiler's own start and stop (an inspector message; its native `dispatch` frame is the
  // CPU profiler starting): not the server's work, and left out of the busy time.
  if (u === 'node:inspector') return 'profiler';
  if (/better-sqlite3/.test(u) || /stores\/sqlite\//.test(u)) return 'SQLite store';
  if (/node_modules\/(pg|pg-protocol|pg-pool|pg-types|pgpass|postgres-)/.test(u))
    return 'PostgreSQL driver (pg)';
  if (/store-postgres\//.test(u)) return 'PostgreSQL store';
  if (/node_modules\/(ioredis|@ioredis|redis-)/.test(u) || /store-redis\//.test(u)) return 'Redis';
  if (/server\/src\/(crypto|tokens|keys)\//.test(u) || /node_modules\/jose/.test(u)) return 'crypto + tokens';
  if (/server\/src\/domain\//.test(u)) return 'domain';
  if (/server\/src\/http\//.test(u) || /server\/src\/(tessera|tessera-plugin)\.ts/.test(u))
    return 'server HTTP layer';
  if (
    /node_modules\/(fastify|@fastify|find-my-way|avvio|light-my-request|fast-json-stringify|secure-json-parse|abstract-logging|pino|toad-cache|fast-querystring)/.test(
      u,
    )
  )
    return 'Fastify (+ plugins, pino)';
  if (/server\/src\/observability\//.test(u) || /node_modules\/prom-client/.test(u)) return 'metrics / logs';
  if (/server\/src\//.test(u)) return 'server (other)';
  if (/packages\/protocol\//.test(u)) return 'protocol';
  if (/^node:(_http|http|net|stream|internal\/(http|stream|net|streams))/.test(u) || /node:_http/.test(u))
    return 'node http / net / streams';
  if (/^node:internal\/crypto/.test(u) || u === 'node:crypto') return 'crypto + tokens';
  if (/^node:/.test(u)) return 'node (other)';
  if (u === '') return name.startsWith('(') ? name : 'native / builtins';
  if (/node_modules/.test(u)) return `other dependency (${/node_modules\/((@[^/]+\/)?[^/]+)/.exec(u)?.[1]})`;
  return 'other';
}

export function summarise(profile: Profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  // A native frame (no file: a binding's method, a builtin) counts in the part of the JS that called it.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const partOfNode = (id: number): string => {
    let n = byId.get(id)!;
    const own = partOf(n.callFrame.url, n.callFrame.functionName);
    if (own !== 'native / builtins') return own;
    for (let up = parent.get(id); up !== undefined; up = parent.get(up)) {
      n = byId.get(up)!;
      const p = partOf(n.callFrame.url, n.callFrame.functionName);
      if (p !== 'native / builtins') return `${p} (native)`;
    }
    return own;
  };
  const parts = new Map<string, number>();
  const fns = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let profiler = 0;
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const { url, functionName, lineNumber } = n.callFrame;
    const part = partOfNode(id);
    if (part === 'idle') {
      idle += us;
      continue;
    }
    if (part.startsWith('profiler')) {
      profiler += us;
      continue;
    }
    total += us;
    parts.set(part, (parts.get(part) ?? 0) + us);
    const where = url
      ? `${url.replace(/^.*\/(node_modules|packages)\//, '')}:${lineNumber + 1}`
      : `[${part}]`;
    const key = `${functionName || '(anonymous)'} ${where}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
  }
  return { total, idle, profiler, parts, fns };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const per = Number(process.argv.find((a) => a.startsWith('--per='))?.slice(6) ?? 0);
  const top = Number(process.argv.find((a) => a.startsWith('--top='))?.slice(6) ?? 25);
  for (const file of files) {
    const { total, idle, profiler, parts, fns } = summarise(
      JSON.parse(readFileSync(file, 'utf8')) as Profile,
    );
    const show = (us: number) =>
      `${(us / 1000).toFixed(0).padStart(6)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%${per ? ` ${(us / per).toFixed(1).padStart(7)} µs/rot` : ''}`;
    console.log(
      `${file}: ${(total / 1000).toFixed(0)} ms busy, ${(idle / 1000).toFixed(0)} ms idle (main thread; the profiler's own ${(profiler / 1000).toFixed(0)} ms left out)`,
    );
    for (const [k, v] of [...parts].sort((a, b) => b[1] - a[1])) console.log(`  ${show(v)}  ${k}`);
    console.log('  heaviest functions (self time):');
    for (const [k, v] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top))
      console.log(`  ${show(v)}  ${k}`);
  }
}
