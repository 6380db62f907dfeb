import { createServer, type Server, Socket } from 'node:net';

/**
 * A loopback TCP proxy in front of PostgreSQL that a test controls: `down()` closes every
 * connection and refuses new ones until `up()`; `cutAfter(text)` forwards the next client packet
 * that contains `text` and then closes that connection both ways, so PostgreSQL runs (and
 * commits) the statement while its answer is lost on the way back.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly pairs = new Set<[Socket, Socket]>();
  private isDown = false;
  private cut: { text: string; done: () => void } | undefined;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<number> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  private accept(client: Socket): void {
    if (this.isDown) {
      client.destroy();
      return;
    }
    const upstream = new Socket();
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    upstream.connect(this.targetPort, this.targetHost);
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('data', (chunk: Buffer) => {
      const cut = this.cut;
      if (cut && chunk.includes(cut.text)) {
        this.cut = undefined;
        // The statement reaches PostgreSQL whole; its answer never reaches the client.
        upstream.write(chunk, () => {
          client.destroy();
          setTimeout(() => upstream.destroy(), 200);
          cut.done();
        });
        return;
      }
      upstream.write(chunk);
    });
  }

  /** Resolves once a packet holding `text` was forwarded and its connection cut. */
  cutAfter(text: string): Promise<void> {
    return new Promise((resolve) => {
      this.cut = { text, done: resolve };
    });
  }

  /** PostgreSQL "unreachable": every connection closed, new ones refused. */
  down(): void {
    this.isDown = true;
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  up(): void {
    this.isDown = false;
  }

  /** Connections open through the proxy now. */
  get connections(): number {
    return this.pairs.size;
  }

  async stop(): Promise<void> {
    this.down();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
