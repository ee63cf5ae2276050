/**
 * @module server-streams: the GET (server-to-client) streams open through this gateway, so a drain can end them
 * at once instead of waiting out `MCP_GATEWAY_DRAIN_SECONDS`. Nothing is in flight on such a stream between two
 * events: ending it there, after the last whole event (and so after the last event id the upstream gave), is what
 * the transport expects of a server that goes away, and the client resumes elsewhere with `Last-Event-ID`.
 * Streams that carry a response (POST answers) are not tracked here: they keep the drain period.
 */

/** A GET exchange, as the drain sees it. */
export interface ServerStream {
  /** Ends the stream at its next event boundary (at once when it is at one), or as soon as its head is out. */
  endWhenIdle(): void;
}

/** The GET streams of one gateway instance, and whether it is draining. */
export class ServerStreams {
  readonly #open = new Set<ServerStream>();
  #draining = false;

  /** True once {@link drain} was called: a GET stream that opens now ends after its head. */
  get draining(): boolean {
    return this.#draining;
  }

  get size(): number {
    return this.#open.size;
  }

  add(stream: ServerStream): void {
    this.#open.add(stream);
  }

  delete(stream: ServerStream): void {
    this.#open.delete(stream);
  }

  /** Ends every open GET stream at its next event boundary. */
  drain(): void {
    this.#draining = true;
    for (const stream of [...this.#open]) stream.endWhenIdle();
  }
}
