import Bowser from 'bowser';
import type { FamilyRecord } from '../ports/index.js';

/** A session as the admin API shows it: never a token, only what describes it. */
export interface SessionView {
  /** The family id: the access token's `sid` claim, what `tessera sessions list` shows. */
  id: string;
  userId: string;
  username: string | null;
  clientId: string;
  /** `active`, `revoked`, or `expired` (also once past its absolute expiry before cleanup marks it). */
  status: FamilyRecord['status'];
  device: string | null;
  ip: string | null;
  startedAt: number;
  lastRefreshAt: number | null;
  expiresAt: number;
  rotations: number;
  endedAt: number | null;
  endReason: FamilyRecord['endReason'];
  endedBy: string | null;
  endNote: string | null;
}

export function toSessionView(f: FamilyRecord, username: string | null, now: number): SessionView {
  return {
    id: f.id,
    userId: f.userId,
    username,
    clientId: f.clientId,
    status: f.status === 'active' && f.expiresAt <= now ? 'expired' : f.status,
    device: deviceOf(f.userAgent),
    ip: f.ip,
    startedAt: f.createdAt,
    lastRefreshAt: f.lastRefreshAt,
    expiresAt: f.expiresAt,
    rotations: f.generation,
    endedAt: f.endedAt,
    endReason: f.endReason,
    endedBy: f.endedBy,
    endNote: f.endNote,
  };
}

/** "Chrome 120 on macOS", from a user agent (bowser, MIT); null when there is none. */
export function deviceOf(userAgent: string | null | undefined): string | null {
  if (!userAgent) return null;
  try {
    const p = Bowser.parse(userAgent);
    const browser = [p.browser.name, p.browser.version?.split('.')[0]].filter(Boolean).join(' ');
    const os = [p.os.name, p.os.versionName ?? p.os.version].filter(Boolean).join(' ');
    if (!browser && !os) return userAgent.slice(0, 60);
    return os ? `${browser || 'Unknown browser'} on ${os}` : browser;
  } catch {
    return userAgent.slice(0, 60);
  }
}
