import { rawRequest } from './raw-http.js';
import { type Answer, refusalProblem } from './refusal-shape.js';

/**
 * A systematic sweep of hostile values over every parameter of every endpoint: each request is
 * one endpoint's well-formed baseline with one parameter (a body field, a query parameter or a
 * header) replaced by one hostile value. Every request is raw bytes on its own loopback
 * connection with a timeout, so a request that never gets an answer is reported by name (which
 * endpoint, which parameter, which value) instead of stalling the suite; the count is fixed by
 * the tables and the whole run has a deadline.
 */

/** Marks every hostile string, so an answer that repeats one is caught. */
export const CANARY = 'Qz7canary';

export interface HostileValue {
  /** How the report names it. */
  label: string;
  /** A string value (form-encoded in a form, a JSON string in JSON, as-is in a header or query). */
  value: string;
  /**
   * `raw`: inserted into the form, query or JSON text as it is, not encoded: bad
   * percent-escapes, and JSON values that are not strings.
   */
  raw?: boolean;
}

const long = (n: number) => `${CANARY}${'a'.repeat(n)}`;

/** The hostile values, each tried in every parameter. */
export const HOSTILE_VALUES: readonly HostileValue[] = [
  { label: 'empty', value: '' },
  { label: 'space', value: ' ' },
  { label: 'canary', value: CANARY },
  { label: '8 KiB', value: long(8 * 1024) },
  { label: 'over the body limit (70 KiB)', value: long(70 * 1024) },
  { label: 'NUL', value: `${CANARY}\u0000x` },
  { label: 'CRLF + header', value: `${CANARY}\r\nSet-Cookie: injected=1` },
  { label: 'bare LF', value: `${CANARY}\nx` },
  { label: 'tab and DEL', value: `${CANARY}\t\u007f` },
  { label: 'C1 control', value: `${CANARY}\u0085\u009b` },
  { label: 'RTL override', value: `${CANARY}\u202egnp.exe` },
  { label: 'zero-width and BOM', value: `\ufeff${CANARY}\u200b` },
  { label: 'fullwidth', value: `ＡＤＭＩＮ${CANARY}` },
  { label: 'decomposed accent', value: `${CANARY}e\u0301` },
  { label: 'emoji', value: `${CANARY}😀👩‍👩‍👧` },
  { label: 'lone surrogate', value: `${CANARY}\ud800` },
  { label: 'quotes and shell', value: `${CANARY}'"\`$(id);|&<>` },
  { label: 'SQL', value: `${CANARY}' OR '1'='1'; DROP TABLE families; --` },
  { label: 'path traversal', value: `../../../../etc/passwd${CANARY}` },
  { label: 'template and JNDI', value: `${CANARY}{{7*7}}\${jndi:ldap://127.0.0.1/x}` },
  { label: 'HTML', value: `<script>alert('${CANARY}')</script>` },
  { label: 'format string', value: `${CANARY}%s%s%n%x` },
  { label: '__proto__', value: '__proto__' },
  { label: 'constructor', value: 'constructor' },
  { label: 'huge number', value: '1e309' },
  { label: 'negative', value: '-1' },
  { label: 'unsafe integer', value: '9007199254740993' },
  { label: 'hex number', value: '0x7fffffff' },
  { label: 'refresh-token shape', value: `tsr_${'A'.repeat(86)}` },
  { label: 'opaque-token shape', value: `tsa_${'B'.repeat(43)}` },
  { label: 'JWT alg none', value: 'eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiJ4In0.' },
  { label: 'PASETO shape', value: `v4.public.${'C'.repeat(100)}` },
  { label: 'Basic nothing', value: 'Basic ' },
  { label: 'Basic not base64', value: `Basic ${CANARY}!!!` },
  { label: 'Basic colon only', value: `Basic ${btoa(':')}` },
  { label: 'Basic bad escape', value: `Basic ${btoa('%zz:%zz')}` },
  { label: 'Bearer nothing', value: 'Bearer ' },
  { label: 'Bearer huge', value: `Bearer ${long(9000)}` },
  { label: 'lower-case scheme', value: `bearer ${CANARY}` },
  { label: 'another scheme', value: `Digest ${CANARY}` },
  { label: 'bad percent-escape (raw)', value: `${CANARY}%zz%`, raw: true },
  { label: 'truncated UTF-8 escape (raw)', value: `${CANARY}%E0%A4%A`, raw: true },
  { label: 'encoded NUL (raw)', value: `${CANARY}%00`, raw: true },
  { label: 'JSON number (raw)', value: '12345', raw: true },
  { label: 'JSON true (raw)', value: 'true', raw: true },
  { label: 'JSON null (raw)', value: 'null', raw: true },
  { label: 'JSON array (raw)', value: `["${CANARY}"]`, raw: true },
  { label: 'JSON object (raw)', value: `{"$gt":"${CANARY}","__proto__":{"admin":true}}`, raw: true },
  { label: 'JSON escaped NUL (raw)', value: `"${CANARY}\\u0000"`, raw: true },
  { label: 'JSON lone surrogate escape (raw)', value: `"${CANARY}\\ud800"`, raw: true },
  { label: 'JSON deep nesting (raw)', value: `${'['.repeat(5000)}${']'.repeat(5000)}`, raw: true },
];

/** Where a swept parameter sits in the request. */
export type ParameterKind = 'body' | 'query' | 'header' | 'path';

/** One endpoint: a well-formed request, and the parameters to sweep over it. */
export interface Endpoint {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  body?: { type: 'form' | 'json'; params: Record<string, string> };
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** The parameters to sweep; `path` replaces the last path segment. */
  sweep: { kind: ParameterKind; name: string }[];
}

/** A request of the sweep: which endpoint, which parameter, which value. */
export interface Probe {
  endpoint: Endpoint;
  parameter: { kind: ParameterKind; name: string };
  value: HostileValue;
}

export interface Finding {
  /** `endpoint parameter = value` as a person reads it. */
  where: string;
  problem: string;
}

export interface SweepReport {
  tried: number;
  endpoints: number;
  parameters: number;
  durationMs: number;
  statuses: Record<string, number>;
  /** Requests that got no answer within the timeout: a hang. */
  hung: Finding[];
  /** Answers that broke a rule: a 5xx, a refusal without the documented shape, an echo. */
  failures: Finding[];
  /** The deadline passed before every probe ran. */
  unfinished: number;
}

/** Every probe of `endpoints` × their parameters × `values`, in a fixed order. */
export function probesOf(
  endpoints: readonly Endpoint[],
  values: readonly HostileValue[] = HOSTILE_VALUES,
): Probe[] {
  const out: Probe[] = [];
  for (const endpoint of endpoints) {
    for (const parameter of endpoint.sweep)
      for (const value of values) out.push({ endpoint, parameter, value });
  }
  return out;
}

export function describeProbe(p: Probe): string {
  return `${p.endpoint.name}: ${p.parameter.kind} ${p.parameter.name} = ${p.value.label}`;
}

/** The raw HTTP/1.1 request of a probe (`Connection: close`, `Content-Length` computed). */
export function buildRequest(p: Probe, host: string): Buffer {
  const { endpoint, parameter, value } = p;
  const swept = (kind: ParameterKind, name: string) => parameter.kind === kind && parameter.name === name;
  let path = endpoint.path;
  if (parameter.kind === 'path') {
    path = `${path.slice(0, path.lastIndexOf('/') + 1)}${value.raw ? value.value : enc(value.value)}`;
  }
  const query = { ...endpoint.query };
  const queryParts = Object.entries(query).map(([k, v]) => `${enc(k)}=${enc(v)}`);
  if (parameter.kind === 'query') {
    const i = queryParts.findIndex((q) => q.startsWith(`${enc(parameter.name)}=`));
    const part = `${enc(parameter.name)}=${value.raw ? value.value : enc(value.value)}`;
    if (i === -1) queryParts.push(part);
    else queryParts[i] = part;
  }
  const target = queryParts.length > 0 ? `${path}?${queryParts.join('&')}` : path;

  let body = '';
  const headers: Record<string, string> = { host, connection: 'close', ...endpoint.headers };
  if (endpoint.body) {
    const params = { ...endpoint.body.params };
    if (endpoint.body.type === 'form') {
      const parts = Object.entries(params)
        .filter(([k]) => !swept('body', k))
        .map(([k, v]) => `${enc(k)}=${enc(v)}`);
      if (parameter.kind === 'body') {
        parts.push(`${enc(parameter.name)}=${value.raw ? value.value : enc(value.value)}`);
      }
      body = parts.join('&');
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
    } else {
      const members = Object.entries(params)
        .filter(([k]) => !swept('body', k))
        .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
      if (parameter.kind === 'body') {
        members.push(
          `${JSON.stringify(parameter.name)}:${value.raw ? jsonRaw(value.value) : jsonString(value.value)}`,
        );
      }
      body = `{${members.join(',')}}`;
      headers['content-type'] ??= 'application/json';
    }
  }
  const bodyBytes = Buffer.from(body, 'utf8');
  if (endpoint.method === 'POST') headers['content-length'] = String(bodyBytes.length);
  if (parameter.kind === 'header') headers[parameter.name] = value.value;
  const head = [
    `${endpoint.method} ${target} HTTP/1.1`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  // Header values go out as UTF-8 bytes, as a client that does not check them would send them.
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'utf8'), bodyBytes]);
}

/** A raw value that is not JSON of its own (a bad escape meant for forms) is sent as a JSON string. */
function jsonRaw(text: string): string {
  try {
    JSON.parse(text);
    return text;
  } catch {
    return jsonString(text);
  }
}

/** Percent-encoding as a client does it: a lone surrogate has no UTF-8, so it goes out as U+FFFD. */
const enc = (text: string): string =>
  encodeURIComponent(
    text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'),
  );

/** A JSON string (a lone surrogate goes out escaped, as JSON allows). */
const jsonString = (text: string): string => JSON.stringify(text);

export interface SweepOptions {
  port: number;
  /** Per request; past it the probe is reported as a hang. */
  timeoutMs: number;
  /** For the whole sweep; probes not started by then are counted as unfinished. */
  deadlineMs: number;
  concurrency: number;
  /** Extra rule for answers (e.g. which statuses an endpoint may give). */
  check?: (probe: Probe, answer: Answer) => string | undefined;
}

/**
 * Runs the probes and judges every answer: an answer within the timeout; never a 5xx; every
 * refusal in the documented shape, repeating no hostile value and carrying no token.
 */
export async function sweep(probes: readonly Probe[], options: SweepOptions): Promise<SweepReport> {
  const started = Date.now();
  const report: SweepReport = {
    tried: 0,
    endpoints: new Set(probes.map((p) => p.endpoint.name)).size,
    parameters: new Set(probes.map((p) => `${p.endpoint.name} ${p.parameter.kind} ${p.parameter.name}`)).size,
    durationMs: 0,
    statuses: {},
    hung: [],
    failures: [],
    unfinished: 0,
  };
  let next = 0;
  const worker = async () => {
    while (next < probes.length) {
      if (Date.now() - started > options.deadlineMs) {
        report.unfinished = probes.length - next;
        next = probes.length;
        return;
      }
      const probe = probes[next++]!;
      report.tried++;
      const { answer, timedOut } = await rawRequest(
        options.port,
        buildRequest(probe, `127.0.0.1:${options.port}`),
        options.timeoutMs,
      );
      const where = describeProbe(probe);
      if (timedOut) {
        report.hung.push({ where, problem: `no answer within ${options.timeoutMs} ms` });
        continue;
      }
      if (answer === undefined) {
        report.failures.push({ where, problem: 'the connection was closed without an answer' });
        continue;
      }
      report.statuses[answer.status] = (report.statuses[answer.status] ?? 0) + 1;
      const problem =
        answer.status >= 500
          ? `${answer.status}: ${answer.text.slice(0, 160)}`
          : answer.status >= 400
            ? refusalProblem(answer, [CANARY])
            : answer.text.includes(CANARY)
              ? 'a successful answer repeats the input'
              : options.check?.(probe, answer);
      if (problem !== undefined) report.failures.push({ where, problem });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  report.durationMs = Date.now() - started;
  return report;
}

/** A report in a few lines, for assertion messages and the test log. */
export function summarize(report: SweepReport, max = 25): string {
  const lines = [
    `${report.tried} requests over ${report.parameters} parameters of ${report.endpoints} endpoints in ${report.durationMs} ms; statuses ${JSON.stringify(report.statuses)}`,
  ];
  if (report.unfinished > 0) lines.push(`${report.unfinished} probes not run: the deadline passed`);
  for (const h of report.hung.slice(0, max)) lines.push(`HUNG ${h.where} (${h.problem})`);
  for (const f of report.failures.slice(0, max)) lines.push(`FAILED ${f.where}: ${f.problem}`);
  const more = report.hung.length + report.failures.length - 2 * max;
  if (more > 0) lines.push(`… and ${more} more`);
  return lines.join('\n');
}
