/**
 * @module manifests: the Kubernetes objects the gateway writes for a registered resource — names, labels, the
 * StatefulSet + Service pair, and the Secret holding the values of its `secretEnvironmentVariables` — rendered as
 * server-side apply configurations. Pure functions of the spec, the resolved secrets and the operator's options,
 * so the same input always renders the same bytes (no spurious rollouts).
 */
import { createHash } from 'node:crypto';
import type { V1EnvVar, V1Secret, V1Service, V1StatefulSet } from '@kubernetes/client-node';
import type { Registered, ResourceKind } from '../../registry/index.js';
import type { ResourceRef } from '../deployer.js';
import { EMPTY_SECRET_ENVIRONMENT } from '../secret-environment.js';
import type { SecretEnvironment } from '../secret-environment.js';
import type { ResolvedKubernetesOptions } from './kubernetes-options.js';

/** Label keys and values the gateway writes. */
export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  partOf: 'app.kubernetes.io/part-of',
  name: 'app.kubernetes.io/name',
  component: 'app.kubernetes.io/component',
  instance: 'app.kubernetes.io/instance',
} as const;

/** Value of `app.kubernetes.io/managed-by` on everything the gateway owns. */
export const MANAGED_BY = 'mcp-gateway';

/** Annotations the gateway writes. */
export const ANNOTATIONS = {
  /** On the StatefulSet and Service: the registry version of the spec they were rendered from. */
  registryVersion: 'mcp-gateway.io/registry-version',
  /**
   * On the pod template (so a pod's status line shows the URL it serves) and on the Service (where the routing
   * reads it, with the EndpointSlices): the HTTP path of the MCP (or tool) endpoint.
   */
  path: 'mcp-gateway.io/path',
  /**
   * On the pod template, when the resource references secrets: a digest of which version of each referenced
   * secret the Secret holds (never of a value). A rotation changes it, which rolls the pods onto the new value.
   */
  secretsRevision: 'mcp-gateway.io/secrets-revision',
} as const;

/** Name of the single container in every pod (logs read it). */
export const CONTAINER_NAME = 'mcp-server';
/** Name of the container port and Service port. */
export const PORT_NAME = 'mcp';

/** Longest StatefulSet name: the controller labels each pod with `{name}-{10-char hash}`, at most 63. */
export const MAX_OBJECT_NAME = 52;

const PREFIX: Record<ResourceKind, string> = { adapter: 'mcp-a-', tool: 'mcp-t-' };

/** Defaults of the reference: MCP servers serve `:8000/mcp`, tool servers `:8000/score`. */
export const DEFAULT_PORT = 8000;
export const DEFAULT_ADAPTER_PATH = '/mcp';
export const DEFAULT_TOOL_PATH = '/score';

/**
 * Name of the StatefulSet and the Service of a resource: `mcp-a-{name}` / `mcp-t-{name}`. The prefix keeps user
 * names away from everything else in the namespace and adapters away from tools. A name that would exceed
 * 52 characters is cut and suffixed with a hash of the full name, so it stays unique and deterministic.
 */
export function objectName(ref: ResourceRef): string {
  const prefix = PREFIX[ref.kind];
  const full = `${prefix}${ref.name}`;
  if (full.length <= MAX_OBJECT_NAME) return full;
  const hash = createHash('sha256').update(ref.name).digest('hex').slice(0, 8);
  const keep = ref.name.slice(0, MAX_OBJECT_NAME - prefix.length - hash.length - 1).replace(/-+$/, '');
  return `${prefix}${keep}-${hash}`;
}

/** Every label on the gateway's objects and pods for `ref`. */
export function labelsOf(ref: ResourceRef, options: ResolvedKubernetesOptions): Record<string, string> {
  return {
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.partOf]: options.gatewayName,
    [LABELS.name]: ref.name,
    [LABELS.component]: ref.kind,
    [LABELS.instance]: objectName(ref),
  };
}

/**
 * The StatefulSet selector, immutable once created: our own labels only (never the workload identity label,
 * which the reference put in its selector), and the instance name, which is unique in the namespace.
 */
export function selectorOf(ref: ResourceRef): Record<string, string> {
  return { [LABELS.managedBy]: MANAGED_BY, [LABELS.instance]: objectName(ref) };
}

/** Label selector of every pod, StatefulSet and Service this gateway installation owns. */
export function ownedSelector(options: ResolvedKubernetesOptions): string {
  return `${LABELS.managedBy}=${MANAGED_BY},${LABELS.partOf}=${options.gatewayName}`;
}

/** The resource an owned object or pod belongs to, from its labels; undefined when it is not ours. */
export function refFromLabels(
  labels: Readonly<Record<string, string>> | undefined,
  options: ResolvedKubernetesOptions,
): ResourceRef | undefined {
  if (labels?.[LABELS.managedBy] !== MANAGED_BY || labels[LABELS.partOf] !== options.gatewayName)
    return undefined;
  const kind = labels[LABELS.component];
  const name = labels[LABELS.name];
  if ((kind !== 'adapter' && kind !== 'tool') || !name) return undefined;
  return { kind, name };
}

/**
 * Why an existing object named like ours is not ours, or undefined when it is. Ours means: managed by the
 * gateway, part of this installation, and labelled with this very resource (a hashed long name can never
 * take over another resource's object).
 */
export function ownershipProblem(
  labels: Readonly<Record<string, string>> | undefined,
  ref: ResourceRef,
  options: ResolvedKubernetesOptions,
): string | undefined {
  const managedBy = labels?.[LABELS.managedBy];
  if (managedBy !== MANAGED_BY)
    return managedBy === undefined
      ? `it has no ${LABELS.managedBy} label`
      : `it is managed by ${JSON.stringify(managedBy)}`;
  const partOf = labels?.[LABELS.partOf];
  if (partOf !== options.gatewayName)
    return `it belongs to another MCP Gateway installation (${LABELS.partOf}: ${JSON.stringify(partOf ?? '')})`;
  const owner = refFromLabels(labels, options);
  if (!owner || owner.kind !== ref.kind || owner.name !== ref.name)
    return `it belongs to ${owner ? `${owner.kind} '${owner.name}'` : 'no registered resource'}`;
  return undefined;
}

/** Port and path the resource's server listens on. */
export function endpointOf(resource: Registered): { port: number; path: string } {
  if (resource.kind === 'tool') {
    const spec = resource.spec as Registered<'tool'>['spec'];
    return {
      port: spec.toolDefinition.port ?? DEFAULT_PORT,
      path: spec.toolDefinition.path ?? DEFAULT_TOOL_PATH,
    };
  }
  const spec = resource.spec as Registered<'adapter'>['spec'];
  return { port: spec.port ?? DEFAULT_PORT, path: spec.path ?? DEFAULT_ADAPTER_PATH };
}

/** `{registry}/{imageName}:{imageVersion}`; throws when the spec names no image. */
export function imageOf(resource: Registered, options: ResolvedKubernetesOptions): string {
  const { imageName, imageVersion } = resource.spec;
  if (!imageName || !imageVersion)
    throw new Error(
      `${resource.kind} '${resource.name}' has no imageName/imageVersion, so the Kubernetes deployer cannot run it`,
    );
  return `${options.imageRegistry}/${imageName}:${imageVersion}`;
}

/** The Service: headless for adapters (per-pod DNS for session affinity), ClusterIP for tools. */
export function renderService(resource: Registered, options: ResolvedKubernetesOptions): V1Service {
  const name = objectName(resource);
  const { port, path } = endpointOf(resource);
  const headless = resource.kind === 'adapter';
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: options.namespace,
      labels: labelsOf(resource, options),
      // The path is what an EndpointSlice cannot say: the gateway reads it here to build each replica's URL.
      annotations: { [ANNOTATIONS.registryVersion]: String(resource.version), [ANNOTATIONS.path]: path },
    },
    spec: {
      // The gateway routes by the EndpointSlices' `serving`/`terminating` conditions, not by DNS, and
      // publishing DNS records before the pod is ready means the name resolves the moment the gateway starts
      // routing to it (no cached NXDOMAIN). It also makes the controller write `ready: true` for every
      // endpoint of this Service, which is why the gateway never reads `ready` alone.
      ...(headless ? { clusterIP: 'None', publishNotReadyAddresses: true } : { type: 'ClusterIP' }),
      selector: selectorOf(resource),
      ports: [{ name: PORT_NAME, port, targetPort: PORT_NAME, protocol: 'TCP' }],
    },
  };
}

/** The gateway's secret names the resource references, each once, sorted: the keys of its Secret. */
function referencedSecretNames(resource: Registered): string[] {
  return [...new Set(Object.values(resource.spec.secretEnvironmentVariables ?? {}))].sort();
}

/**
 * The Secret holding the values of the resource's `secretEnvironmentVariables`, named like its StatefulSet and
 * labelled like everything the gateway owns (so it is listed, checked for ownership and deleted the same way).
 * One key per referenced gateway secret, named after it (a secret name is a DNS label, a valid key); the pods
 * read it through `secretKeyRef`, so no value is ever in the StatefulSet.
 */
export function renderSecret(
  resource: Registered,
  options: ResolvedKubernetesOptions,
  secrets: SecretEnvironment,
): V1Secret {
  const byName = new Map<string, string>();
  for (const [variable, secret] of Object.entries(resource.spec.secretEnvironmentVariables ?? {})) {
    const value = secrets.values[variable];
    if (value === undefined) throw new Error(`secretEnvironmentVariables.${variable} was not resolved`);
    byName.set(secret, value);
  }
  const data = Object.fromEntries(
    referencedSecretNames(resource).map((secret) => [
      secret,
      Buffer.from(byName.get(secret) ?? '', 'utf8').toString('base64'),
    ]),
  );
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: objectName(resource),
      namespace: options.namespace,
      labels: labelsOf(resource, options),
      annotations: { [ANNOTATIONS.registryVersion]: String(resource.version) },
    },
    type: 'Opaque',
    data,
  };
}

/** The container's environment: plain values, and secret ones by reference to the resource's Secret. */
function containerEnvironment(resource: Registered): V1EnvVar[] {
  const secretName = objectName(resource);
  const plain: V1EnvVar[] = Object.entries(resource.spec.environmentVariables ?? {}).map(([name, value]) => ({
    name,
    value,
  }));
  const fromSecret: V1EnvVar[] = Object.entries(resource.spec.secretEnvironmentVariables ?? {}).map(
    ([name, secret]) => ({ name, valueFrom: { secretKeyRef: { name: secretName, key: secret } } }),
  );
  // Sorted so that the same variables always render the same template (no rollout for a reordered map).
  return [...plain, ...fromSecret].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The StatefulSet running `replicaCount` pods of the resource's image. `secrets` are the resolved
 * `secretEnvironmentVariables`: only their revision enters the manifest (as a pod-template annotation).
 */
export function renderStatefulSet(
  resource: Registered,
  options: ResolvedKubernetesOptions,
  secrets: SecretEnvironment = EMPTY_SECRET_ENVIRONMENT,
): V1StatefulSet {
  const name = objectName(resource);
  const labels = labelsOf(resource, options);
  const { port, path } = endpointOf(resource);
  const identity = resource.spec.useWorkloadIdentity;
  if (identity && !options.workloadIdentity)
    throw new Error(
      `${resource.kind} '${resource.name}' asks for workload identity, but the gateway has no workload identity service account configured`,
    );
  const serviceAccountName = identity
    ? options.workloadIdentity?.serviceAccountName
    : options.serviceAccountName;
  const env = containerEnvironment(resource);
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: {
      name,
      namespace: options.namespace,
      labels,
      annotations: { [ANNOTATIONS.registryVersion]: String(resource.version) },
    },
    spec: {
      serviceName: name,
      replicas: resource.spec.replicaCount,
      // MCP replicas are independent: start and stop them all at once, not one by one as for a database.
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: selectorOf(resource) },
      template: {
        metadata: {
          labels: { ...labels, ...(identity ? options.workloadIdentity?.podLabels : {}) },
          annotations: {
            [ANNOTATIONS.path]: path,
            ...(secrets.revision && { [ANNOTATIONS.secretsRevision]: secrets.revision }),
          },
        },
        spec: {
          ...(serviceAccountName !== undefined ? { serviceAccountName } : {}),
          // MCP servers do not call the Kubernetes API; a workload identity webhook needs the token projected.
          automountServiceAccountToken: identity,
          // Service links would inject variables for every Service in the namespace into every server.
          enableServiceLinks: false,
          ...(options.imagePullSecrets.length > 0
            ? { imagePullSecrets: options.imagePullSecrets.map((secret) => ({ name: secret })) }
            : {}),
          securityContext: {
            runAsNonRoot: true,
            runAsUser: options.runAsUser,
            runAsGroup: options.runAsGroup,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: CONTAINER_NAME,
              image: imageOf(resource, options),
              imagePullPolicy: 'IfNotPresent',
              ...(env.length > 0 ? { env } : {}),
              ports: [{ name: PORT_NAME, containerPort: port, protocol: 'TCP' }],
              // A TCP connect is the safe probe for an MCP endpoint: an HTTP GET on it may open an SSE stream or
              // be refused (405) by a stateless server, and a POST cannot be expressed as a probe.
              readinessProbe: {
                tcpSocket: { port: PORT_NAME },
                initialDelaySeconds: options.readinessProbe.initialDelaySeconds,
                periodSeconds: options.readinessProbe.periodSeconds,
                failureThreshold: options.readinessProbe.failureThreshold,
              },
              resources: {
                requests: { ...options.resources.requests },
                limits: { ...options.resources.limits },
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                capabilities: { drop: ['ALL'] },
                runAsNonRoot: true,
                readOnlyRootFilesystem: options.readOnlyRootFilesystem,
              },
            },
          ],
        },
      },
    },
  };
}
