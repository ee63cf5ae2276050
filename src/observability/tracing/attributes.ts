/**
 * @module attributes: the span attribute names the gateway sets, from the OpenTelemetry semantic conventions
 * (HTTP, and MCP — https://opentelemetry.io/docs/specs/semconv/gen-ai/mcp/). Spelled out here rather than
 * imported: the MCP names live in the semconv package's incubating entry, which is large and still moving;
 * `attributes.test.ts` checks every name against that package.
 */

/** HTTP server and client span attributes (stable semconv). */
export const HTTP_ATTR = {
  requestMethod: 'http.request.method',
  /** The method as sent, when `requestMethod` had to be `_OTHER`. */
  requestMethodOriginal: 'http.request.method_original',
  /** The route pattern (`/adapters/:name/mcp`), never the raw path. */
  route: 'http.route',
  responseStatusCode: 'http.response.status_code',
  urlPath: 'url.path',
  userAgent: 'user_agent.original',
  /** Why the operation failed: an exception type, a status code, or `_OTHER`. */
  errorType: 'error.type',
} as const;

/** MCP span attributes (OTel MCP semantic conventions). */
export const MCP_ATTR = {
  /** The JSON-RPC method, e.g. `tools/call`. Required on every MCP span. */
  methodName: 'mcp.method.name',
  sessionId: 'mcp.session.id',
  protocolVersion: 'mcp.protocol.version',
  resourceUri: 'mcp.resource.uri',
  /** The tool of a `tools/call`. */
  toolName: 'gen_ai.tool.name',
  /** The prompt of a `prompts/get`. */
  promptName: 'gen_ai.prompt.name',
  /** `execute_tool` for a `tools/call`. */
  operationName: 'gen_ai.operation.name',
  /** The JSON-RPC `id`, as a string; absent for notifications. */
  jsonRpcRequestId: 'jsonrpc.request.id',
  jsonRpcProtocolVersion: 'jsonrpc.protocol.version',
  /** The JSON-RPC error code of an error answer. */
  rpcResponseStatusCode: 'rpc.response.status_code',
  /** `tcp` for Streamable HTTP, `pipe` for stdio. */
  networkTransport: 'network.transport',
  /** `http` for Streamable HTTP. */
  networkProtocolName: 'network.protocol.name',
  networkProtocolVersion: 'network.protocol.version',
  /** The upstream's host (CLIENT spans). */
  serverAddress: 'server.address',
  /** The upstream's port (CLIENT spans). */
  serverPort: 'server.port',
  errorType: 'error.type',
} as const;

/** The MCP span name: `{mcp.method.name} {target}` where the target (tool or prompt name) is known. */
export function mcpSpanName(method: string, target?: string): string {
  return target ? `${method} ${target}` : method;
}
