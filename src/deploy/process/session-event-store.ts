/**
 * @module SessionEventStore: the bounded in-memory event store of one bridged session, so a client whose SSE
 * stream dropped can resume with `Last-Event-ID` (MCP Streamable HTTP resumability). Event ids encode their
 * stream, as the 2025-11-25 transport rules ask; only the newest `maxEvents` events are kept.
 */
import type { EventStore } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

interface StoredEvent {
  readonly seq: number;
  readonly streamId: string;
  readonly message: JSONRPCMessage;
}

// '~' never occurs in the transport's stream ids (UUIDs and `_GET_stream`), so the split is unambiguous.
const SEPARATOR = '~';

/** Keeps the last `maxEvents` events of one session. */
export class SessionEventStore implements EventStore {
  readonly #maxEvents: number;
  readonly #events: StoredEvent[] = [];
  #seq = 0;

  constructor(maxEvents: number) {
    this.#maxEvents = Math.max(1, maxEvents);
  }

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    this.#seq += 1;
    this.#events.push({ seq: this.#seq, streamId, message });
    if (this.#events.length > this.#maxEvents) this.#events.splice(0, this.#events.length - this.#maxEvents);
    return `${streamId}${SEPARATOR}${this.#seq}`;
  }

  /** The stream of a retained event; undefined for an unknown or evicted one, which the transport answers with 400. */
  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    const parsed = this.#parse(eventId);
    if (!parsed) return undefined;
    const oldest = this.#events[0]?.seq ?? Number.POSITIVE_INFINITY;
    return parsed.seq >= oldest && parsed.seq <= this.#seq ? parsed.streamId : undefined;
  }

  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    const parsed = this.#parse(lastEventId);
    if (!parsed) return '';
    for (const event of [...this.#events]) {
      if (event.streamId !== parsed.streamId || event.seq <= parsed.seq) continue;
      // Priming events carry no message; replaying them would hand the client an empty object to parse.
      if (!('jsonrpc' in event.message)) continue;
      await send(`${event.streamId}${SEPARATOR}${event.seq}`, event.message);
    }
    return parsed.streamId;
  }

  #parse(eventId: string): { streamId: string; seq: number } | undefined {
    const at = eventId.lastIndexOf(SEPARATOR);
    if (at <= 0) return undefined;
    const seq = Number(eventId.slice(at + 1));
    return Number.isSafeInteger(seq) ? { streamId: eventId.slice(0, at), seq } : undefined;
  }
}
