/** One Server-Sent Event (WHATWG HTML §9.2.6). */
export interface SseEvent {
  /** The `id` field last seen on the stream (ids persist across events). */
  id: string | undefined;
  event: string;
  data: string;
}

/**
 * An incremental `text/event-stream` parser: feed it decoded text chunks in any split, it
 * yields complete events. Lines longer than `maxLineLength` abort the stream (a hostile or
 * broken server must not grow our buffer without end).
 */
export class SseParser {
  readonly #maxLine: number;
  #buffer = '';
  #data: string[] = [];
  #event = '';
  #lastId: string | undefined;
  #sawCr = false;

  constructor(maxLineLength: number, lastEventId?: string) {
    this.#maxLine = maxLineLength;
    this.#lastId = lastEventId;
  }

  /** The last event id received (what to send as `Last-Event-ID`). */
  get lastEventId(): string | undefined {
    return this.#lastId;
  }

  /** Parses `chunk`; returns the events it completed. */
  push(chunk: string): SseEvent[] {
    const events: SseEvent[] = [];
    let text = chunk;
    // A CRLF split across chunks: the LF belongs to the CR already handled.
    if (this.#sawCr && text.startsWith('\n')) text = text.slice(1);
    this.#sawCr = false;
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 0x0a && c !== 0x0d) continue;
      const line = this.#buffer + text.slice(start, i);
      this.#buffer = '';
      if (c === 0x0d) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === 0x0a) i++;
        } else {
          this.#sawCr = true;
        }
      }
      start = i + 1;
      const event = this.#line(line);
      if (event) events.push(event);
    }
    this.#buffer += text.slice(start);
    if (this.#buffer.length > this.#maxLine) throw new Error('SSE line too long');
    return events;
  }

  #line(line: string): SseEvent | undefined {
    if (line === '') {
      if (this.#data.length === 0) {
        this.#event = '';
        return undefined;
      }
      const event = { id: this.#lastId, event: this.#event || 'message', data: this.#data.join('\n') };
      this.#data = [];
      this.#event = '';
      return event;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
    else if (field === 'event') this.#event = value;
    else if (field === 'id' && !value.includes('\u0000')) this.#lastId = value;
    return undefined;
  }
}
