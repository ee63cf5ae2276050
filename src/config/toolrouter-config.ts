/**
 * @module toolrouter-config: the tool router at `/mcp` (`MCP_GATEWAY_TOOLROUTER` and friends) — federated tool
 * names, paging, timeouts of tool calls and of federated listings, how often failed adapters are retried, and
 * whether tools are listed or found by search (`MCP_GATEWAY_TOOL_DISCOVERY`), and the file of the tool policy
 * (`MCP_GATEWAY_TOOL_POLICY_FILE`; read and compiled at start by the runtime, which does the file I/O), and
 * what a changed federated tool definition does (`MCP_GATEWAY_TOOL_PINNING`).
 */
import { z } from 'zod';
// The SDK-free parts of the router, not its index: the edge build parses configuration without the router.
import {
  TOOL_DISCOVERY_MODES,
  TOOL_PINNING_MODES,
  TOOL_ROUTER_DEFAULTS,
  separatorProblem,
} from './toolrouter-settings.js';
import type { ToolRouterSettings } from './toolrouter-settings.js';
import { booleanVar, integerVar, parseEnv } from './env.js';

/** The tool-router part of the configuration. */
export interface ToolRouterConfig {
  /** Serve `/mcp` (default true). */
  readonly enabled: boolean;
  readonly settings: ToolRouterSettings;
  /** The tool policy's file (YAML or JSON), when one is set: one policy for `tools/list` and `tools/call`. */
  readonly policyFile: string | undefined;
}

const d = TOOL_ROUTER_DEFAULTS;

const ToolRouterEnvSchema = z.object({
  MCP_GATEWAY_TOOLROUTER: booleanVar(true),
  MCP_GATEWAY_TOOLROUTER_SEPARATOR: z
    .string()
    .trim()
    .superRefine((value, ctx) => {
      const problem = separatorProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .default(d.separator),
  MCP_GATEWAY_TOOLROUTER_MAX_NAME_LENGTH: integerVar(16, 128, d.maxNameLength),
  MCP_GATEWAY_TOOLROUTER_PAGE_SIZE: integerVar(1, 1000, d.pageSize),
  MCP_GATEWAY_TOOLROUTER_CALL_TIMEOUT_MS: integerVar(100, 3_600_000, d.callTimeoutMs),
  MCP_GATEWAY_TOOLROUTER_LIST_TIMEOUT_MS: integerVar(100, 120_000, d.listTimeoutMs),
  MCP_GATEWAY_TOOLROUTER_RETRY_MS: integerVar(1000, 3_600_000, d.retryMs),
  MCP_GATEWAY_TOOLROUTER_REFRESH_MS: integerVar(1000, 86_400_000, d.refreshMs),
  MCP_GATEWAY_TOOLROUTER_MAX_RESULT_BYTES: integerVar(1024, 256 * 1024 * 1024, d.maxResultBytes),
  MCP_GATEWAY_TOOLROUTER_STREAM_MAX_AGE_MS: integerVar(10_000, 86_400_000, d.streamMaxAgeMs),
  MCP_GATEWAY_TOOL_DISCOVERY: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(TOOL_DISCOVERY_MODES, { error: `must be one of ${TOOL_DISCOVERY_MODES.join(', ')}` }))
    .default(d.discovery),
  MCP_GATEWAY_TOOL_POLICY_FILE: z.string().trim().min(1, 'must name a file').optional(),
  MCP_GATEWAY_TOOL_PINNING: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(TOOL_PINNING_MODES, { error: `must be one of ${TOOL_PINNING_MODES.join(', ')}` }))
    .default(d.pinning),
});

/** What the tool router shares with the rest of the gateway's configuration. */
export interface ToolRouterConfigContext {
  readonly connectTimeoutMs: number;
  readonly maxBodyBytes: number;
}

/** Parses the tool-router variables; throws {@link ConfigError} naming each problem. */
export function parseToolRouterConfig(
  env: Record<string, string | undefined>,
  context: ToolRouterConfigContext,
): ToolRouterConfig {
  const e = parseEnv(ToolRouterEnvSchema, env);
  return {
    enabled: e.MCP_GATEWAY_TOOLROUTER,
    policyFile: e.MCP_GATEWAY_TOOL_POLICY_FILE,
    settings: {
      ...d,
      discovery: e.MCP_GATEWAY_TOOL_DISCOVERY,
      pinning: e.MCP_GATEWAY_TOOL_PINNING,
      separator: e.MCP_GATEWAY_TOOLROUTER_SEPARATOR,
      maxNameLength: e.MCP_GATEWAY_TOOLROUTER_MAX_NAME_LENGTH,
      pageSize: e.MCP_GATEWAY_TOOLROUTER_PAGE_SIZE,
      callTimeoutMs: e.MCP_GATEWAY_TOOLROUTER_CALL_TIMEOUT_MS,
      listTimeoutMs: e.MCP_GATEWAY_TOOLROUTER_LIST_TIMEOUT_MS,
      retryMs: e.MCP_GATEWAY_TOOLROUTER_RETRY_MS,
      refreshMs: e.MCP_GATEWAY_TOOLROUTER_REFRESH_MS,
      maxResultBytes: e.MCP_GATEWAY_TOOLROUTER_MAX_RESULT_BYTES,
      streamMaxAgeMs: e.MCP_GATEWAY_TOOLROUTER_STREAM_MAX_AGE_MS,
      connectTimeoutMs: context.connectTimeoutMs,
      maxBodyBytes: context.maxBodyBytes,
    },
  };
}
