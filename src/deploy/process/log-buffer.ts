/**
 * @module LogBuffer: the last lines a replica wrote (stdout and stderr, plus the gateway's own notes about it),
 * bounded by line count and by bytes, with live followers for `/logs?follow=true`.
 */

/** Options for {@link LogBuffer}. */
export interface LogBufferOptions {
  /** Most lines kept (default 10 000, the largest `tail` the control plane accepts). */
  readonly maxLines?: number;
  /** Most bytes kept, counted as UTF-8 (default 2 MiB). */
  readonly maxBytes?: number;
}

interface Follower {
  readonly controller: ReadableStreamDefaultController<Uint8Array>;
  readonly detach: () => void;
}

const encoder = new TextEncoder();

/** A ring buffer of lines. */
export class LogBuffer {
  readonly #maxLines: number;
  readonly #maxBytes: number;
  readonly #lines: (string | undefined)[];
  readonly #sizes: number[];
  #start = 0;
  #count = 0;
  #bytes = 0;
  readonly #followers = new Set<Follower>();
  #closed = false;

  constructor(options: LogBufferOptions = {}) {
    this.#maxLines = Math.max(1, options.maxLines ?? 10_000);
    this.#maxBytes = Math.max(1, options.maxBytes ?? 2 * 1024 * 1024);
    this.#lines = new Array<string | undefined>(this.#maxLines);
    this.#sizes = new Array<number>(this.#maxLines).fill(0);
  }

  /** Lines currently kept. */
  get size(): number {
    return this.#count;
  }

  /** Adds one line (without its newline) and hands it to every follower. */
  append(line: string): void {
    if (this.#closed) return;
    const size = Buffer.byteLength(line) + 1;
    if (this.#count === this.#maxLines) this.#dropOldest();
    const slot = (this.#start + this.#count) % this.#maxLines;
    this.#lines[slot] = line;
    this.#sizes[slot] = size;
    this.#count += 1;
    this.#bytes += size;
    while (this.#bytes > this.#maxBytes && this.#count > 1) this.#dropOldest();
    if (this.#followers.size > 0) {
      const bytes = encoder.encode(`${line}\n`);
      for (const follower of this.#followers) this.#deliver(follower, bytes);
    }
  }

  /** The last `n` lines, oldest first. */
  tail(n: number): string[] {
    const take = Math.max(0, Math.min(n, this.#count));
    const out: string[] = [];
    for (let i = this.#count - take; i < this.#count; i += 1) {
      out.push(this.#lines[(this.#start + i) % this.#maxLines]!);
    }
    return out;
  }

  /** The last `n` lines as text, each ending in a newline. */
  text(n: number): string {
    const lines = this.tail(n);
    return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
  }

  /**
   * The last `tail` lines, then every new line as it is appended. Ends when `signal` aborts, when the buffer
   * is closed (the replica was removed), when the reader cancels, or when the reader falls further behind than
   * the buffer's own byte bound (a note says so; the gateway never queues unbounded data for a slow client).
   */
  follow(tail: number, signal?: AbortSignal): ReadableStream<Uint8Array> {
    let follower: Follower | undefined;
    const strategy = new ByteLengthQueuingStrategy({ highWaterMark: 64 * 1024 });
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          const initial = this.text(tail);
          if (initial) controller.enqueue(encoder.encode(initial));
          if (this.#closed || signal?.aborted) {
            controller.close();
            return;
          }
          const onAbort = () => this.#end(current);
          const current: Follower = {
            controller,
            detach: () => signal?.removeEventListener('abort', onAbort),
          };
          follower = current;
          this.#followers.add(current);
          signal?.addEventListener('abort', onAbort, { once: true });
        },
        cancel: () => {
          if (follower) {
            this.#followers.delete(follower);
            follower.detach();
          }
        },
      },
      strategy,
    );
  }

  /** Ends every follower and refuses further lines. */
  close(): void {
    this.#closed = true;
    for (const follower of [...this.#followers]) this.#end(follower);
  }

  #deliver(follower: Follower, bytes: Uint8Array): void {
    const { controller } = follower;
    if ((controller.desiredSize ?? 0) < -this.#maxBytes) {
      try {
        controller.enqueue(encoder.encode('[mcp-gateway] log reader too slow; follow stream ended\n'));
      } catch {
        // Already closed by the reader.
      }
      this.#end(follower);
      return;
    }
    try {
      controller.enqueue(bytes);
    } catch {
      this.#followers.delete(follower);
      follower.detach();
    }
  }

  #end(follower: Follower): void {
    if (!this.#followers.delete(follower)) return;
    follower.detach();
    try {
      follower.controller.close();
    } catch {
      // The reader cancelled first.
    }
  }

  #dropOldest(): void {
    this.#bytes -= this.#sizes[this.#start]!;
    this.#lines[this.#start] = undefined;
    this.#start = (this.#start + 1) % this.#maxLines;
    this.#count -= 1;
  }
}
