import { TesseraError } from '@tessera/protocol';
import {
  DecryptionFailed,
  ReauthenticationRequired,
  RefreshDeferred,
  UpstreamUnavailable,
} from '../errors.js';

/** Thrown by the middleware when the app names no user. */
export const NOT_SIGNED_IN = Symbol('not signed in');

/** The HTTP answer for a vault error, from the shared error table; `undefined` for errors the app handles. */
export function answerFor(
  err: unknown,
  now: number,
): { status: number; headers: Record<string, string>; body: ReturnType<TesseraError['toBody']> } | undefined {
  let e: TesseraError | undefined;
  if (err === NOT_SIGNED_IN || err instanceof ReauthenticationRequired)
    e = new TesseraError('reauthentication_required');
  else if (err instanceof RefreshDeferred || err instanceof UpstreamUnavailable) {
    e = new TesseraError('temporarily_unavailable', undefined, {
      retryAfter: Math.max(1, Math.ceil((err.retryAt - now) / 1000)),
    });
  } else if (err instanceof DecryptionFailed) e = new TesseraError('server_error');
  if (!e) return undefined;
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  if (e.retryAfter !== undefined) headers['retry-after'] = String(e.retryAfter);
  return { status: e.status, headers, body: e.toBody() };
}
