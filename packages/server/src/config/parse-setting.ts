import type { Setting } from './schema.js';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * Parses `900`, `30s`, `15m`, `12h` or `14d` into whole seconds.
 *
 * @example
 * parseDuration('15m'); // 900
 */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0) return value;
    throw new Error('expected a whole number of seconds');
  }
  if (typeof value !== 'string') throw new Error('expected a duration like 900, 30s, 15m, 12h or 14d');
  const match = /^(\d+)\s*(s|m|h|d)?$/.exec(value.trim());
  if (!match) throw new Error('expected a duration like 900, 30s, 15m, 12h or 14d');
  const seconds = Number(match[1]) * (UNITS[match[2] ?? 's'] ?? 1);
  if (!Number.isSafeInteger(seconds)) throw new Error('expected a duration like 900, 30s, 15m, 12h or 14d');
  return seconds;
}

/** Seconds in the largest unit that divides them: `900` → `15m`, `1209600` → `14d`, `20` → `20s`. */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (seconds > 0 && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/**
 * Decodes a master secret: base64url of at least 32 bytes. The message never repeats the value.
 */
export function parseSecret(raw: unknown): Buffer {
  if (typeof raw !== 'string' || !/^[A-Za-z0-9_-]+={0,2}$/.test(raw.trim())) {
    throw new Error('expected base64url of at least 32 bytes');
  }
  const bytes = Buffer.from(raw.trim(), 'base64url');
  if (bytes.length < 32) throw new Error('expected base64url of at least 32 bytes');
  return bytes;
}

/**
 * Turns a raw value (a flag or environment string, or a JSON value) into the setting's type, or
 * throws an `Error` saying what was expected (the caller names the key and its source).
 */
export function parseSetting(spec: Setting, raw: unknown): unknown {
  switch (spec.kind) {
    case 'enum':
      if (typeof raw === 'string' && spec.values.includes(raw)) return raw;
      throw new Error(`expected one of ${spec.values.join(', ')}`);
    case 'duration':
    case 'int':
    case 'port': {
      const n =
        spec.kind === 'duration' ? parseDuration(raw as string | number) : wholeNumber(raw, spec.kind);
      const lo = spec.kind === 'port' ? 0 : (spec.min ?? 0);
      const hi = spec.kind === 'port' ? 65535 : (spec.max ?? Number.MAX_SAFE_INTEGER);
      if (n < lo || n > hi) {
        throw new Error(
          hi === Number.MAX_SAFE_INTEGER
            ? `expected at least ${lo}${spec.kind === 'duration' ? ' seconds' : ''}`
            : `expected a value from ${lo} to ${hi}${spec.kind === 'duration' ? ' seconds' : ''}`,
        );
      }
      return n;
    }
    case 'bool':
      if (raw === true || raw === 'true' || raw === '1') return true;
      if (raw === false || raw === 'false' || raw === '0') return false;
      throw new Error('expected true or false');
    case 'url': {
      if (typeof raw !== 'string') throw new Error('expected an absolute http(s) URL');
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw new Error('expected an absolute http(s) URL');
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('expected an http(s) URL');
      if (url.search || url.hash) throw new Error('the issuer must not have a query or fragment');
      return raw;
    }
    case 'secret':
      parseSecret(raw);
      return raw;
    case 'dsn': {
      const schemes = (spec.schemes ?? []).map((x) => `${x}://`).join(' or ');
      let url: URL | undefined;
      try {
        url = typeof raw === 'string' ? new URL(raw) : undefined;
      } catch {}
      if (!url || !(spec.schemes ?? []).includes(url.protocol.slice(0, -1))) {
        throw new Error(`expected a ${schemes} URL`);
      }
      if (!url.hostname && !url.searchParams.has('host')) throw new Error('the URL names no host');
      return raw;
    }
    case 'string':
    case 'path':
      if (typeof raw !== 'string' && typeof raw !== 'number') throw new Error('expected a string');
      return String(raw);
  }
}

/**
 * A connection URL safe to print: its password (and any `password` parameter) replaced by `***`.
 *
 * @example
 * redactUrl('postgres://app:s3cret@db/tessera'); // 'postgres://app:***@db/tessera'
 */
export function redactUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return '(not a URL)';
  }
  if (url.password) url.password = '***';
  if (url.searchParams.has('password')) url.searchParams.set('password', '***');
  return url.toString();
}

function wholeNumber(raw: unknown, kind: 'int' | 'port'): number {
  const n =
    typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n))
    throw new Error(kind === 'port' ? 'expected a port number' : 'expected a whole number');
  return n;
}
