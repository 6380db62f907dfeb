import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ReauthenticationRequired } from '../errors.js';
import type { TokenVault } from '../token-vault.js';
import { answerFor, NOT_SIGNED_IN } from './answers.js';
import type { UpstreamContext } from './upstream-context.js';

declare global {
  namespace Express {
    interface Request {
      /** Set by `requireUpstreamToken`. */
      upstream?: UpstreamContext;
    }
  }
}

export type { UpstreamContext } from './upstream-context.js';

export interface ExpressVaultOptions {
  /** How the app knows who is signed in (its session); `undefined` means nobody. */
  userId(req: Request): string | undefined | Promise<string | undefined>;
  connection?: string;
  /** Answer a user who must sign in (again), e.g. redirect to the sign-in route; default 401 `reauthentication_required`. */
  onReauthenticationRequired?(req: Request, res: Response, next: NextFunction): void;
}

/**
 * Express middleware: puts a valid upstream access token on `req.upstream` for the signed-in
 * user. No user or a lost grant answers 401 `reauthentication_required`; an upstream that is
 * down while the token is past use answers 503 with `Retry-After`; other errors go to `next`.
 *
 * @example
 * app.get('/api/profile', requireUpstreamToken(vault, { userId: (req) => req.session.userId }),
 *   async (req, res) => res.json(await (await req.upstream!.fetch('https://api.example.com/me')).json()));
 */
export function requireUpstreamToken(vault: TokenVault, options: ExpressVaultOptions): RequestHandler {
  const conn = options.connection === undefined ? {} : { connection: options.connection };
  return function tesseraUpstreamToken(req: Request, res: Response, next: NextFunction): void {
    const run = async () => {
      const userId = await options.userId(req);
      if (!userId) throw NOT_SIGNED_IN;
      const accessToken = await vault.getValidAccessToken(userId, conn);
      req.upstream = {
        userId,
        connection: options.connection ?? 'default',
        accessToken,
        fetch: (url, init) => vault.fetch(userId, url, init, conn),
      };
    };
    run().then(
      () => next(),
      (err: unknown) => {
        if (
          (err === NOT_SIGNED_IN || err instanceof ReauthenticationRequired) &&
          options.onReauthenticationRequired
        ) {
          options.onReauthenticationRequired(req, res, next);
          return;
        }
        const answer = answerFor(err, Date.now());
        if (!answer) {
          next(err);
          return;
        }
        res.status(answer.status).set(answer.headers).json(answer.body);
      },
    );
  };
}
