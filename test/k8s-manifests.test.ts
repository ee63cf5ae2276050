/**
 * @module k8s/ renders into objects that hold together. Each overlay is rendered by the kustomize subset in
 * kustomize.ts (and compared with `kubectl kustomize` where kubectl is installed); every object validates
 * against the Kubernetes schemas (kubernetes-models) and has no field the API would refuse as unknown; and the
 * objects agree with each other and with the rest of the repository: selectors with pod labels, probes with
 * the app's real health routes, env references with the ConfigMap and the example Secret, the pod's user and
 * port with the Dockerfile, the container environment with the configuration parser, and the NetworkPolicy
 * with the labels and port name the Kubernetes deployer really renders.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as kube from '@kubernetes/client-node';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/index.js';
import type { Config } from '../src/config/index.js';
import { KubernetesDeployer, LABELS, MANAGED_BY, renderStatefulSet } from '../src/deploy/kubernetes/index.js';
import { instructions, parseDockerfile, stageEnv } from './dockerfile.js';
import { imageResource } from './fake-kube-api/index.js';
import { kustomizeBuild, readYamlDocuments } from './kustomize.js';
import type { KubeObject } from './kustomize.js';
import { createTestApp } from './test-app.js';
import { checkAgainstSchema, parseGatewayFile } from '../src/cli/gateway-file.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const K8S = join(ROOT, 'k8s');
const NAMESPACE = 'mcp-gateway';
const OVERLAYS = ['embedded', 'cluster', 'config-file'] as const;

type Labels = Readonly<Record<string, string>>;
interface LabelSelector {
  matchLabels?: Labels;
  matchExpressions?: unknown[];
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    configMapKeyRef?: { name: string; key: string };
    secretKeyRef?: { name: string; key: string; optional?: boolean };
  };
}
interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  volumeMounts?: { name: string; mountPath: string }[];
  securityContext?: Record<string, unknown>;
  lifecycle?: { preStop?: { exec?: { command?: string[] } } };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  enableServiceLinks?: boolean;
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; runAsGroup?: number; fsGroup?: number };
  containers: Container[];
  volumes?: { name: string; emptyDir?: object; persistentVolumeClaim?: { claimName: string } }[];
  topologySpreadConstraints?: { topologyKey: string; labelSelector?: LabelSelector }[];
}
interface DeploymentObject extends KubeObject {
  spec: {
    replicas?: number;
    strategy?: { type?: string; rollingUpdate?: { maxUnavailable?: number | string } };
    selector: LabelSelector;
    template: { metadata: { labels: Labels; annotations?: Labels }; spec: PodSpec };
  };
}

/** kubernetes-models class of each kind the manifests may contain; any other kind fails the test. */
const MODELS: Readonly<Record<string, new (data: never) => { validate(): void }>> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
};

/**
 * Paths of fields the API server does not know. kubernetes-models ignores unknown fields, but `kubectl apply`
 * refuses them (strict field validation), so a misspelt field must fail here; the field lists come from the
 * typed models of @kubernetes/client-node.
 */
function unknownFields(value: unknown, type: string, path: string): string[] {
  if (value === null || value === undefined) return [];
  const list = /^Array<(.+)>$/.exec(type);
  if (list) {
    if (!Array.isArray(value)) return [`${path} (expected a list)`];
    return value.flatMap((item, i) => unknownFields(item, list[1] as string, `${path}[${i}]`));
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    return Object.entries(value as object).flatMap(([k, v]) =>
      unknownFields(v, map[1] as string, `${path}.${k}`),
    );
  }
  if (['string', 'number', 'boolean', 'Date', 'IntOrString', 'any'].includes(type)) return [];
  const model = (
    kube as unknown as Record<string, { getAttributeTypeMap?: () => { baseName: string; type: string }[] }>
  )[type];
  if (!model?.getAttributeTypeMap) throw new Error(`no @kubernetes/client-node model named ${type}`);
  if (typeof value !== 'object' || Array.isArray(value)) return [`${path} (expected an object)`];
  const fields = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  return Object.entries(value).flatMap(([key, child]) => {
    const childType = fields.get(key);
    return childType === undefined ? [`${path}.${key}`] : unknownFields(child, childType, `${path}.${key}`);
  });
}

function validate(object: KubeObject): void {
  const id = `${object.apiVersion}/${object.kind}`;
  const Model = MODELS[id];
  expect(Model, `${id} is a kind the test knows`).toBeDefined();
  expect(
    () => new (Model as NonNullable<typeof Model>)(object as never).validate(),
    `${id} ${object.metadata.name}`,
  ).not.toThrow();
  expect(unknownFields(object, `V1${object.kind}`, object.kind), `unknown fields in ${object.kind}`).toEqual(
    [],
  );
}

/** Whether a label selector (matchLabels only, as ours are) selects pods labelled `labels`. */
function matches(selector: LabelSelector | undefined, labels: Labels): boolean {
  if (selector?.matchExpressions !== undefined) throw new Error('selectors here use matchLabels only');
  const wanted = Object.entries(selector?.matchLabels ?? {});
  return wanted.length > 0 && wanted.every(([k, v]) => labels[k] === v);
}

/** The one object of `kind` (named `name`, when given); throws unless there is exactly one. */
function only<T extends KubeObject>(objects: readonly KubeObject[], kind: string, name?: string): T {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1)
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0] as T;
}

const secretExample = readYamlDocuments(
  join(K8S, 'overlays/cluster/secret.example.yaml'),
)[0] as unknown as KubeObject & {
  stringData: Record<string, string>;
};
const image = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).stages.at(-1);
if (!image) throw new Error('Dockerfile has no stage');

/** The gateway container's environment: the image's ENV, then envFrom, then env (later wins, as in a pod). */
function containerEnvironment(objects: readonly KubeObject[], container: Container): Record<string, string> {
  const env: Record<string, string> = { ...stageEnv(image as NonNullable<typeof image>) };
  const configMap = (name: string) =>
    only<KubeObject & { data: Record<string, string> }>(objects, 'ConfigMap', name);
  // The example stands in for the Secret the operator creates: same name, same keys.
  const secret = (name: string) => {
    if (name !== secretExample.metadata.name) throw new Error(`Secret ${name} is not the example's`);
    return secretExample.stringData;
  };
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(env, configMap(source.configMapRef.name).data);
    if (source.secretRef) Object.assign(env, secret(source.secretRef.name));
  }
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom;
    let value = variable.value;
    if (ref?.configMapKeyRef) value = configMap(ref.configMapKeyRef.name).data[ref.configMapKeyRef.key];
    if (ref?.secretKeyRef) value = secret(ref.secretKeyRef.name)[ref.secretKeyRef.key];
    if (value === undefined) throw new Error(`${variable.name} refers to a key that does not exist`);
    env[variable.name] = value;
  }
  return env;
}

/** Where kubectl is, if it is installed: then its own kustomize renders every overlay too. */
const kubectl = (process.env['PATH'] ?? '')
  .split(delimiter)
  .map((dir) => join(dir, 'kubectl'))
  .find((path) => existsSync(path));

describe.each(OVERLAYS)('k8s/overlays/%s', (overlay) => {
  const dir = join(K8S, 'overlays', overlay);
  const objects = kustomizeBuild(dir);
  const deployment = only<DeploymentObject>(objects, 'Deployment', 'mcp-gateway');
  const pod = deployment.spec.template;
  const podLabels = pod.metadata.labels;
  if (pod.spec.containers.length !== 1) throw new Error('the gateway pod has one container');
  const gateway = pod.spec.containers[0] as Container;
  // Resolved inside the tests, so a broken reference fails the tests that depend on it, not the whole file.
  const env = () => containerEnvironment(objects, gateway);
  const config = (): Config => parseConfig(env());
  const httpPort = gateway.ports?.find((p) => p.name === 'http');
  const metricsPort = gateway.ports?.find((p) => p.name === 'metrics');

  it.skipIf(!kubectl)('renders as `kubectl kustomize` does (run only where kubectl is installed)', () => {
    const output = execFileSync(kubectl as string, ['kustomize', dir], { encoding: 'utf8' });
    const theirs = parseAllDocuments(output).map((doc) => doc.toJSON() as KubeObject);
    const key = (o: KubeObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const sorted = (list: readonly KubeObject[]) => [...list].sort((a, b) => key(a).localeCompare(key(b)));
    expect(sorted(objects)).toEqual(sorted(theirs));
  });

  it('renders only valid objects, all in the gateway namespace', () => {
    for (const object of objects) {
      validate(object);
      if (object.kind !== 'Namespace')
        expect(object.metadata.namespace, `${object.kind} ${object.metadata.name}`).toBe(NAMESPACE);
    }
    expect(only(objects, 'Namespace').metadata.name).toBe(NAMESPACE);
  });

  it('selects its own pods in the Deployment, the Service and the PodDisruptionBudget', () => {
    expect(matches(deployment.spec.selector, podLabels)).toBe(true);
    const service = only<
      KubeObject & { spec: { selector: Labels; ports: { targetPort: string | number }[] } }
    >(objects, 'Service');
    expect(matches({ matchLabels: service.spec.selector }, podLabels)).toBe(true);
    for (const port of service.spec.ports)
      expect(gateway.ports?.map((p) => p.name)).toContain(port.targetPort);
    const pdb = only<KubeObject & { spec: { selector: LabelSelector } }>(objects, 'PodDisruptionBudget');
    expect(matches(pdb.spec.selector, podLabels)).toBe(true);
  });

  it('runs under the ServiceAccount the deployer Role is bound to, with its token mounted', () => {
    const account = only(objects, 'ServiceAccount');
    expect(pod.spec.serviceAccountName).toBe(account.metadata.name);
    expect(pod.spec.automountServiceAccountToken).not.toBe(false);
    const role = only<KubeObject>(objects, 'Role');
    const binding = only<
      KubeObject & {
        roleRef: { kind: string; name: string };
        subjects: { kind: string; name: string; namespace: string }[];
      }
    >(objects, 'RoleBinding');
    expect(binding.roleRef).toMatchObject({ kind: 'Role', name: role.metadata.name });
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: account.metadata.name, namespace: account.metadata.namespace },
    ]);
    // Exactly the Role rbac.test.ts checks against the deployer's requests.
    const shipped = readYamlDocuments(join(K8S, 'base/rbac.yaml')).find(
      (d) => (d as { kind?: string }).kind === 'Role',
    );
    expect(role['rules']).toEqual((shipped as { rules: unknown }).rules);
  });

  it('probes readiness on /readyz and liveness on /healthz, which the app serves without a token', async () => {
    expect(gateway.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(gateway.livenessProbe?.httpGet?.path).toBe('/healthz');
    const { app, close } = await createTestApp({
      authenticate: async (c) => c.json({ error: { code: 'unauthorized', message: 'no token' } }, 401),
    });
    try {
      for (const probe of [gateway.readinessProbe, gateway.livenessProbe, gateway.startupProbe]) {
        if (!probe) continue;
        expect(probe.httpGet?.port).toBe('http');
        const response = await app.request(probe.httpGet?.path ?? '/');
        expect(response.status, probe.httpGet?.path).toBe(200);
      }
      expect((await app.request('/adapters')).status, 'the stand-in authenticator is in force').toBe(401);
    } finally {
      await close();
    }
  });

  it('gives the pod time to drain its streams and clean up before Kubernetes kills it', () => {
    const preStop = gateway.lifecycle?.preStop?.exec?.command ?? [];
    const pause = preStop[0] === 'sleep' ? Number(preStop[1]) : 0;
    const { drainMs } = config().ops;
    // After the drain: the deployers stop, the registry closes, the last spans are flushed (at most 5 s).
    const cleanupSeconds = 10;
    expect(pod.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(
      pause + drainMs / 1000 + cleanupSeconds,
    );
  });

  it('serves /metrics on the metrics port the pod declares and annotates, never through the Service', () => {
    const serving = config().ops.metricsServing;
    expect(serving.listener?.port).toBe(metricsPort?.containerPort);
    // On 0.0.0.0 without a token the main port does not serve it: adapter names stay off the Ingress.
    expect(serving.onMainPort).toBe(false);
    expect(pod.metadata.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(metricsPort?.containerPort),
      'prometheus.io/path': '/metrics',
    });
    const service = only<KubeObject & { spec: { ports: { targetPort: string | number }[] } }>(
      objects,
      'Service',
    );
    expect(service.spec.ports.map((p) => p.targetPort)).not.toContain(metricsPort?.name);
  });

  it('listens where the image and the probes expect, as the image user, with a read-only root', () => {
    expect(httpPort?.containerPort).toBe(config().port);
    expect(instructions(image, 'EXPOSE').map((e) => Number(e.args))).toContain(httpPort?.containerPort);
    expect(config().host).toBe('0.0.0.0');
    const [uid, gid] = (instructions(image, 'USER')[0]?.args ?? '').split(':').map(Number);
    expect(pod.spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: uid,
      runAsGroup: gid ?? uid,
      fsGroup: gid ?? uid,
    });
    expect(gateway.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    const tmp = gateway.volumeMounts?.find((m) => m.mountPath === '/tmp');
    expect(pod.spec.volumes?.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
    // A Service named mcp-gateway would otherwise inject MCP_GATEWAY_* variables into the configuration.
    expect(pod.spec.enableServiceLinks).toBe(false);
  });

  it('starts with an explicit OIDC mode and the Kubernetes deployer (placeholders marked for change)', () => {
    expect(config().auth.mode).toBe('oidc');
    expect(env()['MCP_GATEWAY_OIDC_ISSUER']).toMatch(/^https:\/\/[^/]*example\.com\//);
    expect(config().deploy.deployer).toBe('kubernetes');
    const envFile = readFileSync(join(K8S, 'base/gateway.env'), 'utf8');
    const marked = envFile.slice(envFile.indexOf('CHANGE ME'));
    for (const key of [
      'MCP_GATEWAY_AUTH',
      'MCP_GATEWAY_OIDC_ISSUER',
      'MCP_GATEWAY_PUBLIC_URL',
      'MCP_GATEWAY_IMAGE_REGISTRY',
    ])
      expect(marked, `${key} follows the CHANGE ME marker`).toMatch(new RegExp(`^${key}=`, 'm'));
  });

  it('lets only the gateway reach the MCP servers the deployer runs, on their MCP port, and clients reach the gateway', async () => {
    const { deploy } = config();
    if (deploy.deployer !== 'kubernetes') throw new Error('expected the kubernetes deployer');
    const deployer = new KubernetesDeployer({
      namespace: NAMESPACE,
      imageRegistry: deploy.kubernetes.imageRegistry,
      gatewayName: deploy.kubernetes.gatewayName,
      kubeconfig: { kind: 'server', server: 'http://127.0.0.1:9' },
    });
    try {
      const policies = objects.filter((o) => o.kind === 'NetworkPolicy') as (KubeObject & {
        spec: {
          podSelector: LabelSelector;
          policyTypes: string[];
          ingress: {
            from?: { podSelector?: LabelSelector; namespaceSelector?: unknown; ipBlock?: unknown }[];
            ports?: { port: string | number; protocol: string }[];
          }[];
        };
      })[];
      for (const kind of ['adapter', 'tool'] as const) {
        const statefulSet = renderStatefulSet(imageResource(kind, 'weather'), deployer.settings);
        const serverPod = statefulSet.spec?.template;
        const labels = serverPod?.metadata?.labels ?? {};
        expect(labels[LABELS.managedBy]).toBe(MANAGED_BY);
        const applying = policies.filter((p) => matches(p.spec.podSelector, labels));
        expect(applying.map((p) => p.metadata.name)).toEqual(['mcp-gateway-workloads']);
        const [policy] = applying;
        expect(policy?.spec.policyTypes).toEqual(['Ingress']);
        const portNames =
          serverPod?.spec?.containers.flatMap((c) => (c.ports ?? []).map((p) => p.name)) ?? [];
        for (const rule of policy?.spec.ingress ?? []) {
          expect(rule.from?.length, 'a rule admitting everyone').toBeGreaterThan(0);
          for (const peer of rule.from ?? []) {
            expect(peer.namespaceSelector ?? peer.ipBlock).toBeUndefined();
            expect(matches(peer.podSelector, podLabels), 'peer is the gateway').toBe(true);
            expect(matches(peer.podSelector, labels), 'peer is not an MCP server').toBe(false);
          }
          for (const port of rule.ports ?? []) expect(portNames).toContain(port.port);
          expect(rule.ports?.length).toBeGreaterThan(0);
        }
      }
      // The gateway's own pods are not taken for MCP servers, and admit clients from anywhere on their port.
      const forGateway = policies.filter((p) => matches(p.spec.podSelector, podLabels));
      expect(forGateway.map((p) => p.metadata.name)).toEqual(['mcp-gateway']);
      // Scrapers reach the metrics port from pods of the cluster only.
      expect(forGateway[0]?.spec.ingress).toEqual([
        { ports: [{ protocol: 'TCP', port: httpPort?.name }] },
        { from: [{ namespaceSelector: {} }], ports: [{ protocol: 'TCP', port: metricsPort?.name }] },
      ]);
    } finally {
      await deployer.close();
    }
  });

  if (overlay === 'embedded') {
    it('runs one replica on SQLite on a ReadWriteOnce volume at /data, never two pods at once', () => {
      expect(deployment.spec.replicas).toBe(1);
      expect(deployment.spec.strategy?.type).toBe('Recreate');
      expect(config().databaseUrl).toMatch(/^\/data\/[^/]+\.db$/);
      const mount = gateway.volumeMounts?.find((m) => m.mountPath === '/data');
      const volume = pod.spec.volumes?.find((v) => v.name === mount?.name);
      const claim = only<KubeObject & { spec: { accessModes: string[] } }>(
        objects,
        'PersistentVolumeClaim',
        volume?.persistentVolumeClaim?.claimName,
      );
      expect(claim.spec.accessModes).toEqual(['ReadWriteOnce']);
      expect(JSON.stringify(gateway.env ?? [])).not.toContain('secretKeyRef');
    });
  } else {
    it('runs several replicas on Postgres with DATABASE_URL and MCP_GATEWAY_SECRET from the Secret', () => {
      expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
      expect(deployment.spec.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
      expect(config().databaseUrl).toMatch(/^postgres:\/\//);
      expect(config().secret?.length).toBeGreaterThanOrEqual(32);
      for (const name of ['DATABASE_URL', 'MCP_GATEWAY_SECRET']) {
        const variable = gateway.env?.find((v) => v.name === name);
        expect(variable?.valueFrom?.secretKeyRef?.name, name).toBe(secretExample.metadata.name);
        expect(Object.keys(secretExample.stringData)).toContain(variable?.valueFrom?.secretKeyRef?.key);
      }
      // The example is a valid Secret, but never part of what `kubectl apply -k` sends.
      validate(secretExample);
      expect(secretExample.metadata.namespace).toBe(NAMESPACE);
      expect(JSON.stringify(readYamlDocuments(join(dir, 'kustomization.yaml')))).not.toContain(
        'secret.example',
      );
      expect(Object.values(secretExample.stringData).every((v) => v.includes('CHANGE-ME'))).toBe(true);
    });

    it('spreads replicas over nodes and zones', () => {
      const spread = pod.spec.topologySpreadConstraints ?? [];
      expect(spread.map((c) => c.topologyKey).sort()).toEqual([
        'kubernetes.io/hostname',
        'topology.kubernetes.io/zone',
      ]);
      for (const constraint of spread) expect(matches(constraint.labelSelector, podLabels)).toBe(true);
    });
  }

  if (overlay === 'config-file') {
    it('mounts gateway.yaml from a generated ConfigMap where MCP_GATEWAY_CONFIG points, and the file checks', async () => {
      const configFile = config().configFile ?? '';
      const mount = gateway.volumeMounts?.find((m) => configFile.startsWith(`${m.mountPath}/`));
      expect(mount, `a volume mounted above ${configFile}`).toBeDefined();
      expect((mount as { readOnly?: boolean }).readOnly).toBe(true);
      const volume = pod.spec.volumes?.find((v) => v.name === mount?.name) as
        { configMap?: { name: string } } | undefined;
      // Hash-suffixed: a changed file is a changed pod template, so the pods restart and apply it.
      expect(volume?.configMap?.name).toMatch(/^mcp-gateway-config-[a-z0-9]{10}$/);
      const configMap = only<KubeObject & { data: Record<string, string> }>(
        objects,
        'ConfigMap',
        volume?.configMap?.name,
      );
      const key = configFile.slice((mount?.mountPath.length ?? 0) + 1);
      const text = configMap.data[key];
      expect(text, `the ConfigMap has the key ${key}`).toBe(readFileSync(join(dir, 'gateway.yaml'), 'utf8'));
      // What a gateway checks at start: the CLI's parser, then the app's own JSON Schema of the file.
      const file = parseGatewayFile(text ?? '', 'gateway.yaml');
      expect(file.entries.length).toBeGreaterThan(0);
      const { app, close } = await createTestApp();
      try {
        const schema = (await (await app.request('/schemas/gateway.json')).json()) as Record<string, unknown>;
        checkAgainstSchema(text ?? '', 'gateway.yaml', schema);
      } finally {
        await close();
      }
    });
  }
});

describe('k8s/base', () => {
  it('is what every overlay builds on (itself or through another), and no overlay ships a real Secret', () => {
    for (const overlay of OVERLAYS) {
      const resources = (
        readYamlDocuments(join(K8S, 'overlays', overlay, 'kustomization.yaml'))[0] as { resources: string[] }
      ).resources;
      expect(resources.some((r) => r === '../../base' || OVERLAYS.some((o) => r === `../${o}`))).toBe(true);
      expect(kustomizeBuild(join(K8S, 'overlays', overlay)).filter((o) => o.kind === 'Secret')).toEqual([]);
    }
  });
});
