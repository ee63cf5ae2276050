/** The attribute names match the OpenTelemetry semantic conventions package. */
import * as stable from '@opentelemetry/semantic-conventions';
import * as incubating from '@opentelemetry/semantic-conventions/incubating';
import { describe, expect, it } from 'vitest';
import { HTTP_ATTR, MCP_ATTR, mcpSpanName } from './attributes.js';

describe('attribute names', () => {
  it('are the semconv names', () => {
    expect(HTTP_ATTR).toEqual({
      requestMethod: stable.ATTR_HTTP_REQUEST_METHOD,
      requestMethodOriginal: stable.ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
      route: stable.ATTR_HTTP_ROUTE,
      responseStatusCode: stable.ATTR_HTTP_RESPONSE_STATUS_CODE,
      urlPath: stable.ATTR_URL_PATH,
      userAgent: stable.ATTR_USER_AGENT_ORIGINAL,
      errorType: stable.ATTR_ERROR_TYPE,
    });
    expect(MCP_ATTR).toEqual({
      methodName: incubating.ATTR_MCP_METHOD_NAME,
      sessionId: incubating.ATTR_MCP_SESSION_ID,
      protocolVersion: incubating.ATTR_MCP_PROTOCOL_VERSION,
      resourceUri: incubating.ATTR_MCP_RESOURCE_URI,
      toolName: incubating.ATTR_GEN_AI_TOOL_NAME,
      promptName: incubating.ATTR_GEN_AI_PROMPT_NAME,
      operationName: incubating.ATTR_GEN_AI_OPERATION_NAME,
      jsonRpcRequestId: incubating.ATTR_JSONRPC_REQUEST_ID,
      jsonRpcProtocolVersion: incubating.ATTR_JSONRPC_PROTOCOL_VERSION,
      rpcResponseStatusCode: incubating.ATTR_RPC_RESPONSE_STATUS_CODE,
      networkTransport: stable.ATTR_NETWORK_TRANSPORT,
      networkProtocolName: stable.ATTR_NETWORK_PROTOCOL_NAME,
      networkProtocolVersion: stable.ATTR_NETWORK_PROTOCOL_VERSION,
      serverAddress: stable.ATTR_SERVER_ADDRESS,
      serverPort: stable.ATTR_SERVER_PORT,
      errorType: stable.ATTR_ERROR_TYPE,
    });
  });

  it('name MCP spans `{method} {target}`', () => {
    expect(mcpSpanName('tools/call', 'get_weather')).toBe('tools/call get_weather');
    expect(mcpSpanName('tools/list')).toBe('tools/list');
  });
});
