/**
 * @module tool-calls: the `tools/call` requests in a parsed JSON-RPC body (one message, or a 2025-03-26 batch), for
 * the per-(caller, tool) rate limit. A batch cannot slip calls past the limit: each call in it takes a token.
 */

/** One `tools/call` request's `params` as far as the limit reads them. */
export interface ToolCallParams {
  readonly name: string;
  readonly arguments: unknown;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function toolCallOf(message: unknown): ToolCallParams | undefined {
  if (!isRecord(message) || message.method !== 'tools/call' || !('id' in message)) return undefined;
  const params = message.params;
  if (!isRecord(params) || typeof params.name !== 'string') return undefined;
  return { name: params.name, arguments: params.arguments };
}

/** The `tools/call` requests in `parsed`, in order; none for anything else (a bad body is refused elsewhere). */
export function toolCallsOf(parsed: unknown): readonly ToolCallParams[] {
  if (Array.isArray(parsed)) {
    const calls: ToolCallParams[] = [];
    for (const message of parsed) {
      const call = toolCallOf(message);
      if (call) calls.push(call);
    }
    return calls;
  }
  const call = toolCallOf(parsed);
  return call ? [call] : [];
}
