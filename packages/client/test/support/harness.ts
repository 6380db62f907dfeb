import type { TesseraEvents } from '../../src/core/types.js';
import { createTesseraClient, type TesseraClient, type TesseraClientOptions } from '../../src/index.js';
import { FakeTokenServer } from './fake-token-server.js';
import { VirtualTime } from './virtual-time.js';

/** A client wired to a fake server in virtual time, with every event recorded. */
export interface Harness {
  time: VirtualTime;
  server: FakeTokenServer;
  client: TesseraClient;
  events: { name: keyof TesseraEvents; payload: unknown }[];
  count(name: keyof TesseraEvents): number;
}

const EVENTS: (keyof TesseraEvents)[] = [
  'refreshed',
  'refreshFailed',
  'offline',
  'online',
  'sessionExpired',
  'reuseDetected',
  'stateChange',
  'storageError',
];

/** Records every event of `client`. */
export function record(client: TesseraClient) {
  const events: { name: keyof TesseraEvents; payload: unknown }[] = [];
  for (const name of EVENTS) client.subscribe(name, (payload) => events.push({ name, payload }));
  return { events, count: (name: keyof TesseraEvents) => events.filter((e) => e.name === name).length };
}

export async function harness(
  options: Partial<TesseraClientOptions> = {},
  shared?: { time: VirtualTime; server: FakeTokenServer },
): Promise<Harness> {
  const time = shared?.time ?? new VirtualTime();
  const server = shared?.server ?? new FakeTokenServer(time);
  const client = createTesseraClient({
    tokenEndpoint: server.url,
    clientId: 'web',
    clock: time,
    scheduler: time,
    fetch: server.fetch,
    random: () => 0.5,
    lifecycleEvents: false,
    ...options,
  });
  const recorded = record(client);
  await client.ready;
  return { time, server, client, ...recorded };
}

/** A harness already signed in with the server's first tokens. */
export async function signedIn(
  options: Partial<TesseraClientOptions> = {},
  shared?: { time: VirtualTime; server: FakeTokenServer },
): Promise<Harness> {
  const h = await harness(options, shared);
  await h.client.signInWithTokens(h.server.issue());
  h.events.length = 0;
  return h;
}
