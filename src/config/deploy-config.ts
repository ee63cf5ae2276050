/**
 * @module deploy-config: which deployers run and how (`MCP_GATEWAY_DEPLOYER` and friends). The `endpoints`
 * runtime is always served; `process` (local child processes, the embedded default) or `kubernetes` (workloads
 * in a cluster) runs the `command` or `image` runtime.
 */
import { z } from 'zod';
import { ConfigError, integerVar, listVar, parseEnv } from './env.js';

/** Which deployer runs alongside the remote one. */
export const DEPLOYER_KINDS = ['process', 'kubernetes'] as const;
export type DeployerKind = (typeof DEPLOYER_KINDS)[number];

/** Settings of the process deployer. */
export interface ProcessDeployConfig {
  readonly stdioMaxSessions: number;
  readonly stdioIdleTimeoutMs: number;
  readonly startTimeoutMs: number;
  readonly stopGraceMs: number;
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
export function parseDeployConfig(env: Record<string, string | undefined>): DeployConfig {
  const e = parseEnv(DeployEnvSchema, env);
  if (e.MCP_GATEWAY_DEPLOYER === 'process') {
    return {
      deployer: 'process',
      reconcileIntervalMs: e.MCP_GATEWAY_RECONCILE_INTERVAL_MS,
      process: {
        stdioMaxSessions: e.MCP_GATEWAY_STDIO_MAX_SESSIONS,
        stdioIdleTimeoutMs: e.MCP_GATEWAY_STDIO_IDLE_TIMEOUT_MS,
        startTimeoutMs: e.MCP_GATEWAY_PROCESS_START_TIMEOUT_MS,
        stopGraceMs: e.MCP_GATEWAY_PROCESS_STOP_GRACE_MS,
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
