import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { freePort } from '@tessera/test-support';

export { freePort };

/** A token request as the proxy saw it (tests only). */
export interface SeenRequest {
  path: string;
  grantType: string | null;
}

/** A response the proxy got from the upstream and holds until released. */
export interface Held {
  /** Resolves when the upstream has answered (the response is then held). */
  arrived: Promise<void>;
  /** Delivers the held response. */
  release(): void;
  /** Drops it: the client's connection is destroyed, the answer never arrives. */
  drop(): void;
}

/**
 * A loopback HTTP proxy in front of an upstream authorization server, whose issuer is the
 * proxy's URL. It counts token requests and injects faults: down (connections reset), lost
 * responses (forwarded, then the client's socket destroyed), held responses, canned errors.
 */
export interface FaultProxy {
  url: string;
  port: number;
  seen: SeenRequest[];
  /** Every POST: its path and the names (never the values) of its form parameters. */
  posts: { path: string; params: string[] }[];
  /** Refresh grants that reached the upstream. */
  refreshGrants(): number;
  down: boolean;
  /** The next N token requests are forwarded, then their answers are lost. */
  loseResponses: number;
  /** The next N token requests get this answer instead of reaching the upstream. */
  cannedResponses: { status: number; body: unknown; headers?: Record<string, string> }[];
  /** The next token request's answer is held. */
  holdNext(): Held;
  close(): Promise<void>;
}

export async function startProxy(port = 0): Promise<FaultProxy & { setTarget(port: number): void }> {
  let target = 0;
  const sockets = new Set<Socket>();
  const holds: Held[] = [];
  const holdQueue: { arrived: () => void; gate: Promise<'release' | 'drop'> }[] = [];
  const proxy = {
    url: '',
    port: 0,
    seen: [] as SeenRequest[],
    posts: [] as { path: string; params: string[] }[],
    refreshGrants: () => proxy.seen.filter((s) => s.grantType === 'refresh_token').length,
    down: false,
    loseResponses: 0,
    cannedResponses: [] as FaultProxy['cannedResponses'],
    holdNext(): Held {
      let arrived!: () => void;
      let decide!: (d: 'release' | 'drop') => void;
      const arrivedP = new Promise<void>((r) => {
        arrived = r;
      });
      const gate = new Promise<'release' | 'drop'>((r) => {
        decide = r;
      });
      holdQueue.push({ arrived, gate });
      const held = { arrived: arrivedP, release: () => decide('release'), drop: () => decide('drop') };
      holds.push(held);
      return held;
    },
    setTarget(p: number) {
      target = p;
    },
    close: async () => {
      for (const h of holds) h.drop();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };

  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    // Keep-alive connections opened before `down` must fail too.
    if (proxy.down) {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const path = req.url ?? '/';
    if (req.method === 'POST')
      proxy.posts.push({ path, params: [...new URLSearchParams(body.toString()).keys()] });
    const isToken = req.method === 'POST' && /\/token$/.test(path.split('?')[0]!);
    let hold: (typeof holdQueue)[number] | undefined;
    let lose = false;
    if (isToken) {
      const canned = proxy.cannedResponses.shift();
      if (canned) {
        res.writeHead(canned.status, { 'content-type': 'application/json', ...canned.headers });
        res.end(JSON.stringify(canned.body));
        return;
      }
      const grantType = new URLSearchParams(body.toString()).get('grant_type');
      proxy.seen.push({ path, grantType });
      hold = holdQueue.shift();
      if (proxy.loseResponses > 0) {
        proxy.loseResponses--;
        lose = true;
      }
    }
    const upstream = request(
      {
        host: '127.0.0.1',
        port: target,
        method: req.method,
        path,
        headers: { ...req.headers, host: req.headers.host },
      },
      async (up) => {
        const parts: Buffer[] = [];
        for await (const c of up) parts.push(c as Buffer);
        const answer = Buffer.concat(parts);
        if (hold) {
          hold.arrived();
          if ((await hold.gate) === 'drop') lose = true;
        }
        if (lose) {
          req.socket.destroy();
          return;
        }
        const headers = { ...up.headers };
        delete headers['transfer-encoding'];
        res.writeHead(up.statusCode ?? 502, { ...headers, 'content-length': String(answer.length) });
        res.end(answer);
      },
    );
    upstream.on('error', () => req.socket.destroy());
    upstream.end(body);
  });
  server.on('connection', (socket) => {
    if (proxy.down) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  proxy.port = (server.address() as AddressInfo).port;
  proxy.url = `http://127.0.0.1:${proxy.port}`;
  return proxy;
}
