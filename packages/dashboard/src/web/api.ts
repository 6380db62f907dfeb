/**
 * The admin API client: same-origin JSON calls under `api/` (relative to the page's base), the
 * CSRF token sent back on every state change, and every refusal turned into an `ApiError` that
 * carries the server's error shape.
 */
import type { ErrorBody, LifecycleEvent } from '@tessera/protocol';

export type { ErrorBody };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
    readonly retryAfter: string | null = null,
  ) {
    super(body.error_description ?? body.error);
    this.name = 'ApiError';
  }
  /** The stable code (`sign_in_required`, `forbidden`, …). */
  get code(): string {
    return this.body.error_code;
  }
}

export interface AdminSession {
  username: string;
  csrfToken: string;
  csrfHeader: string;
  expiresAt: number;
}

export interface SessionView {
  id: string;
  userId: string;
  username: string | null;
  clientId: string;
  status: 'active' | 'revoked' | 'expired';
  device: string | null;
  ip: string | null;
  startedAt: number;
  lastRefreshAt: number | null;
  expiresAt: number;
  rotations: number;
  endedAt: number | null;
  endReason: string | null;
  endedBy: string | null;
  endNote: string | null;
}

export interface LineageStep {
  generation: number;
  status: string;
  issuedAt: number;
  rotatedAt: number | null;
  expiresAt: number;
}

export interface SessionDetail {
  session: SessionView;
  lineage: LineageStep[];
  events: LifecycleEvent[];
  explanation: string;
}

export interface Page<T, N = string | number> {
  items: T[];
  next: N | null;
}

export interface UserView {
  id: string;
  username: string;
  roles: string[];
  disabled: boolean;
  createdAt: number;
}

export interface KeyView {
  ring?: string;
  kid: string;
  alg: string;
  state: string;
  createdAt: number;
  activatedAt: number | null;
  retiredAt: number | null;
  ageSeconds: number;
  verifiableTokens?: number;
  verifiesUntil?: number | null;
}

export interface Overview {
  generatedAt: number;
  from: number;
  to: number;
  stepMs: number;
  tiles: {
    activeSessions: number;
    refreshSuccessRate: number | null;
    reuseDetected24h: number;
    failedLogins24h: number;
    signingKeyAgeSeconds: number | null;
    tokenEndpointP95Ms: number | null;
  };
  times: number[];
  series: {
    refreshes: Record<string, number[]>;
    failures: Record<string, number[]>;
    graceReuses: Record<string, number[]>;
    reuseDetected: Record<string, number[]>;
    revocations: Record<string, number[]>;
    failedLogins: number[];
    tokenEndpointP95Ms: (number | null)[];
  };
}

export interface Inspection {
  format: string;
  header: Record<string, unknown> | null;
  claims: Record<string, unknown> | null;
  signatureValid: boolean | null;
  expired: boolean | null;
  expiresAt: number | null;
  issuedAt: number | null;
  revoked: boolean | null;
  active: boolean;
  key: { ring: string; kid: string; state: string } | null;
  session: SessionView | null;
  notes: string[];
}

/** `api/…` against the page's `<base href>` (`/admin/`, or under the server's prefix). */
export function apiUrl(path: string, query?: Record<string, string | number | undefined | null>): string {
  const url = new URL(`api/${path.replace(/^\//, '')}`, document.baseURI);
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
  }
  return url.pathname + url.search;
}

let session: AdminSession | null = null;
const listeners = new Set<(s: AdminSession | null) => void>();

/** Who is signed in, as the last sign-in or `GET session` said. */
export function currentSession(): AdminSession | null {
  return session;
}
export function onSessionChange(listener: (s: AdminSession | null) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
function setSession(s: AdminSession | null): void {
  session = s;
  for (const l of listeners) l(s);
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && session) headers[session.csrfHeader] = session.csrfToken;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError(0, {
      error: 'temporarily_unavailable',
      error_code: 'network_error',
      error_description: 'The server could not be reached',
      retryable: true,
    });
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const err: ErrorBody = isErrorBody(parsed)
      ? parsed
      : {
          error: 'server_error',
          error_code: 'server_error',
          error_description: `The server answered ${res.status} without the error shape`,
          retryable: res.status >= 500,
        };
    // The admin session ended (idle, absolute, restart): the page shows the sign-in.
    if (res.status === 401 && path !== apiUrl('session')) setSession(null);
    throw new ApiError(res.status, err, res.headers.get('retry-after'));
  }
  return parsed as T;
}

function isErrorBody(v: unknown): v is ErrorBody {
  const b = v as ErrorBody;
  return (
    typeof v === 'object' && v !== null && typeof b.error === 'string' && typeof b.error_code === 'string'
  );
}

export const api = {
  /** The current admin session, or null when none (a 401). */
  async resume(): Promise<AdminSession | null> {
    try {
      const s = await call<AdminSession>('GET', apiUrl('session'));
      setSession(s);
      return s;
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        setSession(null);
        return null;
      }
      throw err;
    }
  },
  async signIn(username: string, password: string): Promise<AdminSession> {
    const s = await call<AdminSession>('POST', apiUrl('session'), { username, password });
    setSession(s);
    return s;
  },
  async signOut(): Promise<void> {
    try {
      await call<void>('DELETE', apiUrl('session'));
    } finally {
      setSession(null);
    }
  },
  sessions: (q: Record<string, string | number | undefined>) =>
    call<Page<SessionView, string>>('GET', apiUrl('sessions', q)),
  session: (id: string) => call<SessionDetail>('GET', apiUrl(`sessions/${encodeURIComponent(id)}`)),
  revokeSession: (id: string, reason: string) =>
    call<{ revoked: string[] }>('POST', apiUrl(`sessions/${encodeURIComponent(id)}/revoke`), { reason }),
  revokeUser: (user: string, reason: string) =>
    call<{ revoked: string[] }>('POST', apiUrl(`users/${encodeURIComponent(user)}/revoke-sessions`), {
      reason,
    }),
  revokeClient: (client: string, reason: string) =>
    call<{ revoked: string[] }>('POST', apiUrl(`clients/${encodeURIComponent(client)}/revoke-sessions`), {
      reason,
    }),
  events: (q: Record<string, string | number | undefined>) =>
    call<Page<LifecycleEvent, number>>('GET', apiUrl('events', q)),
  users: (q: string) => call<{ items: UserView[] }>('GET', apiUrl('users', { q })),
  keys: () => call<{ items: KeyView[] }>('GET', apiUrl('keys')),
  rotateKeys: (reason: string, ring?: string) =>
    call<{ ring: string; current: string; next: string; retired: string }>('POST', apiUrl('keys/rotate'), {
      reason,
      ...(ring ? { ring } : {}),
    }),
  overview: (q: Record<string, string | number | undefined> = {}) =>
    call<Overview>('GET', apiUrl('overview', q)),
  /** The token goes in the POST body only; the answer holds claims, never the token. */
  inspect: (token: string) => call<Inspection>('POST', apiUrl('tokens/inspect'), { token }),
};
