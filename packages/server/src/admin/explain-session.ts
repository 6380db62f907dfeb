import type { LifecycleEvent, SessionEndReason } from '@tessera/protocol';
import type { FamilyRecord } from '../ports/index.js';

/** What an explanation may say about the family's events (lineage), read through the ports. */
export interface ExplainInput {
  family: FamilyRecord;
  /** The family's events, oldest first (`EventStore.list({ familyId })`). */
  events: readonly LifecycleEvent[];
  now: number;
  /** The time zone the sentence's clock times are written in (default UTC). */
  timeZone?: string;
}

/**
 * One plain sentence: why a session ended, or what will end it. One template per end reason;
 * a support person reads it to a user as it is.
 */
export function explainSession(input: ExplainInput): string {
  const { family, now } = input;
  const at = (ms: number) => clockTime(ms, input.timeZone);
  if (family.status === 'active' && family.expiresAt > now) return explainActive(input, at);
  const ended = family.endedAt ?? family.expiresAt;
  const reason: SessionEndReason = family.endReason ?? 'absolute_expired';
  const when = `Signed out at ${at(ended)}`;
  switch (reason) {
    case 'logout':
      return `${when} because the user signed out.`;
    case 'admin_revoked': {
      const who = family.endedBy ? `the administrator ${family.endedBy}` : 'an administrator';
      const why = family.endNote ? `, giving the reason "${family.endNote}"` : ', without giving a reason';
      return `${when} because ${who} ended the session${why}.`;
    }
    case 'client_revoked':
      return `${when} because the app (client ${family.clientId}) revoked its refresh token.`;
    case 'idle_expired':
      return `${when} because the session was not used for longer than its idle lifetime${sinceLastUse(family, ended)}.`;
    case 'absolute_expired':
      return `${when} because the session reached its maximum lifetime (it started ${at(family.createdAt)}); signing in again starts a new one.`;
    case 'reuse_detected':
      return explainReuse(input, when);
    case 'password_changed':
      return `${when} because the user's password was changed, which ends every session of theirs.`;
    case 'user_disabled':
      return `${when} because the user's account was disabled or removed.`;
    case 'client_deleted':
      return `${when} because the app (client ${family.clientId}) it belonged to was deleted.`;
    case 'key_revoked':
      return `${when} because a signing key its tokens depended on was revoked.`;
  }
}

function explainActive(input: ExplainInput, at: (ms: number) => string): string {
  const { family } = input;
  const refreshed =
    family.lastRefreshAt === null
      ? 'It has not been refreshed yet'
      : `It was last refreshed at ${at(family.lastRefreshAt)} (${family.generation} rotation${family.generation === 1 ? '' : 's'})`;
  return `Active. ${refreshed}. It ends when the user signs out, when it goes unused for its idle lifetime, or at the latest at ${at(family.expiresAt)} (its maximum lifetime); an administrator can end it sooner, and reuse of a replaced refresh token would end it at once.`;
}

function explainReuse(input: ExplainInput, when: string): string {
  const { events } = input;
  const reuse = [...events].reverse().find((e) => e.type === 'token.reuse.detected');
  const presented = numberOf(reuse?.data?.presentedGeneration);
  const which =
    presented === undefined || presented < 0 ? 'an old refresh token' : `refresh token #${presented}`;
  // When the presented token was replaced: the rotation that made its child.
  const replaced =
    presented === undefined
      ? undefined
      : events.find((e) => e.type === 'token.refreshed' && numberOf(e.data?.generation) === presented + 1);
  const gap =
    reuse && replaced
      ? ` ${duration(reuse.at - replaced.at)} after it had been replaced`
      : ' after it had been replaced';
  const reuseIp = stringOf(reuse?.data?.ip);
  const previousIp = stringOf(replaced?.data?.ip) ?? input.family.ip ?? undefined;
  const from =
    reuseIp && previousIp && reuseIp !== previousIp
      ? `, from a different IP (${reuseIp}, previously ${previousIp})`
      : reuseIp
        ? `, from ${reuseIp}`
        : '';
  return `${when} because ${which} was used again${gap}${from}; Tessera revoked the whole session to protect the account.`;
}

function sinceLastUse(family: FamilyRecord, ended: number): string {
  const last = family.lastRefreshAt ?? family.createdAt;
  return ended > last ? ` (last used ${duration(ended - last)} before)` : '';
}

/** `14:02` (UTC unless a zone is given); with the date when it is not today's. */
function clockTime(ms: number, timeZone = 'UTC'): string {
  const d = new Date(ms);
  const date = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(d);
  const time = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(d);
  return `${time}${timeZone === 'UTC' ? ' UTC' : ''} on ${date}`;
}

/** `11 minutes`, `3 hours`, `2 days`, `40 seconds`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (s < 120) return unit(s, 'second');
  const m = Math.round(s / 60);
  if (m < 120) return unit(m, 'minute');
  const h = Math.round(m / 60);
  if (h < 48) return unit(h, 'hour');
  return unit(Math.round(h / 24), 'day');
}

const numberOf = (v: unknown) => (typeof v === 'number' ? v : undefined);
const stringOf = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
