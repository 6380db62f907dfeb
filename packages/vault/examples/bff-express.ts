/**
 * A backend-for-frontend in Express on top of `@tessera/vault` (the README walks through it):
 * the browser holds only an HttpOnly session cookie; the BFF holds each user's upstream tokens
 * in the vault and calls the API with a valid access token. The upstream is Tessera's own
 * server (`tessera serve`), which signs first-party users in with the password grant.
 */
import { randomBytes } from 'node:crypto';
import { createExpressAuth } from '@tessera/resource/express';
import express, { type Request } from 'express';
import * as oidc from 'openid-client';
import { ReauthenticationRequired, type TokenVault } from '../src/index.js';
import { requireUpstreamToken } from '../src/middleware/express.js';

/** The BFF: `POST /login`, `POST /logout`, `GET /api/me` (which calls the API as the user). */
export function createBff(vault: TokenVault, apiUrl: string): express.Express {
  const app = express();
  app.use(express.json({ limit: '8kb' }));
  // Session id -> user id. A real app keeps this in its session store; the tokens stay in the vault.
  const sessions = new Map<string, string>();
  const sessionOf = (req: Request) =>
    /(?:^|;\s*)bff_sid=([A-Za-z0-9_-]{43})/.exec(req.headers.cookie ?? '')?.[1];
  const userOf = (req: Request) => {
    const sid = sessionOf(req);
    return sid ? sessions.get(sid) : undefined;
  };

  app.post('/login', async (req, res) => {
    const { username, password } = req.body as { username?: unknown; password?: unknown };
    if (typeof username !== 'string' || typeof password !== 'string') {
      res.status(400).json({ error: 'username and password are required' });
      return;
    }
    try {
      // openid-client speaks to the upstream with the vault's own configuration and client auth.
      const tokens = await oidc.genericGrantRequest(vault.upstream.config, 'password', {
        username,
        password,
      });
      const userId = `tessera:${tokens.claims()?.sub ?? username}`;
      await vault.save(userId, tokens);
      const sid = randomBytes(32).toString('base64url');
      sessions.set(sid, userId);
      res.setHeader('set-cookie', `bff_sid=${sid}; HttpOnly; SameSite=Strict; Path=/`);
      res.status(204).end();
    } catch {
      res.status(401).json({ error: 'invalid username or password' });
    }
  });

  app.post('/logout', async (req, res) => {
    const sid = sessionOf(req);
    const userId = sid ? sessions.get(sid) : undefined;
    if (sid) sessions.delete(sid);
    if (userId) await vault.signOut(userId); // revokes the refresh token upstream (RFC 7009)
    res.setHeader('set-cookie', 'bff_sid=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0');
    res.status(204).end();
  });

  app.get('/api/me', requireUpstreamToken(vault, { userId: userOf }), async (req, res) => {
    // A valid token for this user is on req.upstream; fetch() refreshes once on a 401.
    const answer = await req.upstream!.fetch(apiUrl);
    res.status(answer.status).json(await answer.json());
  });

  app.use((err: unknown, _req: Request, res: express.Response, _next: express.NextFunction) => {
    res.status(err instanceof ReauthenticationRequired ? 401 : 500).json({ error: 'request failed' });
  });
  return app;
}

/** The API the BFF calls: an Express route guarded by `@tessera/resource` (JWTs checked against the JWKS). */
export function createApi(issuer: string): express.Express {
  const auth = createExpressAuth({ issuer, audience: issuer });
  const app = express();
  app.get('/me', auth.requireAuth(), (req, res) => {
    res.json({ sub: req.auth!.sub, client: req.auth!.clientId });
  });
  return app;
}
