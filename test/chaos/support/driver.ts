import { request as httpRequest } from 'node:http';
import { ENDPOINTS } from '@tessera/protocol';
import type { History, RefreshAnswer } from './invariants.js';

/**
 * The fault tests' HTTP clients: each request goes over real loopback HTTP on a connection of its
 * own (no keep-alive: a killed server must not leave a pooled socket behind), with a timeout, and
 * is recorded in the run's `History` with what came back.
 */

export interface Answer {
  status: number;
  body: any;
  headers: Record<string, string | string[] | undefined>;
}

/** POSTs a form or JSON body; `lost` when the connection failed or timed out before an answer. */
export function post(
  url: string,
  path: string,
  body: Record<string, string>,
  options: { json?: boolean; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Answer | 'lost'> {
  const payload = options.json ? JSON.stringify(body) : new URLSearchParams(body).toString();
  const target = new URL(path, url);
  return new Promise((resolve) => {
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        agent: false,
        headers: {
          'content-type': options.json ? 'application/json' : 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(payload),
          connection: 'close',
          ...options.headers,
        },
        timeout: options.timeoutMs ?? 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', () => resolve('lost'));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {}
          resolve({ status: res.statusCode ?? 0, body: parsed, headers: res.headers });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve('lost'));
    req.end(payload);
  });
}

/** What the history keeps of an answer to a refresh. */
export function toRefreshAnswer(a: Answer | 'lost'): RefreshAnswer {
  if (a === 'lost') return 'lost';
  if (a.status === 200) return { status: 200, refreshToken: String(a.body?.refresh_token) };
  return { status: a.status, errorCode: a.body?.error_code ?? a.body?.error };
}

/** One refresh grant by the public client `clientId`, recorded. */
export async function refresh(
  history: History,
  url: string,
  actor: string,
  presented: string,
  options: { clientId?: string; clock?: () => number; deliberateReuse?: boolean; nonce?: string } = {},
): Promise<Answer | 'lost'> {
  const now = options.clock ?? Date.now;
  const sentAt = now();
  const answer = await post(url, ENDPOINTS.token, {
    grant_type: 'refresh_token',
    client_id: options.clientId ?? 'web',
    refresh_token: presented,
    ...(options.nonce ? { nonce: options.nonce } : {}),
  });
  history.add({
    kind: 'refresh',
    actor,
    presented,
    sentAt,
    answeredAt: now(),
    answer: toRefreshAnswer(answer),
    ...(options.deliberateReuse ? { deliberateReuse: true } : {}),
  });
  if (options.nonce && answer !== 'lost') {
    history.add({ kind: 'single-use', value: options.nonce, accepted: answer.status === 200 });
  }
  return answer;
}

/** Signs in over HTTP (`POST /api/auth/login`) and records the refresh token. */
export async function login(
  history: History,
  url: string,
  actor: string,
  credentials: { username: string; password: string; clientId?: string },
): Promise<string> {
  const answer = await post(
    url,
    ENDPOINTS.login,
    {
      username: credentials.username,
      password: credentials.password,
      client_id: credentials.clientId ?? 'web',
    },
    { json: true },
  );
  if (answer === 'lost' || answer.status !== 200) {
    throw new Error(
      `login failed: ${answer === 'lost' ? 'lost' : `${answer.status} ${JSON.stringify(answer.body)}`}`,
    );
  }
  const token = String(answer.body.refresh_token);
  history.add({ kind: 'login', actor, refreshToken: token, at: Date.now() });
  return token;
}

/**
 * A session's holder: keeps its newest refresh token and, when an answer was lost or transient
 * (5xx), presents the same token again (what every well-behaved client does).
 */
export class Holder {
  constructor(
    readonly actor: string,
    public token: string,
  ) {}
  /** The token whose answer was lost, to be retried; `undefined` when nothing is in flight. */
  inFlight: string | undefined;

  async refreshOnce(history: History, url: string): Promise<Answer | 'lost'> {
    const presented = this.inFlight ?? this.token;
    const answer = await refresh(history, url, this.actor, presented);
    if (answer !== 'lost' && answer.status === 200) {
      this.token = String(answer.body.refresh_token);
      this.inFlight = undefined;
    } else if (answer === 'lost' || answer.status >= 500) {
      this.inFlight = presented;
    }
    return answer;
  }
}
