// Bundled by esbuild into the test page. Exposes the SDK to the test as `window.tessera`.
import { createTesseraClient } from '../../src/index.js';
import { indexedDbStorage, memoryStorage, webStorage } from '../../src/storage/index.js';
import type { PageApi } from './page-api.js';

const params = new URLSearchParams(location.search);
const kind = params.get('storage') ?? 'idb';
// The test hook for broken storage: garble the stored session before the client starts.
if (params.get('corrupt') === 'idb')
  await putRawIdbRecord({ iv: new Uint8Array(12), data: new ArrayBuffer(40) });
if (params.get('corrupt') === 'local') localStorage.setItem('tessera:web', '{"accessToken":"at-1","expiresA');
const storage =
  kind === 'idb' ? indexedDbStorage() : kind === 'local' ? webStorage(localStorage) : memoryStorage();
// The test hook for a loaded browser: this tab's channel messages arrive late (after lock grants).
const channelDelayMs = Number(params.get('channelDelayMs') ?? 0);
if (channelDelayMs > 0) {
  const Native = BroadcastChannel;
  type Handler = ((this: BroadcastChannel, event: MessageEvent) => unknown) | null;
  globalThis.BroadcastChannel = class SlowChannel extends Native {
    #handler: Handler = null;
    constructor(name: string) {
      super(name);
      super.onmessage = (event) => setTimeout(() => this.#handler?.call(this, event), channelDelayMs);
    }
    override get onmessage(): Handler {
      return this.#handler;
    }
    override set onmessage(handler: Handler) {
      this.#handler = handler;
    }
  };
}
let offset = 0;
const client = createTesseraClient({
  tokenEndpoint: `${location.origin}/oauth/token`,
  clientId: 'web',
  storage,
  // The test hook: the tab's clock can be moved past expiry without waiting.
  clock: { now: () => Date.now() + offset },
});
const seen: string[] = [];
for (const name of [
  'refreshed',
  'refreshFailed',
  'offline',
  'online',
  'sessionExpired',
  'reuseDetected',
  'storageError',
] as const) {
  client.subscribe(name, () => seen.push(name));
}
let pending: Promise<(string | null)[]> = Promise.resolve([]);

/** Writes a raw record under `tessera:web`, creating the database as the adapter does. */
function putRawIdbRecord(record: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('tessera', 1);
    open.onupgradeneeded = () => {
      open.result.createObjectStore('keys');
      open.result.createObjectStore('values');
    };
    open.onsuccess = () => {
      const tx = open.result.transaction('values', 'readwrite');
      tx.objectStore('values').put(record, 'tessera:web');
      tx.oncomplete = () => {
        open.result.close();
        resolve();
      };
      tx.onerror = () => reject(tx.error);
    };
    open.onerror = () => reject(open.error);
  });
}

function idbKeys(): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('tessera');
    open.onsuccess = () => {
      const req = open.result.transaction('values', 'readonly').objectStore('values').getAllKeys();
      req.onsuccess = () => resolve(req.result.map(String));
      req.onerror = () => reject(req.error);
    };
    open.onerror = () => reject(open.error);
  });
}

function idbGet(store: string, key: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('tessera');
    open.onsuccess = () => {
      const req = open.result.transaction(store, 'readonly').objectStore(store).get(key);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    };
    open.onerror = () => reject(open.error);
  });
}

const api: PageApi = {
  setOffset: (ms) => {
    offset = ms;
  },
  signIn: (tokens) => client.signInWithTokens(tokens),
  getAccessToken: () => client.getAccessToken(),
  startMany(n) {
    pending = Promise.all(Array.from({ length: n }, () => client.getAccessToken()));
  },
  collect: () => pending,
  state: () => client.state,
  storedKeys: async () => (kind === 'idb' ? idbKeys() : Object.keys(localStorage)),
  events: () => seen,
  async locks() {
    const snapshot = await navigator.locks.query();
    const mine = (l: LockInfo) => l.name === 'tessera:tessera:web';
    return {
      held: (snapshot.held ?? []).filter(mine).length,
      pending: (snapshot.pending ?? []).filter(mine).length,
    };
  },
  async atRest() {
    const record = (await idbGet('values', 'tessera:web')) as { data: ArrayBuffer } | undefined;
    const key = (await idbGet('keys', 'session-key')) as CryptoKey | undefined;
    const text = record ? new TextDecoder().decode(record.data) : '';
    return {
      plaintextVisible: !record || /rt-|at-|refreshToken/.test(text),
      keyExtractable: key ? key.extractable : null,
      keyAlgorithm: key ? key.algorithm.name : null,
    };
  },
};
(globalThis as unknown as { tessera: PageApi }).tessera = api;
await client.ready;
document.title = 'ready';
