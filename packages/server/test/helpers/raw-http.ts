import { connect } from 'node:net';
import type { Answer } from './refusal-shape.js';

/** What came back on a raw connection: the parsed answer, or `undefined` when nothing did. */
export interface RawResult {
  answer: Answer | undefined;
  /** Everything received, for messages. */
  received: string;
  /** The connection was closed by the server (rather than left open until the timeout). */
  closed: boolean;
  /** The timeout passed before a whole answer came (an event stream counts as whole once it starts). */
  timedOut: boolean;
}

/**
 * Sends `request` as bytes on a TCP connection to `127.0.0.1:port` and reads one HTTP/1.1
 * answer: until its `Content-Length` is complete (and, with `Connection: close`, the server has
 * closed), or `timeoutMs` passes.
 * For requests no HTTP client would send (two Content-Lengths, a NUL in a header, …).
 */
export function rawRequest(port: number, request: string | Buffer, timeoutMs = 3000): Promise<RawResult> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (closed: boolean, timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const received = Buffer.concat(chunks).toString('latin1');
      const answer = parseAnswer(received);
      resolve({ answer, received, closed, timedOut: timedOut && answer?.complete !== true });
    };
    const timer = setTimeout(() => finish(false, true), timeoutMs);
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      const answer = parseAnswer(Buffer.concat(chunks).toString('latin1'));
      // A `Connection: close` answer is followed by the close, which is waited for (bounded).
      if (answer?.complete && answer.headers.connection !== 'close') finish(false, false);
    });
    socket.on('close', () => finish(true, false));
    socket.on('error', () => finish(true, false));
    socket.write(request);
  });
}

function parseAnswer(text: string): (Answer & { complete: boolean }) | undefined {
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  if (!Number.isInteger(status)) return undefined;
  const headers: Record<string, string | string[]> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const had = headers[name];
    headers[name] = had === undefined ? value : [had, value].flat();
  }
  const body = text.slice(end + 4);
  const length = Number(headers['content-length']);
  // A stream (Server-Sent Events) never ends by design: it is an answer once it has begun.
  const stream = String(headers['content-type']).startsWith('text/event-stream');
  return {
    status,
    headers,
    text: Number.isInteger(length) ? body.slice(0, length) : body,
    complete: stream || (Number.isInteger(length) && Buffer.byteLength(body, 'latin1') >= length),
  };
}
