/** The confirmations of the destructive session actions: what ends, and a reason that is kept. */
import { api, type SessionView } from '../api.js';
import type { ConfirmRequest } from '../components.js';

export function revokeOne(s: SessionView, done?: (r: unknown) => void): ConfirmRequest {
  return {
    title: 'Revoke this session?',
    body: (
      <p>
        The session <code>{s.id}</code> of <strong>{s.username ?? s.userId}</strong> on{' '}
        <strong>{s.clientId}</strong> ends now: its refresh token stops working and resource servers that
        follow the revocation feed refuse its access tokens.
      </p>
    ),
    action: 'Revoke session',
    run: (reason) => api.revokeSession(s.id, reason),
    ...(done ? { done } : {}),
  };
}

export function revokeAllOfUser(user: string, done?: (r: unknown) => void): ConfirmRequest {
  return {
    title: `Revoke every session of ${user}?`,
    body: (
      <p>
        Every active session of <strong>{user}</strong>, on every app, ends now. They sign in again
        everywhere.
      </p>
    ),
    action: 'Revoke all sessions of this user',
    run: (reason) => api.revokeUser(user, reason),
    ...(done ? { done } : {}),
  };
}

export function revokeAllOfClient(client: string, done?: (r: unknown) => void): ConfirmRequest {
  return {
    title: `Revoke every session of the client ${client}?`,
    body: (
      <p>
        Every active session of the app <strong>{client}</strong>, for every user, ends now.
      </p>
    ),
    action: 'Revoke all sessions of this client',
    run: (reason) => api.revokeClient(client, reason),
    ...(done ? { done } : {}),
  };
}
