// The page of the DPoP browser test: the SDK in DPoP mode, its key in IndexedDB (one per
// origin), the session in localStorage, cross-tab coordination by Web Locks + BroadcastChannel.
import { createTesseraClient } from '@tessera/client';
import { createDpop } from '@tessera/client/dpop';
import { createFetch } from '@tessera/client/fetch';
import { webStorage } from '@tessera/client/storage';

const issuer = `${location.origin}/auth`;
const dpop = createDpop({ tokenEndpoint: `${issuer}/oauth/token` });
const client = createTesseraClient({
  tokenEndpoint: `${issuer}/oauth/token`,
  loginEndpoint: `${issuer}/api/auth/login`,
  clientId: 'dpop-web',
  storage: webStorage(),
  fetch: dpop.fetch,
});
const api = createFetch(client, { fetch: dpop.fetch });

Object.assign(globalThis, {
  dpopTest: {
    ready: () => client.ready.then(() => true),
    thumbprint: () => dpop.thumbprint(),
    signIn: (password: string) => client.signInWithPassword({ username: 'alice', password }),
    token: () => client.getAccessToken(),
    // As after a 401 for `token` in every tab at once: one refresh, the others take its tokens.
    refreshIf: (token: string) => client.refresh({ ifAccessToken: token }),
    orders: async () => {
      const res = await api('/api/orders');
      return { status: res.status, body: await res.text() };
    },
  },
});
