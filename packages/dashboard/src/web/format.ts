/** Times and durations as the pages show them (UTC, so that a support person and a log agree). */

export function time(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** `2026-01-12 09:31` (UTC), for tables. */
export function shortTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

/** `2026-01-12 09:31:05` (UTC), for the events' table. */
export function secondsTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** `40 s`, `11 min`, `3 h`, `2 d`. */
export function age(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '–';
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h`;
  return `${Math.round(h / 24)} d`;
}

export function percent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined) return '–';
  return `${(ratio * 100).toFixed(ratio >= 0.999 || ratio === 0 ? 0 : 1)} %`;
}

/** An end reason in words, for tables (the session page has the full sentence). */
export const END_REASON_WORDS: Record<string, string> = {
  logout: 'signed out',
  admin_revoked: 'revoked by an admin',
  client_revoked: 'revoked by the app',
  idle_expired: 'idle timeout',
  absolute_expired: 'maximum lifetime',
  reuse_detected: 'reuse detected',
  password_changed: 'password changed',
  user_disabled: 'user disabled',
  client_deleted: 'client deleted',
  key_revoked: 'key revoked',
};

export function endReason(reason: string | null | undefined): string {
  if (!reason) return '';
  return END_REASON_WORDS[reason] ?? reason;
}
