/**
 * `oidc-provider` 9 with refresh-token rotation, in its own process: `rotateRefreshToken: true`,
 * `issueRefreshToken` always true, and either an UNBOUNDED in-memory adapter (the bundled one is an
 * LRU capped at 1,000 entries, which would evict pre-minted tokens) or, with `adapter: 'redis'`, the
 * Redis adapter pattern of oidc-provider's own example (`redis-adapter.ts`). Refresh tokens are
 * minted through its `Grant` and `RefreshToken` models, without driving the authorization-code flow.
 */
import { createServer } from 'node:http';
import { childArgs, serve } from '../lib/child.js';
import { openRedisAdapter } from './redis-adapter.js';

interface Stored {
  payload: Record<string, unknown>;
  expiresAt: number;
}

const store = new Map<string, Stored>();
const grants = new Map<string, Set<string>>();

/** oidc-provider's adapter interface over one unbounded Map (expiry checked on read). */
class UnboundedAdapter {
  constructor(private readonly model: string) {}
  private key(id: string) {
    return `${this.model}:${id}`;
  }
  async upsert(id: string, payload: Record<string, unknown>, expiresIn: number) {
    const key = this.key(id);
    store.set(key, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
    const grantId = payload.grantId as string | undefined;
    if (grantId) {
      const set = grants.get(grantId) ?? new Set<string>();
      grants.set(grantId, set);
      set.add(key);
    }
  }
  async find(id: string) {
    const hit = store.get(this.key(id));
    if (!hit || hit.expiresAt <= Date.now()) return undefined;
    return hit.payload;
  }
  async findByUserCode(userCode: string) {
    for (const v of store.values()) if (v.payload.userCode === userCode) return v.payload;
    return undefined;
  }
  async findByUid(uid: string) {
    for (const v of store.values()) if (v.payload.uid === uid) return v.payload;
    return undefined;
  }
  async consume(id: string) {
    const hit = store.get(this.key(id));
    if (hit) hit.payload.consumed = Math.floor(Date.now() / 1000);
  }
  async destroy(id: string) {
    store.delete(this.key(id));
  }
  async revokeByGrantId(grantId: string) {
    for (const key of grants.get(grantId) ?? []) store.delete(key);
    grants.delete(grantId);
  }
}

interface ProviderLike {
  callback(): (req: unknown, res: unknown) => void;
  Grant: new (init: {
    accountId: string;
    clientId: string;
  }) => {
    addOIDCScope(s: string): void;
    save(): Promise<string>;
  };
  Client: { find(id: string): Promise<unknown> };
  RefreshToken: new (init: Record<string, unknown>) => { save(): Promise<string> };
}

const { port, adapter } = childArgs<{ port: number; adapter?: 'memory' | 'redis' }>();
const redis = adapter === 'redis' ? await openRedisAdapter() : undefined;
const issuer = `http://127.0.0.1:${port}`;
const specifier: string = 'oidc-provider';
const { default: Provider } = (await import(specifier)) as {
  default: new (issuer: string, config: Record<string, unknown>) => ProviderLike;
};
const provider = new Provider(issuer, {
  adapter: redis?.Adapter ?? UnboundedAdapter,
  clients: [
    {
      client_id: 'bench',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/cb'],
    },
  ],
  rotateRefreshToken: true,
  issueRefreshToken: async () => true,
  ttl: { AccessToken: 900, Grant: 30 * 86_400, RefreshToken: 14 * 86_400, IdToken: 900 },
  features: { devInteractions: { enabled: false } },
  findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
  cookies: { keys: ['bench-cookie-key-0123456789abcdef'] },
});
const server = createServer(provider.callback() as Parameters<typeof createServer>[0]);
await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
  token_endpoint: string;
};
const benchClient = await provider.Client.find('bench');

async function mintOne(): Promise<string> {
  const grant = new provider.Grant({ accountId: 'bench-user', clientId: 'bench' });
  // No `openid` scope: no ID token (an RS256 signature) on refresh, so oidc-provider does less work.
  grant.addOIDCScope('offline_access');
  const grantId = await grant.save();
  const token = new provider.RefreshToken({
    accountId: 'bench-user',
    client: benchClient,
    grantId,
    gty: 'authorization_code',
    scope: 'offline_access',
  });
  return token.save();
}

serve(
  { url: issuer, tokenEndpoint: discovery.token_endpoint },
  {
    async mint(a) {
      const n = Number(a.n);
      const refresh: string[] = [];
      for (let i = 0; i < n; i++) refresh.push(await mintOne());
      return { refresh };
    },
    size() {
      return store.size;
    },
  },
  async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    // Its own key prefix, deleted: the Redis service is shared.
    await redis?.close();
  },
);
