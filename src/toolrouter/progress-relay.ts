/**
 * @module progress-relay: what a relayed call hands back to its own client — the upstream's progress notifications
 * under the client's progress token, in order and all before the result (a client drops progress that arrives
 * after the response it belongs to), and the result without the upstream's envelope keys.
 */
import type { ServerContext } from '@modelcontextprotocol/server';

/** A progress update as the SDK reports it. */
export interface ProgressUpdate {
  readonly progress: number;
  readonly total?: number;
  readonly message?: string;
}

/** What a handler wires into an upstream call. */
export interface ProgressRelay {
  /** Present when the client sent a progress token; give it to the upstream call. */
  readonly onProgress?: (progress: ProgressUpdate) => void;
  /** Resolves once every relayed notification has been handed to the transport; await it before returning. */
  flush(): Promise<void>;
}

/** A relay for the request `ctx` is handling. */
export function progressRelay(ctx: ServerContext): ProgressRelay {
  const token = ctx.mcpReq._meta?.progressToken;
  if (token === undefined) return { flush: async () => undefined };
  let chain: Promise<void> = Promise.resolve();
  return {
    onProgress(progress) {
      chain = chain.then(() =>
        ctx.mcpReq
          .notify({ method: 'notifications/progress', params: { ...progress, progressToken: token } })
          .catch(() => undefined),
      );
    },
    flush: () => chain,
  };
}

/** The `_meta` prefix of protocol envelope keys (a peer's server info, …): they describe that hop, not this one. */
const ENVELOPE_PREFIX = 'io.modelcontextprotocol/';

/** `result` without another server's envelope keys in `_meta`, so it can be re-served as this server's own. */
export function withoutEnvelope<T extends { _meta?: Record<string, unknown> }>(result: T): T {
  const meta = result._meta;
  if (!meta || !Object.keys(meta).some((key) => key.startsWith(ENVELOPE_PREFIX))) return result;
  const kept = Object.fromEntries(Object.entries(meta).filter(([key]) => !key.startsWith(ENVELOPE_PREFIX)));
  const { _meta: _dropped, ...rest } = result;
  return (Object.keys(kept).length > 0 ? { ...rest, _meta: kept } : rest) as T;
}
