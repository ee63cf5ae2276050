/** @module config: the one typed Config, parsed from environment variables; fails fast naming the variable. */
import { z } from 'zod';
import { LOG_LEVELS } from '../core/index.js';
import type { LogLevel } from '../core/index.js';
import { parseAuthConfig } from './auth-config.js';
import { parseDeployConfig } from './deploy-config.js';
import type { DeployConfig } from './deploy-config.js';
import { ConfigError, booleanVar, integerVar, listVar, parseEnv } from './env.js';
import { parseOpsConfig } from './ops-config.js';
import type { OpsConfig } from './ops-config.js';
import { parseToolRouterConfig } from './toolrouter-config.js';
import { parseTracingConfig } from './tracing-config.js';
import type { TracingConfig } from './tracing-config.js';
import type { ToolRouterConfig } from './toolrouter-config.js';
import type { AuthConfig } from './auth-config.js';

export { ConfigError } from './env.js';

/** Everything the Node entry needs to start the gateway. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly logLevel: LogLevel;
  /** `postgres://…`, a `file:` URL, `:memory:` or a SQLite file path. */
  readonly databaseUrl: string;
  /** Key material for sealing session ids (`MCP_GATEWAY_SECRET`); when absent, {@link secretFile} holds it. */
  readonly secret: string | undefined;
  /**
   * `MCP_GATEWAY_SECRET_FILE`: the file holding the secret; when absent too, a SQLite registry keeps it in
   * `secret` beside the database (created on first start). Never both this and {@link secret}.
   */
  readonly secretFile: string | undefined;
  /**
   * `MCP_GATEWAY_PREVIOUS_SECRETS` (comma-separated): earlier gateway secrets during a rotation. Values sealed
   * under them still open (stored secrets, grants, sealed settings, session ids); new writes use {@link secret}.
   */
  readonly previousSecrets?: readonly string[];
  /** `MCP_GATEWAY_PREVIOUS_SECRETS_FILE`: a file holding them, one a line. Never both this and the variable. */
  readonly previousSecretsFile?: string;
  /** The URL clients reach the gateway at, without a trailing slash. */
  readonly publicUrl: string;
  /** Largest accepted control-plane request body. */
  readonly bodyLimitBytes: number;
  /** How long a reachability probe of a remote endpoint may take. */
  readonly probeTimeoutMs: number;
  /** How often remote endpoints are health-checked. */
  readonly healthIntervalMs: number;
  /** Reachability probes of remote endpoints in flight at most. */
  readonly probeConcurrency: number;
  /** Browser origins allowed on MCP endpoints besides the public URL's (`*` for any). */
  readonly allowedOrigins: readonly string[];
  /** Longest wait for a connection to an upstream replica. */
  readonly upstreamConnectTimeoutMs: number;
  /** Longest upstream silence, before the response head and within a stream. */
  readonly upstreamIdleTimeoutMs: number;
  /** Largest MCP request body. */
  readonly mcpBodyLimitBytes: number;
  /** Bounded-load overshoot ε for placement. */
  readonly loadEpsilon: number;
  /** Age after which a sealed session id is refused. */
  readonly sessionMaxAgeMs: number;
  /** How long registry reads are reused on the per-request path. */
  readonly registryCacheMs: number;
  /** Allow endpoints on link-local and cloud metadata addresses (refused by default: SSRF). */
  readonly allowLinkLocal: boolean;
  /** Authentication: mode, issuer, audiences, roles claim … (`MCP_GATEWAY_AUTH` and friends). */
  readonly auth: AuthConfig;
  /** Deployers: process (default) or kubernetes, and their settings (`MCP_GATEWAY_DEPLOYER` and friends). */
  readonly deploy: DeployConfig;
  /** Metrics, audit log, drain and rate limits (`MCP_GATEWAY_METRICS`, `…_DRAIN_SECONDS`, `…_RATE_LIMIT_*`). */
  readonly ops: OpsConfig;
  /** The tool router at `/mcp` (`MCP_GATEWAY_TOOLROUTER` and friends). */
  readonly toolRouter: ToolRouterConfig;
  /** OpenTelemetry spans, on when an exporter is configured (the standard `OTEL_*` variables). */
  readonly tracing: TracingConfig;
  /**
   * `MCP_GATEWAY_CONFIG`: a `gateway.yaml` applied at every start before the gateway listens (the file wins for
   * what it lists; what an earlier start created from it and it no longer lists is removed). None by default.
   */
  readonly configFile: string | undefined;
  /**
   * The web console's OAuth client id at the authorization server (`MCP_GATEWAY_UI_CLIENT_ID`): a public client
   * whose redirect URI is `{publicUrl}/ui/callback`. With `oidc`/`jwt` auth the console signs in with it.
   */
  readonly uiClientId?: string;
}

/** Default SQLite location, relative to the working directory. */
export const DEFAULT_DATABASE_URL = './data/mcp-gateway.db';

const httpUrl = z
  .string()
  .trim()
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password;
    } catch {
      return false;
    }
  }, 'must be an absolute http(s) URL without credentials');

const EnvSchema = z.object({
  PORT: integerVar(0, 65535, 3000),
  MCP_GATEWAY_HOST: z.string().trim().min(1, 'must not be empty').default('127.0.0.1'),
  MCP_GATEWAY_LOG_LEVEL: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }))
    .default('info'),
  DATABASE_URL: z.string().trim().min(1, 'must not be empty').default(DEFAULT_DATABASE_URL),
  MCP_GATEWAY_SECRET: z
    .string()
    .min(32, 'must be at least 32 characters (e.g. `openssl rand -base64 32`)')
    .optional(),
  MCP_GATEWAY_SECRET_FILE: z.string().trim().min(1, 'must not be empty').optional(),
  MCP_GATEWAY_PREVIOUS_SECRETS: z
    .string()
    .optional()
    .transform((text) =>
      (text ?? '')
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0),
    ),
  MCP_GATEWAY_PREVIOUS_SECRETS_FILE: z.string().trim().min(1, 'must not be empty').optional(),
  MCP_GATEWAY_PUBLIC_URL: httpUrl.optional(),
  MCP_GATEWAY_BODY_LIMIT_BYTES: integerVar(1024, 64 * 1024 * 1024, 1024 * 1024),
  MCP_GATEWAY_PROBE_TIMEOUT_MS: integerVar(100, 60_000, 2000),
  MCP_GATEWAY_HEALTH_INTERVAL_MS: integerVar(500, 3_600_000, 10_000),
  MCP_GATEWAY_PROBE_CONCURRENCY: integerVar(1, 1024, 64),
  MCP_GATEWAY_ALLOWED_ORIGINS: listVar()
    .refine(
      (origins) => origins.every((o) => o === '*' || isOrigin(o)),
      'must be a comma-separated list of origins such as https://app.example.com, or *',
    )
    .default([]),
  MCP_GATEWAY_UPSTREAM_CONNECT_TIMEOUT_MS: integerVar(100, 120_000, 5000),
  MCP_GATEWAY_UPSTREAM_IDLE_TIMEOUT_MS: integerVar(1000, 86_400_000, 300_000),
  MCP_GATEWAY_MCP_BODY_LIMIT_BYTES: integerVar(1024, 256 * 1024 * 1024, 4 * 1024 * 1024),
  MCP_GATEWAY_LOAD_EPSILON: z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, 'must be a number ≥ 0, e.g. 0.25')
    .transform(Number)
    .default(0.25),
  MCP_GATEWAY_SESSION_MAX_AGE_SECONDS: integerVar(60, 30 * 86_400, 86_400),
  MCP_GATEWAY_REGISTRY_CACHE_MS: integerVar(0, 60_000, 1000),
  MCP_GATEWAY_ALLOW_LINK_LOCAL: booleanVar(false),
  MCP_GATEWAY_CONFIG: z.string().trim().min(1, 'must not be empty').optional(),
  MCP_GATEWAY_UI_CLIENT_ID: z.string().trim().min(1, 'must not be empty').optional(),
});

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value.replace(/\/$/, '');
  } catch {
    return false;
  }
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * The secret comes from one place: the variable or the file. On Postgres it must be given: several replicas share
 * it, and the database it protects is not the place to keep it (SQLite keeps a generated one in a file).
 */
function secretSourceProblems(
  secret: string | undefined,
  secretFile: string | undefined,
  databaseUrl: string,
): string[] {
  if (secret !== undefined && secretFile !== undefined) {
    return ['MCP_GATEWAY_SECRET and MCP_GATEWAY_SECRET_FILE are both set; set only one of them'];
  }
  if (secret === undefined && secretFile === undefined && /^postgres(ql)?:\/\//i.test(databaseUrl.trim())) {
    return [
      'MCP_GATEWAY_SECRET must be set (or MCP_GATEWAY_SECRET_FILE) when DATABASE_URL is Postgres: every replica ' +
        'must share the secret, and the database is not the place to keep it (e.g. `openssl rand -base64 32`)',
    ];
  }
  return [];
}

/** Parses the environment; throws {@link ConfigError} listing every bad variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  // Never echo the secret or a database URL (it may carry a password), not even a bad one.
  const e = parseEnv(
    EnvSchema,
    env,
    new Set(['MCP_GATEWAY_SECRET', 'MCP_GATEWAY_PREVIOUS_SECRETS', 'DATABASE_URL']),
  );
  const secretProblems = secretSourceProblems(
    e.MCP_GATEWAY_SECRET,
    e.MCP_GATEWAY_SECRET_FILE,
    e.DATABASE_URL,
  );
  if (e.MCP_GATEWAY_PREVIOUS_SECRETS.length > 0 && e.MCP_GATEWAY_PREVIOUS_SECRETS_FILE !== undefined) {
    secretProblems.push(
      'MCP_GATEWAY_PREVIOUS_SECRETS and MCP_GATEWAY_PREVIOUS_SECRETS_FILE are both set; set only one of them',
    );
  }
  if (secretProblems.length > 0) throw new ConfigError(secretProblems);
  const publicUrl = (
    e.MCP_GATEWAY_PUBLIC_URL ?? `http://${hostForUrl(e.MCP_GATEWAY_HOST)}:${e.PORT}`
  ).replace(/\/+$/, '');
  return {
    port: e.PORT,
    host: e.MCP_GATEWAY_HOST,
    logLevel: e.MCP_GATEWAY_LOG_LEVEL,
    databaseUrl: e.DATABASE_URL,
    secret: e.MCP_GATEWAY_SECRET,
    secretFile: e.MCP_GATEWAY_SECRET_FILE,
    previousSecrets: e.MCP_GATEWAY_PREVIOUS_SECRETS,
    ...(e.MCP_GATEWAY_PREVIOUS_SECRETS_FILE !== undefined && {
      previousSecretsFile: e.MCP_GATEWAY_PREVIOUS_SECRETS_FILE,
    }),
    publicUrl,
    bodyLimitBytes: e.MCP_GATEWAY_BODY_LIMIT_BYTES,
    probeTimeoutMs: e.MCP_GATEWAY_PROBE_TIMEOUT_MS,
    healthIntervalMs: e.MCP_GATEWAY_HEALTH_INTERVAL_MS,
    probeConcurrency: e.MCP_GATEWAY_PROBE_CONCURRENCY,
    allowedOrigins: e.MCP_GATEWAY_ALLOWED_ORIGINS,
    upstreamConnectTimeoutMs: e.MCP_GATEWAY_UPSTREAM_CONNECT_TIMEOUT_MS,
    upstreamIdleTimeoutMs: e.MCP_GATEWAY_UPSTREAM_IDLE_TIMEOUT_MS,
    mcpBodyLimitBytes: e.MCP_GATEWAY_MCP_BODY_LIMIT_BYTES,
    loadEpsilon: e.MCP_GATEWAY_LOAD_EPSILON,
    sessionMaxAgeMs: e.MCP_GATEWAY_SESSION_MAX_AGE_SECONDS * 1000,
    registryCacheMs: e.MCP_GATEWAY_REGISTRY_CACHE_MS,
    allowLinkLocal: e.MCP_GATEWAY_ALLOW_LINK_LOCAL,
    uiClientId: e.MCP_GATEWAY_UI_CLIENT_ID,
    auth: parseAuthConfig(env, { host: e.MCP_GATEWAY_HOST, publicUrl }),
    deploy: parseDeployConfig(env, { databaseUrl: e.DATABASE_URL }),
    ops: parseOpsConfig(env, { host: e.MCP_GATEWAY_HOST, port: e.PORT }),
    tracing: parseTracingConfig(env),
    toolRouter: parseToolRouterConfig(env, {
      connectTimeoutMs: e.MCP_GATEWAY_UPSTREAM_CONNECT_TIMEOUT_MS,
      maxBodyBytes: e.MCP_GATEWAY_MCP_BODY_LIMIT_BYTES,
    }),
    configFile: e.MCP_GATEWAY_CONFIG,
  };
}
