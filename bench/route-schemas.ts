/**
 * CPU per token-endpoint request with the OpenAPI route schemas and without them, side by side in
 * one process: two servers on one database taking turns request by request, through `app.inject` (the whole Fastify pipeline, no sockets). Run by hand:
 *
 *   node --import tsx --conditions=@tessera/source bench/route-schemas.ts [--requests=4000] [--rounds=6]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTessera, loadConfig, saveClient, type Tessera } from '@tessera/server';

const arg = (name: string, fallback: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const REQUESTS = arg('requests', 4000);
const ROUNDS = arg('rounds', 6);
const SECRET = 'bench-client-secret-0123456789';

const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-schemas-'));
const masterSecret = randomBytes(32);
const config = loadConfig({
  env: {},
  overrides: { db: join(dir, 'bench.db'), logLevel: 'silent', rateLimitLogin: 0, rateLimitRefresh: 0 },
});
const open = (openapi: boolean) => createTessera({ config, masterSecret, background: false, openapi });
const withSchemas = await open(true);
const without = await open(false);
await saveClient(withSchemas.ctx, {
  id: 'svc',
  public: false,
  secret: SECRET,
  grantTypes: ['client_credentials'],
});
const auth = `Basic ${Buffer.from(`svc:${SECRET}`).toString('base64')}`;
const form = { 'content-type': 'application/x-www-form-urlencoded', authorization: auth };

/** One request's CPU (user + system, µs): 9 of 10 a client_credentials grant (200), 1 of 10 a bad one (400). */
async function request(tessera: Tessera, i: number): Promise<number> {
  const bad = i % 10 === 9;
  const start = process.cpuUsage();
  const res = await tessera.app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: form,
    payload: bad ? 'grant_type=client_credentials&grant_type=x' : 'grant_type=client_credentials',
  });
  const used = process.cpuUsage(start);
  if (res.statusCode !== (bad ? 400 : 200)) throw new Error(`unexpected ${res.statusCode}: ${res.body}`);
  return used.user + used.system;
}

/**
 * One round: the two servers take turns request by request (the order flips each round), so the
 * machine's load falls on both alike; returns each one's mean CPU per request.
 */
async function round(r: number): Promise<[number, number]> {
  let a = 0;
  let b = 0;
  for (let i = 0; i < REQUESTS; i++) {
    if ((i + r) % 2 === 0) {
      a += await request(withSchemas, i);
      b += await request(without, i);
    } else {
      b += await request(without, i);
      a += await request(withSchemas, i);
    }
  }
  return [a / REQUESTS, b / REQUESTS];
}

await round(0); // warm-up, not counted
const a: number[] = [];
const b: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const [x, y] = await round(r);
  a.push(x);
  b.push(y);
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const ratios = a.map((x, i) => x / b[i]!);
console.log(
  `CPU per token request, ${REQUESTS} requests each x ${ROUNDS} rounds, interleaved (median of rounds):`,
);
console.log(`  with route schemas:    ${median(a).toFixed(1)} us`);
console.log(`  without route schemas: ${median(b).toFixed(1)} us`);
console.log(
  `  ratio with/without:    ${median(ratios).toFixed(3)} (per round: ${ratios.map((x) => x.toFixed(3)).join(' ')})`,
);
await withSchemas.close();
await without.close();
rmSync(dir, { recursive: true, force: true });
