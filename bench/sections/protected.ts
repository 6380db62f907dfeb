/**
 * Protected route: requests/s through `@tessera/resource` (Fastify plugin) with a 1,000-token working
 * set of real JWTs, as a ratio to the same route without auth, alternating; and the 0%-cache-hit
 * figure (`cacheSize: 0`) against the raw jose verify rate.
 */
import { decodeProtectedHeader, importJWK, type JWK, jwtVerify } from 'jose';
import { Child } from '../lib/child.js';
import { type LoadResult, runLoad } from '../lib/load.js';
import { freePort } from '../lib/net.js';
import { median, ratio } from '../lib/stats.js';

export interface ProtectedProfile {
  rounds: number;
  tokens: number;
  amount: number;
  maxSeconds: number;
  verifySeconds: number;
  connections: number;
}

export const ROUTES = { open: '/open', cached: '/protected', uncached: '/nocache/protected' } as const;
type RouteName = keyof typeof ROUTES;

export interface ProtectedResult {
  runs: Record<RouteName, LoadResult[]>;
  ratioCached: number[];
  ratioUncached: number[];
  verifySerial: number[];
  verifyInFlight: number[];
  stats: unknown;
}

/** jose `jwtVerify` per second on the server's real tokens and key, one at a time or `inFlight` at once. */
async function verifyRate(issuer: string, tokens: string[], seconds: number, inFlight: number) {
  const jwks = (await (await fetch(`${issuer}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
  const kid = decodeProtectedHeader(tokens[0]!).kid;
  const jwk = jwks.keys.find((k) => k.kid === kid);
  if (!jwk) throw new Error('signing key not in the JWKS');
  const key = await importJWK(jwk, 'ES256');
  const options = { issuer, audience: issuer, algorithms: ['ES256'], typ: 'at+jwt' };
  let i = 0;
  let done = 0;
  for (let k = 0; k < 200; k++) await jwtVerify(tokens[k % tokens.length]!, key, options);
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        await jwtVerify(tokens[i++ % tokens.length]!, key, options);
        done++;
      }
    }),
  );
  return done / ((performance.now() - t0) / 1000);
}

export async function protectedBench(
  p: ProtectedProfile,
  log: (m: string) => void,
): Promise<ProtectedResult> {
  const tessera = await Child.start('tessera', { port: await freePort() });
  let api: Child | undefined;
  try {
    const issuer = String(tessera.info.url);
    const { access } = await tessera.call<{ access: string[] }>('mint', { n: p.tokens, withAccess: true });
    api = await Child.start('api', {
      port: await freePort(),
      issuer,
      clientId: tessera.info.apiClientId,
      clientSecret: tessera.info.apiSecret,
    });
    const url = String(api.info.url);
    const load = (route: RouteName) =>
      runLoad({
        url,
        path: ROUTES[route],
        connections: p.connections,
        amount: p.amount,
        maxSeconds: p.maxSeconds,
        // Round robin over the working set; the open route gets the same header and ignores it.
        headers: (i) => ({ authorization: `Bearer ${access[i % access.length]}` }),
        check: (status, body) => status === 200 && body.startsWith('{"ok":true'),
      });
    const result: ProtectedResult = {
      runs: { open: [], cached: [], uncached: [] },
      ratioCached: [],
      ratioUncached: [],
      verifySerial: [],
      verifyInFlight: [],
      stats: undefined,
    };
    log('protected route: warm-up');
    for (const r of ['open', 'cached', 'uncached'] as const) {
      const w = await load(r);
      if (w.failed + w.errors > 0) throw new Error(`warm-up of ${r} failed: ${w.sampleFailure}`);
    }
    const names: RouteName[] = ['open', 'cached', 'uncached'];
    for (let round = 0; round < p.rounds; round++) {
      const got: Partial<Record<RouteName, LoadResult>> = {};
      // Rotate the order each round so no route always runs first.
      for (let k = 0; k < names.length; k++) {
        const name = names[(round + k) % names.length]!;
        const r = await load(name);
        got[name] = r;
        result.runs[name].push(r);
        log(
          `protected round ${round + 1}/${p.rounds} ${name}: ${r.rps.toFixed(0)}/s p50 ${r.p50.toFixed(2)} ms p99 ${r.p99.toFixed(2)} ms failed ${r.failed + r.errors}`,
        );
      }
      result.ratioCached.push(ratio(got.cached!.rps, got.open!.rps));
      result.ratioUncached.push(ratio(got.uncached!.rps, got.open!.rps));
      result.verifySerial.push(await verifyRate(issuer, access, p.verifySeconds, 1));
      result.verifyInFlight.push(await verifyRate(issuer, access, p.verifySeconds, 64));
      log(
        `jose verify round ${round + 1}: ${result.verifySerial.at(-1)!.toFixed(0)}/s serial, ${result.verifyInFlight.at(-1)!.toFixed(0)}/s in flight`,
      );
    }
    result.stats = await api.call('stats');
    return result;
  } finally {
    await Promise.all([api?.stop(), tessera.stop()]);
  }
}

export function summariseProtected(r: ProtectedResult) {
  const m = (xs: LoadResult[], f: (x: LoadResult) => number) => median(xs.map(f));
  const route = (name: RouteName) => ({
    rps: m(r.runs[name], (x) => x.rps),
    p50: m(r.runs[name], (x) => x.p50),
    p99: m(r.runs[name], (x) => x.p99),
    failed: r.runs[name].reduce((a, x) => a + x.failed + x.errors, 0),
  });
  return {
    open: route('open'),
    cached: route('cached'),
    uncached: route('uncached'),
    ratioCached: median(r.ratioCached),
    ratioUncached: median(r.ratioUncached),
    verifySerial: median(r.verifySerial),
    verifyInFlight: median(r.verifyInFlight),
  };
}
