import { createTesseraClient, memoryStorage, type TesseraClient } from '@tessera/client';
import type { History } from './invariants.js';
import { SkippableTime } from './skippable-time.js';

/**
 * A client SDK session as an app holds one, whose every token request is recorded in the run's
 * `History` (through the SDK's `fetch` option): the SDK's own retries, backoff and nonces are
 * what is tested, and the checker sees each request it made and each answer it got.
 */
export interface SdkActor {
  actor: string;
  client: TesseraClient;
  /** `sessionExpired` events so far (must stay empty through any fault). */
  expired: unknown[];
  /** The SDK's clock and timers: real time, until the test skips a backoff. */
  time: SkippableTime;
  /** Token requests the SDK has sent that are not answered yet. */
  inFlight(): number;
}

export async function sdkActor(
  history: History,
  actor: string,
  url: string,
  credentials: { username: string; password: string },
): Promise<SdkActor> {
  const expired: unknown[] = [];
  const time = new SkippableTime();
  let inFlight = 0;
  const recording: typeof fetch = async (input, init) => {
    inFlight++;
    try {
      return await record(input, init);
    } finally {
      inFlight--;
    }
  };
  const record: typeof fetch = async (input, init) => {
    const request = input instanceof Request ? input : new Request(input, init);
    const text = await request.clone().text();
    const body = new URLSearchParams(text);
    const presented = body.get('grant_type') === 'refresh_token' ? body.get('refresh_token') : null;
    const nonce = body.get('nonce') ?? undefined;
    const sentAt = Date.now();
    let response: Response;
    try {
      response = await fetch(request, init);
    } catch (err) {
      if (presented)
        history.add({ kind: 'refresh', actor, presented, sentAt, answeredAt: Date.now(), answer: 'lost' });
      throw err;
    }
    if (!presented) return response;
    let json: any;
    try {
      json = await response.clone().json();
    } catch {
      history.add({ kind: 'refresh', actor, presented, sentAt, answeredAt: Date.now(), answer: 'lost' });
      return response;
    }
    history.add({
      kind: 'refresh',
      actor,
      presented,
      sentAt,
      answeredAt: Date.now(),
      answer:
        response.status === 200
          ? { status: 200, refreshToken: String(json.refresh_token) }
          : { status: response.status, errorCode: json?.error_code ?? json?.error },
    });
    if (nonce) history.add({ kind: 'single-use', value: nonce, accepted: response.status === 200 });
    return response;
  };
  const client = createTesseraClient({
    tokenEndpoint: `${url}/oauth/token`,
    clientId: 'web',
    storage: memoryStorage(),
    fetch: recording,
    lifecycleEvents: false,
    // Ref'd timers the test can skip ahead (the default scheduler's are unref'd and real only).
    clock: { now: time.now },
    scheduler: { setTimeout: time.setTimeout, clearTimeout: time.clearTimeout },
  });
  client.subscribe('sessionExpired', (e) => expired.push(e));
  await client.ready;
  await client.signInWithPassword(credentials);
  const session = await client.getAccessToken();
  if (!session) throw new Error('the SDK did not sign in');
  return { actor, client, expired, time, inFlight: () => inFlight };
}
