/**
 * @module kubernetes-options: what an operator configures for the Kubernetes deployer, and the defaults.
 * Everything that reaches a pod spec comes from here or from the registered spec's image name, tag,
 * environment, port, path and replica count; users never choose a registry, a service account or resources.
 */
import type { SecretSource } from '../secret-environment.js';
import type { Logger } from '../../observability/index.js';
import type { Timers } from '../timers.js';

/** Where the deployer finds the cluster and its credentials. */
export type KubeConfigSource =
  /** `KUBECONFIG` / `~/.kube/config`, else in-cluster: what `kubectl` would use. */
  | { readonly kind: 'default' }
  /** The pod's service account (token, CA and namespace mounted under /var/run/secrets). */
  | { readonly kind: 'in-cluster' }
  /** A kubeconfig file, optionally with a context other than its current one. */
  | { readonly kind: 'file'; readonly path: string; readonly context?: string }
  /** An API server URL and a bearer token (tests, or an operator without a kubeconfig file). */
  | {
      readonly kind: 'server';
      readonly server: string;
      readonly token?: string;
      /** PEM CA bundle, base64 as in a kubeconfig's `certificate-authority-data`. */
      readonly caData?: string;
      readonly skipTlsVerify?: boolean;
    };

/** Compute resources of each MCP server container, as Kubernetes quantities (`250m`, `512Mi`). */
export interface ContainerResources {
  readonly requests?: Readonly<Record<string, string>>;
  readonly limits?: Readonly<Record<string, string>>;
}

/** Workload identity for resources registered with `useWorkloadIdentity: true`. */
export interface WorkloadIdentityOptions {
  /** The service account federated with the cloud identity (the reference used `workload-sa`). */
  readonly serviceAccountName: string;
  /** Pod labels the cloud's webhook looks for; default `azure.workload.identity/use: "true"`. */
  readonly podLabels?: Readonly<Record<string, string>>;
}

/** Tuning of the EndpointSlice and Service watches; the defaults suit a real cluster, tests shorten them. */
export interface WatchTuning {
  /** Asks the API server to end each watch after this long, so connections are renewed (default 300). */
  readonly timeoutSeconds?: number;
  /** First retry delay after a failed list or watch (default 500 ms); doubles up to `maxBackoffMs`. */
  readonly minBackoffMs?: number;
  /** Longest retry delay (default 30 000 ms). */
  readonly maxBackoffMs?: number;
}

/** Options of {@link KubernetesDeployer}. */
export interface KubernetesDeployerOptions {
  /** Namespace of every object the deployer writes; default: the kubeconfig context's namespace, else `default`. */
  readonly namespace?: string;
  /** How to reach the cluster (default `{ kind: 'default' }`). */
  readonly kubeconfig?: KubeConfigSource;
  /**
   * Registry (and optional path) every image is pulled from, e.g. `registry.example.com/mcp`. Required: an image
   * is always `{imageRegistry}/{imageName}:{imageVersion}`, so a user can never pick another registry.
   */
  readonly imageRegistry: string;
  /** Names of Secrets of type `kubernetes.io/dockerconfigjson` in the namespace. */
  readonly imagePullSecrets?: readonly string[];
  /** Default requests cpu 250m / memory 256Mi, limits cpu 1 / memory 512Mi (each map replaces its default). */
  readonly resources?: ContainerResources;
  /** Service account of MCP server pods; default: the namespace's `default`. Its token is not mounted. */
  readonly serviceAccountName?: string;
  /** Required before a resource with `useWorkloadIdentity: true` can run. */
  readonly workloadIdentity?: WorkloadIdentityOptions;
  /** Cluster DNS domain of per-pod names (default `cluster.local`). */
  readonly clusterDomain?: string;
  /**
   * Name of this gateway installation, written as `app.kubernetes.io/part-of`; objects with another value are
   * not this gateway's (two installations sharing a namespace never touch each other's). Default `mcp-gateway`.
   * Changing it orphans what the old name created.
   */
  readonly gatewayName?: string;
  /** Numeric user and group the containers run as (default 1100/1100, as the reference). */
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
  /** Mount the container's root filesystem read-only (default false: many MCP servers write caches). */
  readonly readOnlyRootFilesystem?: boolean;
  /** Readiness probe timing (TCP connect to the MCP port). */
  readonly readinessProbe?: {
    readonly initialDelaySeconds?: number;
    readonly periodSeconds?: number;
    readonly failureThreshold?: number;
  };
  readonly watch?: WatchTuning;
  /**
   * Where the values of `secretEnvironmentVariables` are read when a resource is applied (default: no secrets, so
   * a resource that references one fails to apply, naming it).
   */
  readonly secrets?: SecretSource;
  readonly logger?: Logger;
  readonly clock?: () => Date;
  readonly timers?: Timers;
}

/** The field manager of every server-side apply, so the API server knows which fields the gateway owns. */
export const FIELD_MANAGER = 'mcp-gateway';

/** Resources of the reference deployment. */
export const DEFAULT_RESOURCES: Required<ContainerResources> = {
  requests: { cpu: '250m', memory: '256Mi' },
  limits: { cpu: '1', memory: '512Mi' },
};

/** Labels Azure's workload identity webhook looks for. */
export const DEFAULT_WORKLOAD_IDENTITY_LABELS: Readonly<Record<string, string>> = {
  'azure.workload.identity/use': 'true',
};

/** Options with every default filled in, as the renderer and the deployer read them. */
export interface ResolvedKubernetesOptions {
  readonly namespace: string;
  readonly imageRegistry: string;
  readonly imagePullSecrets: readonly string[];
  readonly resources: Required<ContainerResources>;
  readonly serviceAccountName?: string;
  readonly workloadIdentity?: Required<WorkloadIdentityOptions>;
  readonly clusterDomain: string;
  readonly gatewayName: string;
  readonly runAsUser: number;
  readonly runAsGroup: number;
  readonly readOnlyRootFilesystem: boolean;
  readonly readinessProbe: { initialDelaySeconds: number; periodSeconds: number; failureThreshold: number };
}

const REGISTRY = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;
const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Fills defaults and refuses options a cluster would refuse later, with a message naming the option. */
export function resolveKubernetesOptions(
  options: KubernetesDeployerOptions,
  contextNamespace: string | undefined,
): ResolvedKubernetesOptions {
  const namespace = options.namespace ?? contextNamespace ?? 'default';
  if (!DNS_1123_LABEL.test(namespace) || namespace.length > 63)
    throw new Error(`Kubernetes deployer: namespace ${JSON.stringify(namespace)} is not a DNS-1123 label`);
  const imageRegistry = options.imageRegistry.replace(/\/+$/, '');
  if (!REGISTRY.test(imageRegistry))
    throw new Error(
      `Kubernetes deployer: image registry ${JSON.stringify(options.imageRegistry)} must be a registry host with an optional path, e.g. "registry.example.com/mcp"`,
    );
  for (const secret of options.imagePullSecrets ?? []) {
    if (!DNS_1123_SUBDOMAIN.test(secret))
      throw new Error(
        `Kubernetes deployer: image pull secret ${JSON.stringify(secret)} is not a valid Secret name`,
      );
  }
  const gatewayName = options.gatewayName ?? 'mcp-gateway';
  if (!LABEL_VALUE.test(gatewayName) || gatewayName.length === 0 || gatewayName.length > 63)
    throw new Error(
      `Kubernetes deployer: gateway name ${JSON.stringify(gatewayName)} is not a valid label value`,
    );
  for (const account of [options.serviceAccountName, options.workloadIdentity?.serviceAccountName]) {
    if (account !== undefined && !DNS_1123_SUBDOMAIN.test(account))
      throw new Error(`Kubernetes deployer: service account ${JSON.stringify(account)} is not a valid name`);
  }
  return {
    namespace,
    imageRegistry,
    imagePullSecrets: options.imagePullSecrets ?? [],
    resources: {
      requests: options.resources?.requests ?? DEFAULT_RESOURCES.requests,
      limits: options.resources?.limits ?? DEFAULT_RESOURCES.limits,
    },
    ...(options.serviceAccountName !== undefined ? { serviceAccountName: options.serviceAccountName } : {}),
    ...(options.workloadIdentity
      ? {
          workloadIdentity: {
            serviceAccountName: options.workloadIdentity.serviceAccountName,
            podLabels: options.workloadIdentity.podLabels ?? DEFAULT_WORKLOAD_IDENTITY_LABELS,
          },
        }
      : {}),
    clusterDomain: (options.clusterDomain ?? 'cluster.local').replace(/^\.+|\.+$/g, ''),
    gatewayName,
    runAsUser: options.runAsUser ?? 1100,
    runAsGroup: options.runAsGroup ?? 1100,
    readOnlyRootFilesystem: options.readOnlyRootFilesystem ?? false,
    readinessProbe: {
      initialDelaySeconds: options.readinessProbe?.initialDelaySeconds ?? 1,
      periodSeconds: options.readinessProbe?.periodSeconds ?? 5,
      failureThreshold: options.readinessProbe?.failureThreshold ?? 3,
    },
  };
}
