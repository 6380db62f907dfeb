/**
 * `@tessera/dashboard`: the Token Health Dashboard, a single-page app built to static files.
 * `@tessera/server` serves them under `/admin`; the page talks to the server only through the
 * admin API under `/admin/api/`.
 */

/** The files of the built page, in the folder `DASHBOARD_ASSETS` names. */
export const DASHBOARD_FILES = ['index.html', 'app.js', 'app.css', 'favicon.svg'] as const;

/**
 * The folder of the built page (`dist/web/` of this package), written by the workspace's build and
 * shipped in the package. The same URL from the compiled module and from its source.
 *
 * @example
 * import { fileURLToPath } from 'node:url';
 * const root = fileURLToPath(DASHBOARD_ASSETS); // …/@tessera/dashboard/dist/web/
 */
export const DASHBOARD_ASSETS: URL = new URL('../dist/web/', import.meta.url);
