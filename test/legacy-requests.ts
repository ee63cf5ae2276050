/**
 * @module legacy-requests: a 2025-era `initialize` (the POST that opens a session) as tests send it by hand, and
 * the headers every Streamable HTTP POST carries, whatever its revision.
 */

/** The headers every Streamable HTTP POST carries (a JSON body; either answer form accepted), plus `extra`. */
export const mcpPostHeaders = (extra: Record<string, string> = {}): Record<string, string> => ({
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  ...extra,
});

/** What may differ between the `initialize` messages tests send; each default is the most common value. */
export interface LegacyInitializeOptions {
  /** Default `2025-11-25`. */
  readonly protocolVersion?: string;
  /** Default `{}`: a client that can answer no server request. */
  readonly capabilities?: Record<string, unknown>;
  /** Default 1. */
  readonly id?: number;
  /** `clientInfo.name`; default `raw`. */
  readonly clientName?: string;
  /** `clientInfo.version`; default `1`. */
  readonly clientVersion?: string;
}

/** The JSON-RPC `initialize` request of a 2025-era client. */
export const legacyInitialize = (options: LegacyInitializeOptions = {}) => ({
  jsonrpc: '2.0',
  id: options.id ?? 1,
  method: 'initialize',
  params: {
    protocolVersion: options.protocolVersion ?? '2025-11-25',
    capabilities: options.capabilities ?? {},
    clientInfo: { name: options.clientName ?? 'raw', version: options.clientVersion ?? '1' },
  },
});

/** {@link legacyInitialize}, serialised as a POST body. */
export const legacyInitializeBody = (options: LegacyInitializeOptions = {}) =>
  JSON.stringify(legacyInitialize(options));
