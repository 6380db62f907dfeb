import type { TesseraError } from '@tessera/client';
import { createElement, Fragment, type ReactNode } from 'react';
import { useSession } from './use-session.js';

/** Props of {@link SessionGate}: what to render in each state. */
export interface SessionGateProps {
  /** Signed in, and (below `offline`) while offline: the app. */
  children?: ReactNode;
  /** While the stored session is read (and on the server). Default: nothing. */
  loading?: ReactNode;
  /** No session: typically the sign-in form. */
  signedOut?: ReactNode;
  /** The server ended the session; a function gets the reason. Default: `signedOut`. */
  expired?: ReactNode | ((error: TesseraError | null) => ReactNode);
  /** Shown above the children while offline (the user stays signed in). */
  offline?: ReactNode;
}

/**
 * Renders by session state: `loading`, `signedOut`, `expired` (with why the session ended), or
 * the children, with the `offline` notice above them while the token endpoint is unreachable.
 *
 * @example
 * <SessionGate signedOut={<Login />} expired={(e) => <Login notice={e?.message} />} offline={<p>Offline: still signed in</p>}>
 *   <App />
 * </SessionGate>
 */
export function SessionGate({ children, loading, signedOut, expired, offline }: SessionGateProps) {
  const { status, error } = useSession();
  switch (status) {
    case 'loading':
      return createElement(Fragment, null, loading);
    case 'signedOut':
      return createElement(Fragment, null, signedOut);
    case 'expired':
      return createElement(
        Fragment,
        null,
        typeof expired === 'function' ? expired(error) : expired === undefined ? signedOut : expired,
      );
    case 'offline':
      return createElement(Fragment, null, offline, children);
    default:
      return createElement(Fragment, null, children);
  }
}
