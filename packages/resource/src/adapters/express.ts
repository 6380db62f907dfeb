import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { failureParts } from '../core/answers.js';
import type { AuthInfo, RequireAuthOptions } from '../core/auth-result.js';
import { createResourceServer, type ResourceServer } from '../core/create-resource-server.js';
import type { ResourceServerOptions } from '../core/options.js';
import { checkAccess } from '../core/require-auth.js';
import { nodeSources } from './node-sources.js';

declare global {
  namespace Express {
    interface Request {
      /** The authenticated caller, set by `requireAuth`. */
      auth?: AuthInfo;
    }
  }
}

/** What `createExpressAuth` returns. */
export interface ExpressAuth {
  /** The core, for `status()`, `stats()` and `close()`. */
  server: ResourceServer;
  /** Middleware: sets `req.auth` or answers 400/401/403/503 per RFC 6750. */
  requireAuth(required?: RequireAuthOptions): RequestHandler;
}

/**
 * Express middleware over the Fetch-API core.
 *
 * @example
 * const auth = createExpressAuth({ issuer, audience: 'https://api.example.com' });
 * app.get('/orders', auth.requireAuth({ scopes: ['orders:read'] }), (req, res) => res.json(req.auth));
 */
export function createExpressAuth(options: ResourceServerOptions | { server: ResourceServer }): ExpressAuth {
  const rs = 'server' in options ? options.server : createResourceServer(options);
  rs.start();
  return {
    server: rs,
    requireAuth(required?: RequireAuthOptions): RequestHandler {
      return function tesseraRequireAuth(req: Request, res: Response, next: NextFunction): void {
        if (req.auth !== undefined) {
          const access = required ? checkAccess(req.auth, required, rs.config) : undefined;
          if (access && !access.ok) {
            const { status, headers, body } = failureParts(access);
            res.status(status).set(headers).json(body);
            return;
          }
          next();
          return;
        }
        rs.authenticateSources(nodeSources(req, req.body), required).then((result) => {
          if (result.ok) {
            req.auth = result.auth;
            next();
            return;
          }
          const { status, headers, body } = failureParts(result);
          res.status(status).set(headers).json(body);
        }, next);
      };
    },
  };
}
