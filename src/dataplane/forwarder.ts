/**
 * @module Forwarder: the port that moves bytes. The proxy decides (replica, headers, body) and hands a
 * {@link ForwardRequest} to a forwarder: the Node-native one where Node bindings exist, the Fetch one elsewhere.
 */

/** Everything a forwarder needs to send one request upstream. */
export interface ForwardRequest {
  /** The replica's URL, as registered (it may have a query of its own). */
  readonly url: string;
  /** The client's query, without `?`, to append to `url` (`upstream-query.ts`); '' for none. */
  readonly query: string;
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** Final outbound headers, lower-case names (hop-by-hop and caller credentials already removed). */
  readonly headers: Record<string, string>;
  /** The request body, already read and size-checked; undefined for GET/DELETE. */
  readonly body: Uint8Array | undefined;
  /** Longest wait for the TCP connection. */
  readonly connectTimeoutMs: number;
  /** Longest silence (no response bytes) before the upstream is given up, before and after the headers. */
  readonly idleTimeoutMs: number;
}

/** What the upstream answered, before anything reaches the client. */
export interface UpstreamHead {
  readonly status: number;
  /** Response header value by lower-case name, or undefined. */
  header(name: string): string | undefined;
}

/** The status and headers the client gets; computed by the proxy (session sealing, header allow-list). */
export interface ClientHead {
  readonly status: number;
  readonly headers: Record<string, string>;
}

/** Maps the upstream head to the client head; may be async (sealing a session id uses WebCrypto). */
export type HeadRewriter = (head: UpstreamHead) => ClientHead | Promise<ClientHead>;

/** Why a forward failed before any byte reached the client. */
export type ForwardFailure =
  /** Nothing listens there (ECONNREFUSED): safe to try another replica, the request never arrived. */
  | 'refused'
  /** The connection did not open in time: safe to try another replica. */
  | 'connect-timeout'
  /** Connected, but the upstream sent no response head in time: the request may have been processed. */
  | 'timeout'
  /** Anything else (reset, DNS failure, bad response): the request may have been processed. */
  | 'error'
  /** The client went away before the request was sent: nobody is left to answer, nothing to retry. */
  | 'abandoned';

/** Result of a forward. */
export type ForwardOutcome =
  | { readonly ok: true; readonly response: Response; readonly status: number }
  | { readonly ok: false; readonly failure: ForwardFailure; readonly message: string };

/** Called once when the exchange is over (response body ended, failed, or the client went away). */
export type DoneCallback = () => void;

/** Sends one request upstream and, on success, streams the answer to the client. */
export interface Forwarder {
  forward(request: ForwardRequest, rewrite: HeadRewriter, done: DoneCallback): Promise<ForwardOutcome>;
}

/** True when a failure happened before the request could reach the upstream, so another replica may take it. */
export function isRetryable(failure: ForwardFailure): boolean {
  return failure === 'refused' || failure === 'connect-timeout';
}
