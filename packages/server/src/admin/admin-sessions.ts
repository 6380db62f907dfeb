import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '@tessera/protocol';

/** A signed-in administrator, as the server keeps it (the cookie holds only a random id). */
export interface AdminSession {
  userId: string;
  username: string;
  /** The synchronizer token every state-changing call sends back in `ADMIN_CSRF_HEADER`. */
  csrf: string;
  createdAt: number;
  lastSeenAt: number;
}

export interface AdminSessionPolicy {
  /** Ends after this long without a request. */
  idleMs: number;
  /** Ends this long after sign-in, however busy. */
  absoluteMs: number;
  /** At most this many live sessions (the oldest go first). */
  max: number;
}

export const DEFAULT_ADMIN_SESSION_POLICY: AdminSessionPolicy = {
  idleMs: 30 * 60_000,
  absoluteMs: 8 * 3_600_000,
  max: 1000,
};

/**
 * Server-side sessions of the dashboard, in this process's memory: keyed by the SHA-256 of the
 * cookie's random 256-bit id (a memory dump shows no usable cookie), with idle and absolute
 * timeouts on the injected clock. A restart signs every administrator out.
 */
export class AdminSessions {
  private readonly sessions = new Map<string, AdminSession>();

  constructor(
    private readonly clock: Clock,
    private readonly policy: AdminSessionPolicy = DEFAULT_ADMIN_SESSION_POLICY,
  ) {}

  /** Starts a session; returns the cookie value and the session. */
  start(userId: string, username: string): { id: string; session: AdminSession } {
    const now = this.clock.now();
    this.prune(now);
    while (this.sessions.size >= this.policy.max) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
    const id = randomBytes(32).toString('base64url');
    const session: AdminSession = {
      userId,
      username,
      csrf: randomBytes(32).toString('base64url'),
      createdAt: now,
      lastSeenAt: now,
    };
    this.sessions.set(digest(id), session);
    return { id, session };
  }

  /** The live session of a cookie value (and marks it used), or undefined. */
  touch(id: string | undefined): AdminSession | undefined {
    if (id === undefined || id.length > 128) return undefined;
    const key = digest(id);
    const session = this.sessions.get(key);
    if (!session) return undefined;
    const now = this.clock.now();
    if (this.expired(session, now)) {
      this.sessions.delete(key);
      return undefined;
    }
    session.lastSeenAt = now;
    return session;
  }

  end(id: string | undefined): void {
    if (id !== undefined) this.sessions.delete(digest(id));
  }

  /** Ends every session of a user (their admin role was taken away, or they were disabled). */
  endAllOf(userId: string): void {
    for (const [key, s] of this.sessions) if (s.userId === userId) this.sessions.delete(key);
  }

  /** Seconds until the session ends if unused, for the page to show. */
  expiresAt(session: AdminSession): number {
    return Math.min(session.lastSeenAt + this.policy.idleMs, session.createdAt + this.policy.absoluteMs);
  }

  private expired(s: AdminSession, now: number): boolean {
    return now >= this.expiresAt(s);
  }

  private prune(now: number): void {
    for (const [key, s] of this.sessions) if (this.expired(s, now)) this.sessions.delete(key);
  }
}

/** Constant-time comparison of a presented CSRF token with the session's. */
export function csrfMatches(session: AdminSession, presented: unknown): boolean {
  if (typeof presented !== 'string') return false;
  const a = Buffer.from(digest(presented));
  const b = Buffer.from(digest(session.csrf));
  return timingSafeEqual(a, b);
}

const digest = (value: string) => createHash('sha256').update(value).digest('base64url');
