import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import { DASHBOARD_ASSETS } from '@tessera/dashboard';
import { TesseraError } from '@tessera/protocol';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ADMIN_API_PATH } from './admin-api.js';

/** Where the dashboard's pages live, under the server's prefix. */
export const ADMIN_PAGE_PATH = '/admin';

/**
 * The dashboard's Content-Security-Policy: everything from this origin and nothing inline, so an
 * injected `<script>` or `style` attribute does nothing; no framing (clickjacking of the revoke
 * buttons); no `<base>` or form target elsewhere.
 */
export const ADMIN_PAGE_CSP = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'"],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
} as const;

export interface AdminStaticOptions {
  /** The built page's folder; default the one `@tessera/dashboard` ships. */
  assets?: URL;
}

/**
 * The Token Health Dashboard under `/admin`: its built files (`@tessera/dashboard`) with
 * `@fastify/static`, `index.html` for `/admin` and for any other `/admin/…` path that is not the
 * API (the page routes by its `#` hash, so a deep link still opens it), and strict security headers
 * (`@fastify/helmet`) on all of them. Register it inside the server's scope, beside the admin API.
 */
export async function adminStatic(app: FastifyInstance, options: AdminStaticOptions = {}): Promise<void> {
  const root = options.assets ?? DASHBOARD_ASSETS;
  const base = `${app.prefix}${ADMIN_PAGE_PATH}/`;
  await app.register(
    async (pages) => {
      await pages.register(helmet, {
        contentSecurityPolicy: { useDefaults: false, directives: { ...ADMIN_PAGE_CSP } },
        // The page loads nothing from elsewhere and opens no other window.
        crossOriginEmbedderPolicy: true,
        crossOriginOpenerPolicy: { policy: 'same-origin' },
        crossOriginResourcePolicy: { policy: 'same-origin' },
        referrerPolicy: { policy: 'no-referrer' },
        frameguard: { action: 'deny' },
        strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
      });
      const index = new URL('index.html', root);
      if (!existsSync(index)) {
        // A checkout that was never built: say what to do instead of a bare 404.
        const unbuilt = async () => {
          throw new TesseraError(
            'temporarily_unavailable',
            'The dashboard is not built: run `npm run build` (or `npm install`) in the workspace',
          );
        };
        pages.get('/', unbuilt);
        pages.get('/*', unbuilt);
        return;
      }
      // The page's <base href> names where it is served, so that its relative URLs (its script,
      // its stylesheet, `api/…`) work under a prefix and from any deep path.
      const html = readFileSync(index, 'utf8').replace('<base href="/admin/" />', `<base href="${base}" />`);
      const sendPage = async (_request: unknown, reply: FastifyReply) =>
        reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html);
      await pages.register(fastifyStatic, {
        root: fileURLToPath(root),
        prefix: '/',
        // One route per built file, found at start; everything else falls to the page below.
        wildcard: false,
        index: false,
        globIgnore: ['index.html'],
        decorateReply: false,
        // Revalidated on every load (ETag): a new build is picked up at once.
        cacheControl: true,
        maxAge: 0,
        dotfiles: 'deny',
      });
      pages.get('/', sendPage);
      pages.get('/*', async (request, reply) => {
        const path = request.url.split('?')[0] ?? '';
        if (path.startsWith(`${app.prefix}${ADMIN_API_PATH}/`) || path === `${app.prefix}${ADMIN_API_PATH}`) {
          throw new TesseraError('not_found', 'No such endpoint');
        }
        return sendPage(request, reply);
      });
    },
    { prefix: ADMIN_PAGE_PATH },
  );
}
