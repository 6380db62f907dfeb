/**
 * The header every cookie-mode request carries, with {@link CSRF_HEADER_VALUE}. A cross-site
 * HTML form cannot send it, and a cross-origin `fetch` that sets it needs a CORS preflight,
 * which the server never grants. HTTP header names are case-insensitive; Node presents this one
 * as `x-tessera-csrf`.
 */
export const CSRF_HEADER = 'X-Tessera-CSRF';

/** The value of {@link CSRF_HEADER}. */
export const CSRF_HEADER_VALUE = '1';

/**
 * The header every state-changing call of the admin API (`/admin/api/`) carries, with the CSRF
 * token the admin sign-in answered (and `GET /admin/api/session` repeats).
 */
export const ADMIN_CSRF_HEADER = 'X-Tessera-Admin-CSRF';
