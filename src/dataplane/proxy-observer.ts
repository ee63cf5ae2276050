/**
 * @module proxy-observer: what the MCP proxy tells observability (metrics, audit log) about each exchange, as a
 * port with a null object, so the proxy's decisions stay free of metric and log code.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../http/index.js';
import type { LegacyClassification, ModernClassification } from './era.js';
import type { ForwardOutcome } from './forwarder.js';

/** Follows one request to a registered adapter the caller may read. Methods must be cheap and never throw. */
export interface ExchangeObserver {
  /** The request passed the era checks and is one of these. */
  classified(classified: LegacyClassification | ModernClassification): void;
  /** The head the client gets from the upstream's answer (status and content type, e.g. an SSE stream). */
  answered(status: number, contentType: string | undefined): void;
  /** One attempt on `replica` ended its head phase: the answer is streaming to the client, or it failed. */
  forwarded(replica: string, outcome: ForwardOutcome): void;
}

/** Creates an {@link ExchangeObserver} per request. */
export interface ProxyObserver {
  exchange(c: Context<AppEnv>, adapter: string): ExchangeObserver;
}

const IGNORED: ExchangeObserver = {
  classified: () => undefined,
  answered: () => undefined,
  forwarded: () => undefined,
};

/** Observes nothing and allocates nothing: the proxy's default. */
export const NO_PROXY_OBSERVER: ProxyObserver = { exchange: () => IGNORED };
