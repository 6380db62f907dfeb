/**
 * What DPoP costs a refresh: rotations per second and the server's CPU per rotation with a DPoP
 * proof on every refresh, beside the same run without it, alternating in each round, one server
 * process for both (so they share its warm-up, its SQLite file and the machine's neighbours).
 * Beside them, one ES256 verification by jose measured in this process: the proof check should
 * cost about that (decode, import the jwk, verify, thumbprint, one replay-store insert).
 *
 *   node --import tsx --conditions=@tessera/source bench/dpop.ts [--quick] [--rounds=N]
 *
 * 127.0.0.1 only; every run bounded in count and time. Proofs are signed by the load generator
 * (node:crypto, one key pair for every session), outside the server's CPU.
 */
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { calculateJwkThumbprint, compactVerify, importJWK, type JWK } from 'jose';
import { Child, processCpu } from './lib/child.js';
import { runLoad } from './lib/load.js';
import { freePort } from './lib/net.js';
import { median } from './lib/stats.js';

const quick = process.argv.includes('--quick');
const rounds = Number(/--rounds=(\d+)/.exec(process.argv.join(' '))?.[1] ?? (quick ? 1 : 5));
const amount = quick ? 500 : 3000;
const connections = 10;

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = publicKey.export({ format: 'jwk' }) as JWK;
const jkt = await calculateJwkThumbprint(jwk);
const signer = privateKey;
const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const header = part({ typ: 'dpop+jwt', alg: 'ES256', jwk });

function proof(htu: string): string {
  const input = `${header}.${part({ jti: randomUUID(), htm: 'POST', htu, iat: Math.floor(Date.now() / 1000) })}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: signer, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

/** CPU µs per call of `fn`, in this process. */
async function cost(fn: () => Promise<unknown>): Promise<number> {
  const n = quick ? 500 : 3000;
  for (let i = 0; i < 100; i++) await fn();
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn();
  const used = process.cpuUsage(t0);
  return (used.user + used.system) / n;
}

/** One ES256 verification by jose with the key imported (what the server does for a key it has seen), and with the import and thumbprint. */
async function verifyCost(): Promise<{ verify: number; cold: number }> {
  const sample = proof('http://127.0.0.1/oauth/token');
  const key = await importJWK(jwk, 'ES256');
  const verify = await cost(() => compactVerify(sample, key));
  const cold = await cost(async () => {
    await compactVerify(sample, await importJWK(jwk, 'ES256'));
    await calculateJwkThumbprint(jwk);
  });
  return { verify, cold };
}

const port = await freePort();
const server = await Child.start('tessera', { port });
const url = server.info.url as string;
const htu = `${url}/oauth/token`;
const isRotation = (status: number, body: string) => status === 200 && body.includes('"refresh_token"');

interface Sample {
  rps: number;
  cpu: number;
  p50: number;
  failed: number;
}
const results: Record<'bearer' | 'dpop', Sample[]> = { bearer: [], dpop: [] };

async function run(kind: 'bearer' | 'dpop'): Promise<Sample> {
  const minted = await server.call<{ refresh: string[] }>('mint', {
    n: amount,
    ...(kind === 'dpop' ? { jkt } : {}),
  });
  const tokens = minted.refresh.sort(() => Math.random() - 0.5);
  const clientId = kind === 'dpop' ? 'bench-dpop' : 'bench';
  const before = processCpu(server.pid ?? 0);
  const result = await runLoad({
    url,
    path: '/oauth/token',
    method: 'POST',
    connections,
    amount,
    maxSeconds: 60,
    fixedHeaders: { 'content-type': 'application/x-www-form-urlencoded' },
    body: (i) =>
      new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: clientId,
        refresh_token: tokens[i % tokens.length]!,
      }).toString(),
    ...(kind === 'dpop' ? { headers: () => ({ dpop: proof(htu) }) } : {}),
    check: isRotation,
  });
  const after = processCpu(server.pid ?? 0);
  const cpu = before && after ? (after.all - before.all) / Math.max(result.ok, 1) : Number.NaN;
  if (result.failed > 0) console.log(`  ${kind}: ${result.failed} failed, e.g. ${result.sampleFailure}`);
  return { rps: result.rps, cpu, p50: result.p50, failed: result.failed };
}

try {
  await run('bearer'); // warm-up, not counted
  await run('dpop');
  for (let r = 0; r < rounds; r++) {
    const order: ('bearer' | 'dpop')[] = r % 2 === 0 ? ['bearer', 'dpop'] : ['dpop', 'bearer'];
    for (const kind of order) results[kind].push(await run(kind));
    const b = results.bearer.at(-1)!;
    const d = results.dpop.at(-1)!;
    console.log(
      `round ${r + 1}: without ${b.rps.toFixed(0)}/s ${b.cpu.toFixed(0)} µs/rotation; with DPoP ${d.rps.toFixed(0)}/s ${d.cpu.toFixed(0)} µs/rotation`,
    );
  }
} finally {
  await server.stop();
}
const verify = await verifyCost();
const m = (kind: 'bearer' | 'dpop', key: keyof Sample) => median(results[kind].map((s) => s[key]));
const ratios = results.bearer.map((b, i) => results.dpop[i]!.rps / b.rps);
const extra = results.dpop.map((d, i) => d.cpu - results.bearer[i]!.cpu);
console.log(`
| refresh rotations, ${connections} connections, ${amount} per run, ${rounds} rounds | without DPoP | with DPoP |
| --- | --- | --- |
| rotations/s (median) | ${m('bearer', 'rps').toFixed(0)} | ${m('dpop', 'rps').toFixed(0)} |
| server CPU per rotation, µs (median) | ${m('bearer', 'cpu').toFixed(0)} | ${m('dpop', 'cpu').toFixed(0)} |
| p50 latency, ms | ${m('bearer', 'p50').toFixed(1)} | ${m('dpop', 'p50').toFixed(1)} |

with ÷ without, rotations/s: ${median(ratios).toFixed(3)} (rounds: ${ratios.map((x) => x.toFixed(2)).join(', ')})
extra server CPU per rotation: ${median(extra).toFixed(0)} µs (rounds: ${extra.map((x) => x.toFixed(0)).join(', ')})
one ES256 verify by jose (compactVerify, key imported), this process: ${verify.verify.toFixed(0)} µs; with importJWK + thumbprint (a key not seen before): ${verify.cold.toFixed(0)} µs`);
