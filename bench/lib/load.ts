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
  /** The server's CPU per successful response, µs (all threads, main thread), and its write syscalls. */
  cpu?: { all: number; main: number; writes: number };
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
        });
      },
    );
    const timer = setTimeout(() => instance.stop(), opts.maxSeconds * 1000);
  });
}
