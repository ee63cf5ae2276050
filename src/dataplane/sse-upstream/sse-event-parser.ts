/**
 * @module sse-event-parser: reads a `text/event-stream` body (WHATWG HTML §9.2) into events, chunk by chunk. The
 * 2024-11-05 transport sends an `endpoint` event and then `message` events whose data is one JSON-RPC message;
 * ids and `retry:` mean nothing to the gateway there (that transport cannot resume), so they are read and dropped.
 */

/** One dispatched event. */
export interface SseEvent {
  /** The `event:` field, `message` when absent. */
  readonly event: string;
  /** The `data:` lines joined with newlines. */
  readonly data: string;
}

/** Longest event the gateway buffers; a server that sends more without a blank line is cut off. */
export const MAX_EVENT_CHARS = 16 * 1024 * 1024;

/** An incremental parser: feed it decoded text, it calls `onEvent` for each complete event. */
export class SseEventParser {
  #buffer = '';
  #event = '';
  #data: string[] = [];
  #dataChars = 0;
  /** The previous chunk ended in `\r`: a `\n` starting the next one belongs to that line break. */
  #pendingCr = false;

  constructor(private readonly onEvent: (event: SseEvent) => void) {}

  /** Feeds text; throws when one event grows beyond {@link MAX_EVENT_CHARS}. */
  push(text: string): void {
    let chunk = text;
    if (this.#pendingCr && chunk.startsWith('\n')) chunk = chunk.slice(1);
    this.#pendingCr = false;
    this.#buffer += chunk;
    let start = 0;
    for (;;) {
      const cr = this.#buffer.indexOf('\r', start);
      const lf = this.#buffer.indexOf('\n', start);
      if (cr < 0 && lf < 0) break;
      const end = cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf);
      const line = this.#buffer.slice(start, end);
      if (this.#buffer[end] === '\r') {
        if (end + 1 === this.#buffer.length) this.#pendingCr = true;
        start = this.#buffer[end + 1] === '\n' ? end + 2 : end + 1;
      } else {
        start = end + 1;
      }
      this.#line(line);
    }
    this.#buffer = this.#buffer.slice(start);
    if (this.#buffer.length + this.#dataChars > MAX_EVENT_CHARS)
      throw new Error(`an SSE event is longer than ${MAX_EVENT_CHARS} characters`);
  }

  #line(line: string): void {
    if (line === '') {
      if (this.#data.length > 0)
        this.onEvent({ event: this.#event || 'message', data: this.#data.join('\n') });
      this.#event = '';
      this.#data = [];
      this.#dataChars = 0;
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#event = value;
    else if (field === 'data') {
      this.#data.push(value);
      this.#dataChars += value.length + 1;
    }
  }
}
