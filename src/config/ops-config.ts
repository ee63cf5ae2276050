/**
 * @module ops-config: operations settings — metrics, audit log, drain on shutdown and rate limits
 * (`MCP_GATEWAY_METRICS`, `MCP_GATEWAY_AUDIT_LOG`, `MCP_GATEWAY_DRAIN_*`, `MCP_GATEWAY_RATE_LIMIT_*`).
 */
import { z } from 'zod';
import { ConfigError, booleanVar, integerVar, parseEnv } from './env.js';

/** One token-bucket limit: a sustained rate and the burst a full bucket allows. */
export interface RateLimit {
  /** Tokens (requests) added per second. */
  readonly perSecond: number;
  /** Bucket size: how many requests may arrive at once after a quiet spell. */
  readonly burst: number;
}

/** The operations part of the configuration. */
export interface OpsConfig {
  /** Serve Prometheus metrics at `/metrics`. */
  readonly metrics: boolean;
  /** Write one `audit: true` log line per control-plane write and per data-plane `tools/call`. */
  readonly auditLog: boolean;
  /** After SIGTERM, how long open streams may run before they are cut. */
  readonly drainMs: number;
  /** After SIGTERM, how long new connections are still accepted (answered with readiness 503); 0 = none. */
  readonly drainAcceptMs: number;
  /** Per caller (principal), across every authenticated request; undefined = unlimited. */
  readonly perPrincipal: RateLimit | undefined;
  /** Per adapter, on `/adapters/{name}/mcp`; undefined = unlimited. */
  readonly perAdapter: RateLimit | undefined;
}

/** A rate in requests per second: a positive decimal, or 0 for "no limit". */
const rateVar = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?$/, 'must be a number of requests per second ≥ 0 (0 = no limit), e.g. 20 or 0.5')
  .transform(Number)
  .pipe(z.number().max(1_000_000, 'must be at most 1000000'))
  .default(0);

/** A bucket size; unset means {@link defaultBurst}. */
const burstVar = z
  .string()
  .trim()
  .regex(/^\d+$/, 'must be an integer from 1 to 1000000')
  .transform(Number)
  .pipe(z.number().int().min(1, 'must be at least 1').max(1_000_000, 'must be at most 1000000'))
  .optional();

const OpsEnvSchema = z.object({
  MCP_GATEWAY_METRICS: booleanVar(true),
  MCP_GATEWAY_AUDIT_LOG: booleanVar(true),
  MCP_GATEWAY_DRAIN_SECONDS: integerVar(0, 3600, 30),
  MCP_GATEWAY_DRAIN_ACCEPT_SECONDS: integerVar(0, 3600, 0),
  MCP_GATEWAY_RATE_LIMIT_PER_PRINCIPAL: rateVar,
  MCP_GATEWAY_RATE_LIMIT_PER_PRINCIPAL_BURST: burstVar,
  MCP_GATEWAY_RATE_LIMIT_PER_ADAPTER: rateVar,
  MCP_GATEWAY_RATE_LIMIT_PER_ADAPTER_BURST: burstVar,
});

/** Twice the per-second rate, at least 1: an MCP client's start (initialize, initialized, list) fits. */
const defaultBurst = (perSecond: number) => Math.max(1, Math.ceil(perSecond * 2));

function limitOf(perSecond: number, burst: number | undefined): RateLimit | undefined {
  return perSecond > 0 ? { perSecond, burst: burst ?? defaultBurst(perSecond) } : undefined;
}

/** Parses the operations variables; throws {@link ConfigError} naming each problem. */
export function parseOpsConfig(env: Record<string, string | undefined>): OpsConfig {
  const e = parseEnv(OpsEnvSchema, env);
  if (e.MCP_GATEWAY_DRAIN_ACCEPT_SECONDS > e.MCP_GATEWAY_DRAIN_SECONDS) {
    throw new ConfigError([
      `MCP_GATEWAY_DRAIN_ACCEPT_SECONDS must not exceed MCP_GATEWAY_DRAIN_SECONDS (${e.MCP_GATEWAY_DRAIN_SECONDS})`,
    ]);
  }
  return {
    metrics: e.MCP_GATEWAY_METRICS,
    auditLog: e.MCP_GATEWAY_AUDIT_LOG,
    drainMs: e.MCP_GATEWAY_DRAIN_SECONDS * 1000,
    drainAcceptMs: e.MCP_GATEWAY_DRAIN_ACCEPT_SECONDS * 1000,
    perPrincipal: limitOf(
      e.MCP_GATEWAY_RATE_LIMIT_PER_PRINCIPAL,
      e.MCP_GATEWAY_RATE_LIMIT_PER_PRINCIPAL_BURST,
    ),
    perAdapter: limitOf(e.MCP_GATEWAY_RATE_LIMIT_PER_ADAPTER, e.MCP_GATEWAY_RATE_LIMIT_PER_ADAPTER_BURST),
  };
}
