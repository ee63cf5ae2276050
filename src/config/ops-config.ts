/**
 * @module ops-config: operations settings — metrics and where they are served, audit log, drain on shutdown
 * and rate limits, with the Redis that shares them across instances (`MCP_GATEWAY_METRICS*`,
 * `MCP_GATEWAY_AUDIT_LOG`, `MCP_GATEWAY_DRAIN_*`, `MCP_GATEWAY_RATE_LIMIT_*`, `MCP_GATEWAY_REDIS_*`).
 */
import { z } from 'zod';
import { isLoopbackHost } from './auth-config.js';
import { ConfigError, booleanVar, integerVar, parseEnv } from './env.js';

/** One token-bucket limit: a sustained rate and the burst a full bucket allows. */
export interface RateLimit {
  /** Tokens (requests) added per second. */
  readonly perSecond: number;
  /** Bucket size: how many requests may arrive at once after a quiet spell. */
  readonly burst: number;
}

/**
 * Where `/metrics` is served and to whom. The page names every adapter, so without a token it is served only
 * where nobody else reaches it: on a loopback bind, or on a listener of its own kept off the public network.
 */
export interface MetricsServing {
  /** The bearer token `/metrics` needs wherever it is served (`MCP_GATEWAY_METRICS_TOKEN`); undefined: none. */
  readonly token: string | undefined;
  /** A listener serving only `/metrics` and `/healthz` (`MCP_GATEWAY_METRICS_PORT`, `…_HOST`); undefined: none. */
  readonly listener: { readonly port: number; readonly host: string } | undefined;
  /** Served on the main port: there is no listener of its own, and a token is set or the bind is loopback. */
  readonly onMainPort: boolean;
}

/** What {@link parseOpsConfig} needs from the main configuration. */
export interface OpsConfigContext {
  /** The main listener's address (`MCP_GATEWAY_HOST`); also the metrics listener's by default. */
  readonly host: string;
  /** The main listener's port (`PORT`). */
  readonly port: number;
}

/** The operations part of the configuration. */
export interface OpsConfig {
  /** Record Prometheus metrics and serve them as {@link metricsServing} says. */
  readonly metrics: boolean;
  readonly metricsServing: MetricsServing;
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
  /** Per caller and tool of a `tools/call` (and adapter, on the data plane); undefined = unlimited. */
  readonly perTool: RateLimit | undefined;
  /** Where the limits are kept for every instance (`redis://` or `rediss://`); undefined: per instance. */
  readonly redisUrl: string | undefined;
  /** Longest a limit check waits for Redis before it is answered from this instance's buckets. */
  readonly redisTimeoutMs: number;
  /** What every key the limits write in Redis starts with (several gateways may share one Redis). */
  readonly redisKeyPrefix: string;
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

/** A URL ioredis connects to: `redis://` or `rediss://` (TLS), with a host. */
function isRedisUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** Shortest metrics token: as long as the gateway secret, so it cannot be guessed by trying. */
export const MIN_METRICS_TOKEN_LENGTH = 32;

const OpsEnvSchema = z.object({
  MCP_GATEWAY_METRICS: booleanVar(true),
  MCP_GATEWAY_METRICS_TOKEN: z
    .string()
    .trim()
    .min(
      MIN_METRICS_TOKEN_LENGTH,
      `must be at least ${MIN_METRICS_TOKEN_LENGTH} characters (e.g. \`openssl rand -hex 32\`)`,
    )
    .max(1024, 'must be at most 1024 characters')
    .regex(/^[\x21-\x7e]+$/, 'must be visible ASCII without spaces (it is sent as a bearer token)')
    .optional(),
  MCP_GATEWAY_METRICS_PORT: z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be an integer from 0 to 65535')
    .transform(Number)
    .pipe(z.number().int().max(65535, 'must be at most 65535'))
    .optional(),
  MCP_GATEWAY_METRICS_HOST: z.string().trim().min(1, 'must not be empty').optional(),
  MCP_GATEWAY_AUDIT_LOG: booleanVar(true),
  MCP_GATEWAY_DRAIN_SECONDS: integerVar(0, 3600, 30),
  MCP_GATEWAY_DRAIN_ACCEPT_SECONDS: integerVar(0, 3600, 0),
  MCP_GATEWAY_RATE_LIMIT_PER_PRINCIPAL: rateVar,
  MCP_GATEWAY_RATE_LIMIT_PER_PRINCIPAL_BURST: burstVar,
  MCP_GATEWAY_RATE_LIMIT_PER_ADAPTER: rateVar,
  MCP_GATEWAY_RATE_LIMIT_PER_ADAPTER_BURST: burstVar,
  MCP_GATEWAY_RATE_LIMIT_PER_TOOL: rateVar,
  MCP_GATEWAY_RATE_LIMIT_PER_TOOL_BURST: burstVar,
  MCP_GATEWAY_REDIS_URL: z
    .string()
    .trim()
    .refine(isRedisUrl, 'must be a redis:// or rediss:// URL with a host, e.g. redis://127.0.0.1:6379')
    .optional(),
  MCP_GATEWAY_REDIS_TIMEOUT_MS: integerVar(1, 10_000, 50),
  MCP_GATEWAY_REDIS_KEY_PREFIX: z
    .string()
    .trim()
    .regex(/^[\x21-\x7e]{1,64}$/, 'must be 1 to 64 visible ASCII characters, e.g. mcp-gateway:rl:')
    .default('mcp-gateway:rl:'),
});

/** Twice the per-second rate, at least 1: an MCP client's start (initialize, initialized, list) fits. */
const defaultBurst = (perSecond: number) => Math.max(1, Math.ceil(perSecond * 2));

function limitOf(perSecond: number, burst: number | undefined): RateLimit | undefined {
  return perSecond > 0 ? { perSecond, burst: burst ?? defaultBurst(perSecond) } : undefined;
}

/** Never echoed in messages, even a bad value. */
const UNECHOED = new Set(['MCP_GATEWAY_METRICS_TOKEN', 'MCP_GATEWAY_REDIS_URL']);

/** Parses the operations variables; throws {@link ConfigError} naming each problem. */
export function parseOpsConfig(
  env: Record<string, string | undefined>,
  context: OpsConfigContext,
): OpsConfig {
  const e = parseEnv(OpsEnvSchema, env, UNECHOED);
  const problems: string[] = [];
  if (e.MCP_GATEWAY_DRAIN_ACCEPT_SECONDS > e.MCP_GATEWAY_DRAIN_SECONDS) {
    problems.push(
      `MCP_GATEWAY_DRAIN_ACCEPT_SECONDS must not exceed MCP_GATEWAY_DRAIN_SECONDS (${e.MCP_GATEWAY_DRAIN_SECONDS})`,
    );
  }
  const metricsPort = e.MCP_GATEWAY_METRICS_PORT;
  if (!e.MCP_GATEWAY_METRICS) {
    for (const key of ['MCP_GATEWAY_METRICS_TOKEN', 'MCP_GATEWAY_METRICS_PORT'] as const) {
      if (e[key] !== undefined) problems.push(`${key} applies only when MCP_GATEWAY_METRICS is on`);
    }
  }
  if (e.MCP_GATEWAY_METRICS_HOST !== undefined && metricsPort === undefined) {
    problems.push('MCP_GATEWAY_METRICS_HOST applies only with MCP_GATEWAY_METRICS_PORT');
  }
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === context.port) {
    problems.push(`MCP_GATEWAY_METRICS_PORT must differ from PORT (${context.port})`);
  }
  for (const key of ['MCP_GATEWAY_REDIS_TIMEOUT_MS', 'MCP_GATEWAY_REDIS_KEY_PREFIX'] as const) {
    if (env[key] !== undefined && e.MCP_GATEWAY_REDIS_URL === undefined) {
      problems.push(`${key} applies only with MCP_GATEWAY_REDIS_URL`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const listener =
    metricsPort === undefined
      ? undefined
      : { port: metricsPort, host: e.MCP_GATEWAY_METRICS_HOST ?? context.host };
  const token = e.MCP_GATEWAY_METRICS_TOKEN;
  return {
    metrics: e.MCP_GATEWAY_METRICS,
    metricsServing: {
      token,
      listener,
      onMainPort:
        e.MCP_GATEWAY_METRICS &&
        listener === undefined &&
        (token !== undefined || isLoopbackHost(context.host)),
    },
    auditLog: e.MCP_GATEWAY_AUDIT_LOG,
    drainMs: e.MCP_GATEWAY_DRAIN_SECONDS * 1000,
    drainAcceptMs: e.MCP_GATEWAY_DRAIN_ACCEPT_SECONDS * 1000,
    perPrincipal: limitOf(
      e.MCP_GATEWAY_RATE_LIMIT_PER_PRINCIPAL,
      e.MCP_GATEWAY_RATE_LIMIT_PER_PRINCIPAL_BURST,
    ),
    perAdapter: limitOf(e.MCP_GATEWAY_RATE_LIMIT_PER_ADAPTER, e.MCP_GATEWAY_RATE_LIMIT_PER_ADAPTER_BURST),
    perTool: limitOf(e.MCP_GATEWAY_RATE_LIMIT_PER_TOOL, e.MCP_GATEWAY_RATE_LIMIT_PER_TOOL_BURST),
    redisUrl: e.MCP_GATEWAY_REDIS_URL,
    redisTimeoutMs: e.MCP_GATEWAY_REDIS_TIMEOUT_MS,
    redisKeyPrefix: e.MCP_GATEWAY_REDIS_KEY_PREFIX,
  };
}
