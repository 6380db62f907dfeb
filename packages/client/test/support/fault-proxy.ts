import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Scheduler } from '../../src/core/types.js';

/** What the proxy does with a token request. */
export type Fault =
  /** Forward it and its answer unchanged. */
  | { kind: 'pass' }
  /** Accept it and never answer (Wi-Fi without internet, a dead cell, a stalled proxy). */
  | { kind: 'blackhole' }
  /** Close the connection without an answer (connection reset, as a dropped link). */
  | { kind: 'reset' }
  /** Forward it after `ms` (on the given scheduler): a slow network. */
  | { kind: 'delay'; ms: number }
  /** Forward it (after `delayMs`), then send the answer's headers and only `bytes` of its body, and close. */
  | { kind: 'cut'; bytes: number; delayMs?: number }
  /** Answer it without asking the server: a captive portal or a lying middlebox. */
  | { kind: 'rewrite'; status: number; headers?: Record<string, string>; body?: string };

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * A small HTTP proxy on 127.0.0.1 in front of a token endpoint: it black-holes, resets, delays,
 * cuts or rewrites the answers to `path` (the token endpoint) and forwards everything else.
 * `next` scripts the next requests; when it is empty, `mode` applies.
 */
export class FaultProxy {
  mode: Fault = { kind: 'pass' };
  readonly next: Fault[] = [];
  /** Token requests that reached the proxy, with the fault each got. */
  readonly seen: { fault: Fault['kind']; body: string }[] = [];
  /** Token requests answered (by the server or by a rewrite), cut ones included. */
  answered = 0;
  origin = '';
  #server!: Server;

  private constructor(
    readonly upstream: string,
    readonly scheduler: Scheduler,
    readonly path: string,
  ) {}

  static async start(upstream: string, scheduler: Scheduler, path = '/oauth/token'): Promise<FaultProxy> {
    const proxy = new FaultProxy(upstream, scheduler, path);
    proxy.#server = createServer((req, res) => {
      void proxy.#handle(req, res);
    });
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    proxy.origin = `http://127.0.0.1:${(proxy.#server.address() as AddressInfo).port}`;
    return proxy;
  }

  get tokenEndpoint(): string {
    return this.origin + this.path;
  }

  /** Refresh tokens presented at the token endpoint, in arrival order. */
  get refreshTokens(): (string | null)[] {
    return this.seen.map((s) => new URLSearchParams(s.body).get('refresh_token'));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (new URL(req.url ?? '/', this.origin).pathname !== this.path) {
      await this.#forward(req, body, res);
      return;
    }
    const fault = this.next.shift() ?? this.mode;
    this.seen.push({ fault: fault.kind, body: body.toString() });
    switch (fault.kind) {
      case 'blackhole':
        return; // the socket stays open until the client gives up or the proxy stops
      case 'reset':
        req.socket.destroy();
        return;
      case 'rewrite':
        res.writeHead(fault.status, fault.headers ?? {});
        res.end(fault.body ?? '');
        this.answered++;
        return;
      case 'delay':
        this.scheduler.setTimeout(() => void this.#forward(req, body, res), fault.ms);
        return;
      case 'cut': {
        if (fault.delayMs)
          await new Promise((go) => this.scheduler.setTimeout(() => go(undefined), fault.delayMs ?? 0));
        const answer = await this.#fetch(req, body);
        res.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) });
        res.write(answer.body.subarray(0, fault.bytes));
        this.answered++;
        // Let the partial body reach the client, then drop the connection mid-answer.
        setImmediate(() => req.socket.destroy());
        return;
      }
      default:
        await this.#forward(req, body, res);
    }
  }

  async #forward(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    const answer = await this.#fetch(req, body);
    res.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) });
    res.end(answer.body);
    if (new URL(req.url ?? '/', this.origin).pathname === this.path) this.answered++;
  }

  #fetch(
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const target = new URL(req.url ?? '/', this.upstream);
      const headers = { ...req.headers, host: target.host };
      const out = request(target, { method: req.method, headers }, (answer) => {
        void readBody(answer).then((data) => {
          const kept: Record<string, string> = {};
          for (const [name, value] of Object.entries(answer.headers)) {
            if (typeof value === 'string' && name !== 'content-length' && name !== 'transfer-encoding') {
              kept[name] = value;
            }
          }
          resolve({ status: answer.statusCode ?? 502, headers: kept, body: data });
        }, reject);
      });
      out.on('error', reject);
      out.end(body);
    });
  }

  stop(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/**
 * Lets real I/O (loopback HTTP) happen while virtual time stands still: yields to the event loop
 * until `done()` holds, for at most `limitMs` of real time (then fails: a bounded loop).
 */
export async function io(done: () => boolean, what: string, limitMs = 5_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
