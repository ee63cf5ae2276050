/**
 * @module LineSplitter: turns a byte stream (a child's stdout or stderr) into lines. Splitting happens on bytes,
 * so a multi-byte UTF-8 character cut between two chunks is decoded whole; one line is bounded so a child that
 * never writes a newline cannot grow the gateway's memory.
 */

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** Options for {@link LineSplitter}. */
export interface LineSplitterOptions {
  /** Called with each complete line, without its `\n` (or `\r\n`). */
  readonly onLine: (line: string) => void;
  /** Longest line kept; the rest of a longer line is dropped and `onOverflow` told once per such line. */
  readonly maxLineBytes: number;
  /** Called when a line exceeded `maxLineBytes`; the kept prefix is still passed to `onLine` unless this returns false. */
  readonly onOverflow?: (keptPrefix: string) => boolean | void;
}

/** Accumulates chunks and emits lines. */
export class LineSplitter {
  readonly #options: LineSplitterOptions;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** True while skipping the remainder of an over-long line. */
  #skipping = false;

  constructor(options: LineSplitterOptions) {
    this.#options = options;
  }

  /** Feeds one chunk. */
  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(NEWLINE, start);
      if (newline < 0) break;
      this.#take(chunk.subarray(start, newline), true);
      start = newline + 1;
    }
    if (start < chunk.length) this.#take(chunk.subarray(start), false);
  }

  /** Emits a last line that had no newline (the stream ended). */
  end(): void {
    if (this.#pendingBytes > 0 && !this.#skipping) this.#emit();
    this.#reset();
  }

  #take(part: Buffer, complete: boolean): void {
    if (this.#skipping) {
      if (complete) this.#reset();
      return;
    }
    const room = this.#options.maxLineBytes - this.#pendingBytes;
    if (part.length > room) {
      this.#pending.push(part.subarray(0, Math.max(0, room)));
      this.#pendingBytes += Math.max(0, room);
      const prefix = this.#text();
      if (this.#options.onOverflow?.(prefix) !== false) this.#options.onLine(prefix);
      this.#reset();
      this.#skipping = !complete;
      return;
    }
    this.#pending.push(part);
    this.#pendingBytes += part.length;
    if (complete) {
      this.#emit();
      this.#reset();
    }
  }

  #text(): string {
    let bytes =
      this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingBytes);
    if (bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN) bytes = bytes.subarray(0, -1);
    return bytes.toString('utf8');
  }

  #emit(): void {
    this.#options.onLine(this.#text());
  }

  #reset(): void {
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#skipping = false;
  }
}
