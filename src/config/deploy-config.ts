/**
 * @module deploy-config: which deployers run and how (`MCP_GATEWAY_DEPLOYER` and friends). The `endpoints`
 * runtime is always served; `process` (local child processes, the embedded default) or `kubernetes` (workloads
 * in a cluster) runs the `command` or `image` runtime. The process deployer's sandbox settings are checked
 * here against the paths no child may ever see: the registry's data directory, the state directory, the
 * gateway's working directory and the files its configuration names.
 */
import { z } from 'zod';
import { ConfigError, integerVar, listVar, parseEnv } from './env.js';

/** Which deployer runs alongside the remote one. */
export const DEPLOYER_KINDS = ['process', 'kubernetes'] as const;
export type DeployerKind = (typeof DEPLOYER_KINDS)[number];

/** How children of the process deployer are isolated: bubblewrap when it works (`auto`), always, or never. */
export const PROCESS_SANDBOX_MODES = ['auto', 'bwrap', 'off'] as const;
export type ProcessSandboxMode = (typeof PROCESS_SANDBOX_MODES)[number];

/** A host path no sandboxed child may see, and what it is (for messages). */
export interface ProtectedPath {
  readonly path: string;
  readonly what: string;
}

/** The process sandbox's settings (`MCP_GATEWAY_PROCESS_SANDBOX` and friends). */
export interface ProcessSandboxConfig {
  readonly mode: ProcessSandboxMode;
  /** Absolute host paths every sandboxed child sees read-only at the same place. */
  readonly readPaths: readonly string[];
  /** The uid and gid children run as when the gateway runs as root. */
  readonly uid: number;
  readonly gid: number;
  /** Paths no read path may equal, contain or lie inside. */
  readonly protectedPaths: readonly ProtectedPath[];
  /** The gateway's working directory: no read path may equal or contain it. */
  readonly workingDirectory: string;
}

/** Settings of the process deployer. */
export interface ProcessDeployConfig {
  readonly stdioMaxSessions: number;
  readonly stdioIdleTimeoutMs: number;
  readonly startTimeoutMs: number;
  readonly stopGraceMs: number;
  readonly sandbox: ProcessSandboxConfig;
  /** Where the state file of started children is kept (`MCP_GATEWAY_STATE_DIR`); undefined keeps none. */
  readonly stateDirectory: string | undefined;
}

/** What the deploy settings are checked against. */
export interface DeployConfigContext {
  /** `DATABASE_URL`: a SQLite file's directory is the data directory (and the default state directory). */
  readonly databaseUrl?: string;
  /** Relative paths resolve against it (default `process.cwd()`). */
  readonly workingDirectory?: string;
}

/** Variables naming files that hold secrets; no read path may expose them. */
export const SECRET_FILE_VARIABLES: readonly string[] = Object.freeze([
  'MCP_GATEWAY_JWKS_FILE',
  'MCP_GATEWAY_SECRET_FILE',
]);

/** The state directory when `MCP_GATEWAY_STATE_DIR` is unset and the registry is not a SQLite file. */
export const DEFAULT_STATE_DIRECTORY = './data';

/** The directory of the SQLite file `databaseUrl` names; undefined for Postgres, `:memory:` or a bad URL. */
export function sqliteDirectory(databaseUrl: string, workingDirectory: string): string | undefined {
  const value = databaseUrl.trim();
  if (value === '' || value === ':memory:') return undefined;
  // Postgres (or a scheme the registry refuses anyway) has no directory on this host.
  if (!/^file:/i.test(value) && /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return undefined;
  let path = value;
  if (/^file:/i.test(value)) {
    const rest = value.slice('file:'.length);
    if (rest === ':memory:' || rest.includes('?')) return undefined;
    try {
      path = decodeURIComponent(rest.startsWith('//') ? new URL(value).pathname : rest);
    } catch {
      return undefined;
    }
  }
  return dirname(resolve(workingDirectory, path));
}

// POSIX path handling of its own: this module is also bundled for the edge worker, which has no `node:path`.
const isAbsolute = (path: string) => path.startsWith('/');

/** `path` normalised (`.`, `..` and repeated slashes resolved), without a trailing slash. */
function normalised(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  const joined = parts.join('/');
  return isAbsolute(path) ? `/${joined}` : joined || '.';
}

/** `path` made absolute against `base` (itself absolute), normalised. */
function resolve(base: string, path: string): string {
  return normalised(isAbsolute(path) ? path : `${base}/${path}`);
}

/** The directory part of an absolute, normalised path. */
function dirname(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

/** The process's working directory where there is one (Node), `/` elsewhere (the edge). */
function currentDirectory(): string {
  return typeof process !== 'undefined' && typeof process.cwd === 'function' ? process.cwd() : '/';
}

/** Whether `path` is `dir` or lies inside it (both absolute and normalised). */
function isWithin(path: string, dir: string): boolean {
  return dir === '/' || path === dir || path.startsWith(`${dir}/`);
}

/**
 * Why each read path is refused, as messages naming `MCP_GATEWAY_PROCESS_READ_PATHS`: it must be absolute;
 * it must not equal, contain or lie inside a protected path (the data directory, the state directory, a secret
 * file); and it must not equal or contain the working directory (a path inside it, such as `./node_modules`,
 * is allowed). The deployer repeats the check with symlinks resolved when it starts.
 */
export function readPathProblems(
  readPaths: readonly string[],
  rules: { readonly protectedPaths: readonly ProtectedPath[]; readonly workingDirectory: string },
): string[] {
  const problems: string[] = [];
  const variable = 'MCP_GATEWAY_PROCESS_READ_PATHS';
  const workingDirectory = normalised(rules.workingDirectory);
  for (const raw of readPaths) {
    if (!isAbsolute(raw)) {
      problems.push(`${variable} must list absolute paths (got ${JSON.stringify(raw)})`);
      continue;
    }
    const path = normalised(raw);
    for (const guarded of rules.protectedPaths) {
      const target = normalised(guarded.path);
      if (isWithin(path, target) || isWithin(target, path)) {
        problems.push(`${variable}: ${raw} would let children see ${guarded.what} (${guarded.path})`);
      }
    }
    if (isWithin(workingDirectory, path)) {
      problems.push(
        `${variable}: ${raw} contains the gateway's working directory (${rules.workingDirectory}); list the subdirectories children need instead`,
      );
    }
  }
  return problems;
}

/** Settings of the Kubernetes deployer. */
export interface KubernetesDeployConfig {
  readonly namespace: string | undefined;
  readonly kubeconfig: string | undefined;
  readonly context: string | undefined;
  readonly imageRegistry: string;
  readonly imagePullSecrets: readonly string[];
  readonly serviceAccountName: string | undefined;
  readonly clusterDomain: string;
  readonly gatewayName: string;
}

/** The deploy part of the configuration. */
export type DeployConfig = { readonly reconcileIntervalMs: number } & (
  | { readonly deployer: 'process'; readonly process: ProcessDeployConfig }
  | { readonly deployer: 'kubernetes'; readonly kubernetes: KubernetesDeployConfig }
);

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const DeployEnvSchema = z.object({
  MCP_GATEWAY_DEPLOYER: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(DEPLOYER_KINDS, { error: `must be one of ${DEPLOYER_KINDS.join(', ')}` }))
    .default('process'),
  MCP_GATEWAY_RECONCILE_INTERVAL_MS: integerVar(1000, 3_600_000, 30_000),
  MCP_GATEWAY_STDIO_MAX_SESSIONS: integerVar(1, 10_000, 16),
  MCP_GATEWAY_STDIO_IDLE_TIMEOUT_MS: integerVar(1000, 86_400_000, 900_000),
  MCP_GATEWAY_PROCESS_START_TIMEOUT_MS: integerVar(1000, 600_000, 30_000),
  MCP_GATEWAY_PROCESS_STOP_GRACE_MS: integerVar(0, 120_000, 5000),
  MCP_GATEWAY_PROCESS_SANDBOX: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(PROCESS_SANDBOX_MODES, { error: `must be one of ${PROCESS_SANDBOX_MODES.join(', ')}` }))
    .default('auto'),
  MCP_GATEWAY_PROCESS_READ_PATHS: listVar().default([]),
  // 0 would be root: the point of the variable is that children are not.
  MCP_GATEWAY_PROCESS_UID: integerVar(1, 4_294_967_294, 65534),
  MCP_GATEWAY_PROCESS_GID: integerVar(1, 4_294_967_294, 65534),
  MCP_GATEWAY_STATE_DIR: z.string().trim().min(1).optional(),
  MCP_GATEWAY_K8S_NAMESPACE: z
    .string()
    .trim()
    .regex(DNS_LABEL, 'must be a namespace name (DNS-1123 label)')
    .optional(),
  MCP_GATEWAY_K8S_KUBECONFIG: z.string().trim().optional(),
  MCP_GATEWAY_K8S_CONTEXT: z.string().trim().optional(),
  MCP_GATEWAY_IMAGE_REGISTRY: z
    .string()
    .trim()
    .regex(
      /^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)*$/,
      'must be a registry host with an optional path, e.g. ghcr.io/acme',
    )
    .optional(),
  MCP_GATEWAY_IMAGE_PULL_SECRETS: listVar()
    .refine(
      (names) => names.every((n) => DNS_LABEL.test(n)),
      'must be a comma-separated list of Secret names',
    )
    .default([]),
  MCP_GATEWAY_K8S_SERVICE_ACCOUNT: z
    .string()
    .trim()
    .regex(DNS_LABEL, 'must be a ServiceAccount name')
    .optional(),
  MCP_GATEWAY_K8S_CLUSTER_DOMAIN: z.string().trim().min(1).default('cluster.local'),
  MCP_GATEWAY_K8S_GATEWAY_NAME: z
    .string()
    .trim()
    .regex(DNS_LABEL, 'must be a DNS-1123 label')
    .default('mcp-gateway'),
});

/** Parses the deploy variables; throws {@link ConfigError} naming each problem. */
export function parseDeployConfig(
  env: Record<string, string | undefined>,
  context: DeployConfigContext = {},
): DeployConfig {
  const e = parseEnv(DeployEnvSchema, env);
  if (e.MCP_GATEWAY_DEPLOYER === 'process') {
    const workingDirectory = context.workingDirectory ?? currentDirectory();
    const dataDirectory =
      context.databaseUrl === undefined ? undefined : sqliteDirectory(context.databaseUrl, workingDirectory);
    const stateDirectory = resolve(
      workingDirectory,
      e.MCP_GATEWAY_STATE_DIR ?? dataDirectory ?? DEFAULT_STATE_DIRECTORY,
    );
    const protectedPaths: ProtectedPath[] = [
      ...(dataDirectory ? [{ path: dataDirectory, what: "the registry's data directory" }] : []),
      { path: stateDirectory, what: 'the state directory (MCP_GATEWAY_STATE_DIR)' },
      ...SECRET_FILE_VARIABLES.flatMap((name) => {
        const value = env[name]?.trim();
        return value ? [{ path: resolve(workingDirectory, value), what: `the file ${name} names` }] : [];
      }),
    ];
    const readPaths = e.MCP_GATEWAY_PROCESS_READ_PATHS;
    const problems = readPathProblems(readPaths, { protectedPaths, workingDirectory });
    if (problems.length > 0) throw new ConfigError(problems);
    return {
      deployer: 'process',
      reconcileIntervalMs: e.MCP_GATEWAY_RECONCILE_INTERVAL_MS,
      process: {
        stdioMaxSessions: e.MCP_GATEWAY_STDIO_MAX_SESSIONS,
        stdioIdleTimeoutMs: e.MCP_GATEWAY_STDIO_IDLE_TIMEOUT_MS,
        startTimeoutMs: e.MCP_GATEWAY_PROCESS_START_TIMEOUT_MS,
        stopGraceMs: e.MCP_GATEWAY_PROCESS_STOP_GRACE_MS,
        sandbox: {
          mode: e.MCP_GATEWAY_PROCESS_SANDBOX,
          readPaths: readPaths.map(normalised),
          uid: e.MCP_GATEWAY_PROCESS_UID,
          gid: e.MCP_GATEWAY_PROCESS_GID,
          protectedPaths,
          workingDirectory,
        },
        stateDirectory,
      },
    };
  }
  // The registry is never taken from the user (compat contract §3.1), so the operator must name it.
  if (!e.MCP_GATEWAY_IMAGE_REGISTRY) {
    throw new ConfigError([
      'MCP_GATEWAY_IMAGE_REGISTRY must be set when MCP_GATEWAY_DEPLOYER=kubernetes (e.g. ghcr.io/acme)',
    ]);
  }
  return {
    deployer: 'kubernetes',
    reconcileIntervalMs: e.MCP_GATEWAY_RECONCILE_INTERVAL_MS,
    kubernetes: {
      namespace: e.MCP_GATEWAY_K8S_NAMESPACE,
      kubeconfig: e.MCP_GATEWAY_K8S_KUBECONFIG,
      context: e.MCP_GATEWAY_K8S_CONTEXT,
      imageRegistry: e.MCP_GATEWAY_IMAGE_REGISTRY,
      imagePullSecrets: e.MCP_GATEWAY_IMAGE_PULL_SECRETS,
      serviceAccountName: e.MCP_GATEWAY_K8S_SERVICE_ACCOUNT,
      clusterDomain: e.MCP_GATEWAY_K8S_CLUSTER_DOMAIN,
      gatewayName: e.MCP_GATEWAY_K8S_GATEWAY_NAME,
    },
  };
}
