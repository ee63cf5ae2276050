/**
 * @module proxy-observer: what the MCP proxy tells observability (metrics, audit log, tracing) about each
 * exchange, as a port with a null object, so the proxy's decisions stay free of metric and log code.
 */
import type { LegacyClassification, ModernClassification } from './era-classification.js';
import type { ForwardOutcome } from './forwarder.js';
import type { TraceContextHeaders } from '../observability/index.js';

/** Follows one request to `/adapters/{name}/mcp`. Methods must be cheap and never throw. */
export interface ExchangeObserver {
  /** The request names a registered adapter the caller may read. */
  adapter(name: string): void;
  /**
   * The request passed the era checks and is one of these; `trace` is the W3C trace context its `params._meta`
   * names (SEP-414), when it names one.
   */
  classified(classified: LegacyClassification | ModernClassification, trace?: TraceContextHeaders): void;
  /** The head the client gets from the upstream's answer (status and content type, e.g. an SSE stream). */
  answered(status: number, contentType: string | undefined): void;
  /** An attempt on `replica` starts; returns headers to send upstream with it (trace context), often none. */
  attempt(replica: { readonly id: string; readonly url: string }): Readonly<Record<string, string>>;
  /** One attempt on `replica` ended its head phase: the answer is streaming to the client, or it failed. */
  forwarded(replica: string, outcome: ForwardOutcome): void;
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** Observes nothing and allocates nothing. */
export const IGNORED_EXCHANGE: ExchangeObserver = Object.freeze({
  adapter: () => undefined,
  classified: () => undefined,
  answered: () => undefined,
  attempt: () => NO_HEADERS,
  forwarded: () => undefined,
});

declare module '../core/index.js' {
  interface AppVariables {
    /** Follows an `/adapters/{name}/mcp` request for metrics, audit and tracing, when those are on. */
    exchange?: ExchangeObserver;
  }
}
