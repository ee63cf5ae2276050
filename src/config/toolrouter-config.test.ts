/** Tests of the tool-router configuration. */
import { describe, expect, it } from 'vitest';
import { TOOL_ROUTER_DEFAULTS } from '../toolrouter/index.js';
import { ConfigError } from './env.js';
import { parseToolRouterConfig } from './toolrouter-config.js';

const CONTEXT = { connectTimeoutMs: 5000, maxBodyBytes: 4 * 1024 * 1024 };

function problemsOf(env: Record<string, string>): string {
  try {
    parseToolRouterConfig(env, CONTEXT);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('parseToolRouterConfig', () => {
  it('is on with the defaults, sharing the gateway’s connect timeout and body limit', () => {
    expect(parseToolRouterConfig({}, { connectTimeoutMs: 1234, maxBodyBytes: 2048 })).toEqual({
      enabled: true,
      settings: { ...TOOL_ROUTER_DEFAULTS, connectTimeoutMs: 1234, maxBodyBytes: 2048 },
    });
    expect(TOOL_ROUTER_DEFAULTS.pinning).toBe('warn');
  });

  it('reads every variable', () => {
    const config = parseToolRouterConfig(
      {
        MCP_GATEWAY_TOOLROUTER: 'false',
        MCP_GATEWAY_TOOLROUTER_SEPARATOR: '.',
        MCP_GATEWAY_TOOLROUTER_MAX_NAME_LENGTH: '128',
        MCP_GATEWAY_TOOLROUTER_PAGE_SIZE: '500',
        MCP_GATEWAY_TOOLROUTER_CALL_TIMEOUT_MS: '120000',
        MCP_GATEWAY_TOOLROUTER_LIST_TIMEOUT_MS: '2000',
        MCP_GATEWAY_TOOLROUTER_RETRY_MS: '5000',
        MCP_GATEWAY_TOOLROUTER_REFRESH_MS: '60000',
        MCP_GATEWAY_TOOLROUTER_MAX_RESULT_BYTES: '1048576',
        MCP_GATEWAY_TOOLROUTER_STREAM_MAX_AGE_MS: '30000',
        MCP_GATEWAY_TOOL_DISCOVERY: 'search',
        MCP_GATEWAY_TOOL_POLICY_FILE: ' /etc/mcp-gateway/policy.yaml ',
        MCP_GATEWAY_TOOL_PINNING: ' Enforce ',
      },
      CONTEXT,
    );
    expect(config).toEqual({
      enabled: false,
      policyFile: '/etc/mcp-gateway/policy.yaml',
      settings: {
        ...TOOL_ROUTER_DEFAULTS,
        ...CONTEXT,
        separator: '.',
        maxNameLength: 128,
        pageSize: 500,
        callTimeoutMs: 120_000,
        listTimeoutMs: 2000,
        retryMs: 5000,
        refreshMs: 60_000,
        maxResultBytes: 1_048_576,
        streamMaxAgeMs: 30_000,
        discovery: 'search',
        pinning: 'enforce',
      },
    });
  });

  it('names each bad variable', () => {
    const message = problemsOf({
      MCP_GATEWAY_TOOLROUTER_SEPARATOR: '--',
      MCP_GATEWAY_TOOLROUTER_MAX_NAME_LENGTH: '200',
      MCP_GATEWAY_TOOLROUTER_PAGE_SIZE: '0',
      MCP_GATEWAY_TOOLROUTER: 'maybe',
      MCP_GATEWAY_TOOL_DISCOVERY: 'semantic',
      MCP_GATEWAY_TOOL_PINNING: 'strict',
    });
    expect(message).toContain('MCP_GATEWAY_TOOLROUTER_SEPARATOR must contain "_" or "."');
    expect(message).toContain('MCP_GATEWAY_TOOLROUTER_MAX_NAME_LENGTH must be at most 128');
    expect(message).toContain('MCP_GATEWAY_TOOLROUTER_PAGE_SIZE must be at least 1');
    expect(message).toContain('MCP_GATEWAY_TOOLROUTER must be true or false');
    expect(message).toContain('MCP_GATEWAY_TOOL_DISCOVERY must be one of list, search (got "semantic")');
    expect(message).toContain('MCP_GATEWAY_TOOL_PINNING must be one of off, warn, enforce (got "strict")');
  });
});
