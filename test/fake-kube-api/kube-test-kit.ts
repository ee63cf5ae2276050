/**
 * @module kube-test-kit: a KubernetesDeployer wired to a fresh fake API server, registered `image` resources,
 * a poll helper, and the RBAC bookkeeping the Role test compares (verb/resource pairs seen vs granted).
 */
import { readFile } from 'node:fs/promises';
import { loadAllYaml } from '@kubernetes/client-node';
import { KubernetesDeployer } from '../../src/deploy/kubernetes/index.js';
import type { KubernetesDeployerOptions } from '../../src/deploy/kubernetes/index.js';
import type { SecretSource } from '../../src/deploy/index.js';
import type { AdapterSpec, Registered, ToolSpec } from '../../src/registry/index.js';
import { eventually } from '../polling.js';
import { startFakeKubeApi } from './fake-kube-api.js';
import type { AuditRecord, FakeKubeApi, FakeKubeApiOptions } from './fake-kube-api.js';

/** The namespace tests run workloads in. */
export const TEST_NAMESPACE = 'mcp-servers';
/** The registry the test deployer is configured with. */
export const TEST_REGISTRY = 'registry.example.com/mcp';

/** A deployer and the fake cluster behind it. */
export interface KubeTestKit {
  readonly api: FakeKubeApi;
  readonly deployer: KubernetesDeployer;
  readonly namespace: string;
  /** Closes the deployer, then the server. */
  close(): Promise<void>;
}

/** Options of {@link startKubeTestKit}. */
export interface KubeTestKitOptions {
  readonly api?: FakeKubeApiOptions;
  readonly deployer?: Partial<KubernetesDeployerOptions>;
}

/** Starts a fake API server and a deployer pointed at it (watch retries shortened for tests). */
export async function startKubeTestKit(options: KubeTestKitOptions = {}): Promise<KubeTestKit> {
  const api = await startFakeKubeApi(options.api);
  const deployer = new KubernetesDeployer({
    namespace: TEST_NAMESPACE,
    imageRegistry: TEST_REGISTRY,
    kubeconfig: { kind: 'server', server: api.url, token: api.token },
    ...options.deployer,
    watch: { minBackoffMs: 10, maxBackoffMs: 100, ...options.deployer?.watch },
  });
  return {
    api,
    deployer,
    namespace: deployer.settings.namespace,
    async close() {
      try {
        await deployer.close();
      } finally {
        await api.close();
      }
    },
  };
}

/** Spec fields a test may set on an `image` resource. */
export type ImageSpecOverrides = Partial<AdapterSpec> & { toolDefinition?: ToolSpec['toolDefinition'] };

/** A registered `image` adapter or tool, as the registry would hand it to the deployer. */
export function imageResource(
  kind: 'adapter' | 'tool',
  name: string,
  overrides: ImageSpecOverrides = {},
  version = 1,
): Registered {
  const common = {
    imageName: 'team/server',
    imageVersion: '1.0.0',
    environmentVariables: {},
    replicaCount: 1,
    description: '',
    useWorkloadIdentity: false,
    requiredRoles: [],
  };
  const spec =
    kind === 'tool'
      ? {
          ...common,
          toolDefinition: { tool: { name, inputSchema: { type: 'object' as const } } },
          ...overrides,
        }
      : { ...common, ...overrides };
  return {
    kind,
    name,
    uid: `uid-${name}`,
    version,
    createdBy: 'test',
    createdAt: new Date(0),
    lastUpdatedAt: new Date(0),
    spec,
  } as Registered;
}

/**
 * A secret source holding `values` (secret name → value); each secret's revision is `values-{n}`, where `n` counts
 * the calls of `rotate` on the returned source.
 */
export function fixedSecrets(values: Record<string, string>): SecretSource & {
  rotate(name: string, value: string): void;
  delete(name: string): void;
} {
  const held = new Map(Object.entries(values));
  const versions = new Map<string, number>();
  return {
    read: async (name) => {
      const value = held.get(name);
      return value === undefined ? undefined : { value, revision: `${name}-${versions.get(name) ?? 0}` };
    },
    rotate(name, value) {
      held.set(name, value);
      versions.set(name, (versions.get(name) ?? 0) + 1);
    },
    delete(name) {
      held.delete(name);
    },
  };
}

/** Polls until `probe` holds; fails with `what` after `timeoutMs` (the fake API answers fast: 5 s is ample). */
export const waitFor = (probe: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000) =>
  eventually(probe, what, timeoutMs, 10);

/** `group/resource:verb` keys, the unit RBAC grants. */
export function rbacPairs(records: readonly Pick<AuditRecord, 'group' | 'resource' | 'verb'>[]): Set<string> {
  return new Set(records.map((r) => `${r.group || 'core'}/${r.resource}:${r.verb}`));
}

interface RoleRule {
  readonly apiGroups?: string[];
  readonly resources?: string[];
  readonly verbs?: string[];
}

/** The shipped Role and RoleBinding of the deployer. */
export const RBAC_MANIFEST = new URL('../../k8s/base/rbac.yaml', import.meta.url);

/** The documents of a YAML manifest file. */
export async function readManifests(path: string | URL): Promise<Record<string, unknown>[]> {
  return loadAllYaml(await readFile(path, 'utf8')) as Record<string, unknown>[];
}

/** The pairs a Role grants (wildcards are refused: the Role must name exactly what it grants). */
export function grantedPairs(role: Record<string, unknown>): Set<string> {
  const pairs = new Set<string>();
  for (const rule of (role['rules'] ?? []) as RoleRule[]) {
    for (const group of rule.apiGroups ?? [])
      for (const resource of rule.resources ?? [])
        for (const verb of rule.verbs ?? []) {
          if ([group, resource, verb].includes('*')) throw new Error('the Role must not use wildcards');
          pairs.add(`${group || 'core'}/${resource}:${verb}`);
        }
  }
  return pairs;
}

/**
 * The `group/resource:verb` pairs among `records` that the shipped Role does not grant (empty when it grants all
 * of them). Throws when nothing was recorded, or the manifest holds no Role: a check of no request passes
 * whatever the Role says, so it must not pass at all.
 */
export async function ungrantedRequests(records: readonly AuditRecord[]): Promise<string[]> {
  if (records.length === 0) {
    throw new Error(
      'no Kubernetes API request was recorded, so the shipped Role was checked against nothing',
    );
  }
  const role = (await readManifests(RBAC_MANIFEST)).find((d) => d['kind'] === 'Role');
  if (!role) throw new Error(`${RBAC_MANIFEST.pathname} holds no Role`);
  const granted = grantedPairs(role);
  return [...rbacPairs(records)].filter((pair) => !granted.has(pair));
}
