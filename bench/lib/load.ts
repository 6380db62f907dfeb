import autocannonModule from 'autocannon';
import { percentile } from './stats.js';

// autocannon ships no types; the slice used here.
const autocannon = autocannonModule as unknown as (
  opts: Record<string, unknown>,
  cb: (err: Error | null, result: { errors?: number; timeouts?: number }) => void,
) => { stop(): void };

export interface LoadOptions {
  /** Base URL, e.g. http://127.0.0.1:4000 */
  url: string;
  path: string;
  method?: 'GET' | 'POST';
  connections: number;
  /** Exactly this many requests (bounded in count)... */
  amount: number;
  /** ...or fewer if this many seconds pass first (bounded in time). */
  maxSeconds: number;
  /** Request body of the i-th request (e.g. with a fresh refresh token), or undefined for none. */
  body?: (i: number) => string | undefined;
  /** Extra headers of the i-th request. */
  headers?: (i: number) => Record<string, string>;
  /** Fixed headers of every request. */
  fixedHeaders?: Record<string, string>;
  /** Whether a response counts as a success; default: status 200. Anything else is a failure. */
  check?: (status: number, body: string) => boolean;
}

export interface LoadResult {
  /** Successful (checked) responses. */
  ok: number;
  /** Responses that failed the check (4xx/5xx or a wrong body). */
  failed: number;
  /** Transport errors and timeouts (no response). */
  errors: number;
  seconds: number;
  /** Successful responses per second. */
  rps: number;
  /** Latency percentiles of the successful responses, milliseconds. */
  p50: number;
  p99: number;
  /** First failing status and body, for the log. */
  sampleFailure?: string;
  /**
   * The server's CPU per successful response, µs (all threads, main thread), and its write
   * syscalls; on PostgreSQL `db` is its database backends' CPU (not in `all`).
   */
  cpu?: { all: number; main: number; writes: number; db?: number };
  /** Latencies of the successful responses, ms (to merge runs made side by side). */
  latencies?: Float64Array;
}

interface Ctx {
  t0?: number;
}

/**
 * One bounded load run with autocannon: every request built by `body`/`headers` (so each can carry a
 * fresh token), every response checked; latencies measured per request (pipelining 1, so the time
 * from building a request to its response is that request's latency).
 */
export function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const latencies = new Float64Array(opts.amount + opts.connections * 4);
  let n = 0;
  let ok = 0;
  let failed = 0;
  let sampleFailure: string | undefined;
  let built = 0;
  let first = 0;
  let last = 0;
  const check = opts.check ?? ((status: number) => status === 200);
  const url = new URL(opts.url);
  return new Promise<LoadResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url: url.origin,
        connections: opts.connections,
        pipelining: 1,
        amount: opts.amount,
        timeout: 10,
        requests: [
          {
            method: opts.method ?? 'GET',
            path: opts.path,
            setupRequest: (req: Record<string, unknown>, context: Ctx) => {
              const i = built++;
              const body = opts.body?.(i);
              const headers = { ...opts.fixedHeaders, ...opts.headers?.(i) };
              if (body !== undefined) req.body = body;
              req.headers = headers;
              context.t0 = performance.now();
              if (i === 0) first = context.t0;
              return req;
            },
            onResponse: (status: number, body: string, context: Ctx) => {
              last = performance.now();
              if (check(status, body)) {
                ok++;
                if (context.t0 !== undefined && n < latencies.length)
                  latencies[n++] = performance.now() - context.t0;
              } else {
                failed++;
                sampleFailure ??= `${status} ${String(body).slice(0, 200)}`;
              }
            },
          },
        ],
      },
      (err, result) => {
        clearTimeout(timer);
        if (err) return reject(err);
        // From the first request to the last response (autocannon's own start-up and 1 s ticker excluded).
        const seconds = Math.max(last - first, 1) / 1000;
        const lat = latencies.subarray(0, n);
        const errors = (result.errors ?? 0) + (result.timeouts ?? 0);
        resolve({
          ok,
          failed,
          errors,
          seconds,
          rps: ok / seconds,
          p50: percentile(lat, 50),
          p99: percentile(lat, 99),
          ...(sampleFailure ? { sampleFailure } : {}),
          latencies: lat,
        });
      },
    );
    const timer = setTimeout(() => instance.stop(), opts.maxSeconds * 1000);
  });
}

/**
 * One bounded load run spread over several servers (a load balancer's view of instances behind
 * it): the connections and the requests split evenly, the i-th request of the j-th server built
 * from the (i·n + j)-th body, all runs at once; the counts summed, the rate taken over the longest
 * run, the percentiles of every successful response together.
 */
export async function runLoadSpread(urls: string[], opts: Omit<LoadOptions, 'url'>): Promise<LoadResult> {
  const n = urls.length;
  if (n === 1) return runLoad({ ...opts, url: urls[0]! });
  const runs = await Promise.all(
    urls.map((url, j) =>
      runLoad({
        ...opts,
        url,
        connections: Math.max(1, Math.round(opts.connections / n)),
        amount: Math.floor(opts.amount / n) + (j < opts.amount % n ? 1 : 0),
        ...(opts.body ? { body: (i: number) => opts.body!(i * n + j) } : {}),
        ...(opts.headers ? { headers: (i: number) => opts.headers!(i * n + j) } : {}),
      }),
    ),
  );
  const ok = runs.reduce((a, r) => a + r.ok, 0);
  const seconds = Math.max(...runs.map((r) => r.seconds));
  const all = new Float64Array(runs.reduce((a, r) => a + (r.latencies?.length ?? 0), 0));
  let at = 0;
  for (const r of runs) {
    if (r.latencies) all.set(r.latencies, at);
    at += r.latencies?.length ?? 0;
  }
  const sampleFailure = runs.find((r) => r.sampleFailure)?.sampleFailure;
  return {
    ok,
    failed: runs.reduce((a, r) => a + r.failed, 0),
    errors: runs.reduce((a, r) => a + r.errors, 0),
    seconds,
    rps: ok / seconds,
    p50: percentile(all, 50),
    p99: percentile(all, 99),
    ...(sampleFailure ? { sampleFailure } : {}),
    latencies: all,
  };
}
