import { after, afterEach, before } from 'node:test';
import type { TesseraEvents } from '../../src/core/types.js';
import { createTesseraClient, type TesseraClient, type TesseraClientOptions } from '../../src/index.js';
import { FaultProxy, io } from './fault-proxy.js';
import { record } from './harness.js';
import { HttpFixture } from './http-fixture.js';
import { VirtualTime } from './virtual-time.js';

/**
 * The networks suite: Tessera's token rules over real HTTP on 127.0.0.1 (HttpFixture), reached
 * through a FaultProxy. Clients use the SDK's default options (timeouts, offlineAfterMs,
 * retries, random jitter) on virtual time: timers run only when the test advances the clock,
 * while the HTTP traffic is real.
 */
export interface Network {
  fx: HttpFixture;
  proxy: FaultProxy;
  time: VirtualTime;
  /** Clients made by {@link netClient}, closed after each test so their timers stop. */
  clients: TesseraClient[];
}

/** Starts the fixture and the proxy for the file's tests, and stops them after. */
export function network(): Network {
  const net = { clients: [] } as unknown as Network;
  afterEach(() => {
    for (const client of net.clients.splice(0)) client.close();
  });
  before(async () => {
    net.time = new VirtualTime();
    net.fx = await HttpFixture.start();
    net.proxy = await FaultProxy.start(net.fx.origin, net.time);
  });
  after(async () => {
    await net.proxy.stop();
    await net.fx.stop();
  });
  return net;
}

export interface NetClient {
  client: TesseraClient;
  events: { name: keyof TesseraEvents; payload: unknown }[];
  count(name: keyof TesseraEvents): number;
}

/** A client with the default options, on the suite's virtual time, through the proxy. */
export function netClient(net: Network, options: Partial<TesseraClientOptions> = {}): NetClient {
  const client = createTesseraClient({
    tokenEndpoint: net.proxy.tokenEndpoint,
    clientId: 'web',
    clock: net.time,
    scheduler: net.time,
    ...options,
  });
  net.clients.push(client);
  return { client, ...record(client) };
}

/** A client signed in with fresh tokens of the fixture; the proxy passes everything. */
export async function signedInNetClient(net: Network, options: Partial<TesseraClientOptions> = {}) {
  net.proxy.mode = { kind: 'pass' };
  net.proxy.next.length = 0;
  net.proxy.seen.length = 0;
  net.proxy.answered = 0;
  const c = netClient(net, options);
  await c.client.ready;
  const tokens = net.fx.tokens.issue();
  await c.client.signInWithTokens(tokens);
  c.events.length = 0;
  return { ...c, tokens, rotations: net.fx.tokens.rotations };
}

/** Follows a promise without awaiting it: `done`, and its value or error once settled. */
export function track<T>(promise: Promise<T>) {
  const t: { done: boolean; value?: T; error?: unknown } = { done: false };
  promise.then(
    (value) => {
      t.done = true;
      t.value = value;
    },
    (error: unknown) => {
      t.done = true;
      t.error = error;
    },
  );
  return t;
}

export { io };
