/**
 * @module raw-listen: a 2026-07-28 `subscriptions/listen` request sent by hand and its SSE stream read frame by
 * frame, so a test sees every message (the acknowledgement, each notification's subscription id, the graceful
 * close) in order.
 */

export const MODERN = '2026-07-28';
export const SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';
export const ACK = 'notifications/subscriptions/acknowledged';

export type ListenMessage = Record<string, unknown> & {
  method?: string;
  id?: unknown;
  params?: Record<string, unknown> & { _meta?: Record<string, unknown> };
  result?: Record<string, unknown> & { _meta?: Record<string, unknown> };
};

/** A raw listen stream: every JSON-RPC message it carried, in order, and a way to wait for the next ones. */
export interface RawListen {
  readonly response: Response;
  readonly messages: ListenMessage[];
  /** Resolves when the stream has carried `count` messages with `method` (or results, for `'result'`). */
  until(method: string, count: number): Promise<void>;
  /** Resolves when the stream ended. */
  readonly ended: Promise<void>;
  abort(): void;
}

/** The JSON-RPC listen request with `params` as given, beside the request `_meta` a 2026-07-28 client sends. */
export function listenBody(id: string, params: Record<string, unknown>) {
  return {
    jsonrpc: '2.0',
    id,
    method: 'subscriptions/listen',
    params: {
      _meta: {
        'io.modelcontextprotocol/protocolVersion': MODERN,
        'io.modelcontextprotocol/clientInfo': { name: 'raw-listener', version: '1.0.0' },
        'io.modelcontextprotocol/clientCapabilities': {},
      },
      ...params,
    },
  };
}

/**
 * Sends the listen request with `params` as given (beside the request `_meta`), so a test may also send a malformed
 * one; `response` is the answer as sent, a stream or a JSON-RPC error.
 */
export function listenRequest(
  url: string,
  headers: Record<string, string>,
  id: string,
  params: Record<string, unknown>,
): { response: Promise<Response>; abort: AbortController } {
  const abort = new AbortController();
  const response = fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN,
      'mcp-method': 'subscriptions/listen',
      ...headers,
    },
    body: JSON.stringify(listenBody(id, params)),
    signal: abort.signal,
  });
  return { response, abort };
}

/** Opens a listen stream on `url` with `headers` (the caller's identity) and the filter `notifications`. */
export async function rawListen(
  url: string,
  headers: Record<string, string>,
  id: string,
  notifications: Record<string, unknown>,
): Promise<RawListen> {
  const { response: pending, abort } = listenRequest(url, headers, id, { notifications });
  const response = await pending;
  if (response.headers.get('content-type') !== 'text/event-stream')
    throw new Error(`not a stream: ${response.status} ${await response.text()}`);
  const messages: ListenMessage[] = [];
  const waiters = new Set<() => void>();
  const count = (method: string) =>
    messages.filter((m) => (method === 'result' ? 'result' in m : m.method === method)).length;
  let done = false;
  const ended = (async () => {
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { done: over, value } = await reader.read();
        if (over) break;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = frame
            .split('\n')
            .filter((line) => line.startsWith('data: '))
            .map((line) => line.slice(6))
            .join('\n');
          if (data) messages.push(JSON.parse(data) as ListenMessage);
          for (const wake of [...waiters]) wake();
        }
      }
    } catch {
      // Aborted by the test.
    }
    done = true;
    for (const wake of [...waiters]) wake();
  })();
  return {
    response,
    messages,
    ended,
    abort: () => abort.abort(),
    until: (method, n) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (count(method) >= n) {
            waiters.delete(check);
            resolve();
          } else if (done) {
            waiters.delete(check);
            reject(new Error(`stream ended with ${count(method)} × ${method}, wanted ${n}`));
          }
        };
        waiters.add(check);
        check();
      }),
  };
}
