/**
 * @module Tests of the rendered objects: every object the deployer writes, with every option set, validates
 * offline against the Kubernetes schema (`kubernetes-models`) and has no field the API does not know (the
 * client's model type maps, as `fieldValidation=Strict` would check); and the rendering rules themselves.
 */
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Service } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { findUnknownFields, imageResource } from '../../../test/fake-kube-api/index.js';
import { resolveKubernetesOptions } from './kubernetes-options.js';
import type { KubernetesDeployerOptions } from './kubernetes-options.js';
import { labelsOf, objectName, renderService, renderStatefulSet, selectorOf } from './manifests.js';

const everyOption: KubernetesDeployerOptions = {
  namespace: 'mcp-servers',
  imageRegistry: 'registry.example.com:5000/platform/mcp/',
  imagePullSecrets: ['registry-credentials', 'backup-registry'],
  resources: {
    requests: { cpu: '100m', memory: '128Mi', 'ephemeral-storage': '1Gi' },
    limits: { cpu: '2', memory: '1Gi', 'ephemeral-storage': '2Gi' },
  },
  serviceAccountName: 'mcp-servers',
  workloadIdentity: {
    serviceAccountName: 'workload-sa',
    podLabels: { 'azure.workload.identity/use': 'true' },
  },
  clusterDomain: 'corp.internal',
  gatewayName: 'prod-gateway',
  runAsUser: 2000,
  runAsGroup: 3000,
  readOnlyRootFilesystem: true,
  readinessProbe: { initialDelaySeconds: 2, periodSeconds: 10, failureThreshold: 6 },
};
const settings = resolveKubernetesOptions(everyOption, undefined);

const adapter = imageResource(
  'adapter',
  'weather',
  {
    imageName: 'team/weather-server',
    imageVersion: '1.2.3',
    environmentVariables: { ZED: 'last', API_URL: 'https://api.example.com', EMPTY: '' },
    replicaCount: 3,
    useWorkloadIdentity: true,
    port: 9000,
    path: '/v1/mcp',
  },
  7,
);
const tool = imageResource('tool', 'calculator', {
  imageName: 'tools/calc',
  imageVersion: 'v2',
  environmentVariables: { MODE: 'fast' },
  replicaCount: 2,
  toolDefinition: { tool: { name: 'calculator', inputSchema: { type: 'object' } }, port: 8080, path: '/run' },
});

describe('rendered objects are valid Kubernetes objects', () => {
  for (const resource of [adapter, tool]) {
    it(`${resource.kind}: StatefulSet and Service pass the schema and strict field validation`, () => {
      const statefulSet = renderStatefulSet(resource, settings);
      const service = renderService(resource, settings);
      expect(() => new StatefulSet(statefulSet as never).validate()).not.toThrow();
      expect(() => new Service(service as never).validate()).not.toThrow();
      expect(findUnknownFields('statefulsets', statefulSet)).toEqual([]);
      expect(findUnknownFields('services', service)).toEqual([]);
      // And the same objects with defaults only (no options beyond the required registry).
      const minimal = resolveKubernetesOptions({ imageRegistry: 'r.example.com' }, undefined);
      const plain = { ...resource, spec: { ...resource.spec, useWorkloadIdentity: false } };
      expect(() => new StatefulSet(renderStatefulSet(plain, minimal) as never).validate()).not.toThrow();
      expect(() => new Service(renderService(plain, minimal) as never).validate()).not.toThrow();
    });
  }

  it('the strict check does catch a field the API does not know', () => {
    const statefulSet = renderStatefulSet(adapter, settings) as unknown as Record<
      string,
      Record<string, unknown>
    >;
    expect(
      findUnknownFields('statefulsets', { ...statefulSet, spec: { ...statefulSet['spec'], replica: 1 } }),
    ).toEqual(['spec.replica']);
  });
});

describe('renderStatefulSet', () => {
  const statefulSet = renderStatefulSet(adapter, settings);
  const template = statefulSet.spec?.template;
  const podSpec = template?.spec;
  const container = podSpec?.containers[0];

  it('names, labels and selects with the gateway’s own labels only', () => {
    expect(statefulSet.metadata).toEqual({
      name: 'mcp-a-weather',
      namespace: 'mcp-servers',
      labels: {
        'app.kubernetes.io/managed-by': 'mcp-gateway',
        'app.kubernetes.io/part-of': 'prod-gateway',
        'app.kubernetes.io/name': 'weather',
        'app.kubernetes.io/component': 'adapter',
        'app.kubernetes.io/instance': 'mcp-a-weather',
      },
      annotations: { 'mcp-gateway.io/registry-version': '7' },
    });
    expect(statefulSet.spec?.selector.matchLabels).toEqual({
      'app.kubernetes.io/managed-by': 'mcp-gateway',
      'app.kubernetes.io/instance': 'mcp-a-weather',
    });
    expect(template?.metadata?.labels).toEqual({
      ...labelsOf(adapter, settings),
      'azure.workload.identity/use': 'true',
    });
    expect(template?.metadata?.annotations).toEqual({ 'mcp-gateway.io/path': '/v1/mcp' });
    expect(statefulSet.spec).toMatchObject({
      serviceName: 'mcp-a-weather',
      replicas: 3,
      podManagementPolicy: 'Parallel',
    });
  });

  it('pulls only from the configured registry, with the configured secrets, if not present', () => {
    expect(container?.image).toBe('registry.example.com:5000/platform/mcp/team/weather-server:1.2.3');
    expect(container?.imagePullPolicy).toBe('IfNotPresent');
    expect(podSpec?.imagePullSecrets).toEqual([
      { name: 'registry-credentials' },
      { name: 'backup-registry' },
    ]);
  });

  it('runs non-root with no capabilities, no privilege escalation and the runtime seccomp profile', () => {
    expect(podSpec?.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 2000,
      runAsGroup: 3000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
    });
    expect(podSpec).toMatchObject({
      serviceAccountName: 'workload-sa',
      automountServiceAccountToken: true,
      enableServiceLinks: false,
    });
  });

  it('probes readiness on the MCP port and sets the configured resources', () => {
    expect(container?.ports).toEqual([{ name: 'mcp', containerPort: 9000, protocol: 'TCP' }]);
    expect(container?.readinessProbe).toEqual({
      tcpSocket: { port: 'mcp' },
      initialDelaySeconds: 2,
      periodSeconds: 10,
      failureThreshold: 6,
    });
    expect(container?.resources).toEqual(everyOption.resources);
  });

  it('passes the environment exactly, sorted by name', () => {
    expect(container?.env).toEqual([
      { name: 'API_URL', value: 'https://api.example.com' },
      { name: 'EMPTY', value: '' },
      { name: 'ZED', value: 'last' },
    ]);
  });

  it('passes every name Kubernetes accepts since 1.34 unchanged, in a StatefulSet that validates', () => {
    // Printable ASCII other than "=" (IsRelaxedEnvVarName): what the control plane lets through.
    const environmentVariables = {
      'my.env-name': '1',
      'API-KEY': '2',
      '1ST': '3',
      'with space': '4',
      'a~b': '5',
    };
    const relaxed = imageResource('adapter', 'relaxed', { environmentVariables });
    const statefulSet = renderStatefulSet(relaxed, settings);
    expect(() => new StatefulSet(statefulSet as never).validate()).not.toThrow();
    expect(statefulSet.spec?.template.spec?.containers[0]?.env).toEqual([
      { name: '1ST', value: '3' },
      { name: 'API-KEY', value: '2' },
      { name: 'a~b', value: '5' },
      { name: 'my.env-name', value: '1' },
      { name: 'with space', value: '4' },
    ]);
  });

  it('uses the reference defaults: resources, user 1100, default account, no token', () => {
    const plain = renderStatefulSet(
      imageResource('adapter', 'plain'),
      resolveKubernetesOptions({ imageRegistry: 'r.example.com' }, 'from-context'),
    );
    expect(plain.metadata?.namespace).toBe('from-context');
    const spec = plain.spec?.template.spec;
    expect(spec?.containers[0]?.resources).toEqual({
      requests: { cpu: '250m', memory: '256Mi' },
      limits: { cpu: '1', memory: '512Mi' },
    });
    expect(spec?.securityContext).toMatchObject({ runAsUser: 1100, runAsGroup: 1100 });
    expect(spec?.serviceAccountName).toBeUndefined();
    expect(spec?.automountServiceAccountToken).toBe(false);
    expect(spec?.imagePullSecrets).toBeUndefined();
    expect(spec?.containers[0]?.ports?.[0]?.containerPort).toBe(8000);
    expect(plain.spec?.template.metadata?.annotations).toEqual({ 'mcp-gateway.io/path': '/mcp' });
  });

  it('refuses a spec without an image, or asking for an identity the gateway does not have', () => {
    const noImage = imageResource('adapter', 'x', { imageName: undefined });
    expect(() => renderStatefulSet(noImage, settings)).toThrow(/has no imageName\/imageVersion/);
    const minimal = resolveKubernetesOptions({ imageRegistry: 'r.example.com' }, undefined);
    expect(() => renderStatefulSet(adapter, minimal)).toThrow(/no workload identity service account/);
  });
});

describe('renderService', () => {
  it('is headless for adapters, publishing pod names before readiness', () => {
    expect(renderService(adapter, settings).spec).toEqual({
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: selectorOf(adapter),
      ports: [{ name: 'mcp', port: 9000, targetPort: 'mcp', protocol: 'TCP' }],
    });
  });

  it('carries the endpoint path, which the routing reads beside the EndpointSlices', () => {
    expect(renderService(adapter, settings).metadata?.annotations).toEqual({
      'mcp-gateway.io/registry-version': '7',
      'mcp-gateway.io/path': '/v1/mcp',
    });
  });

  it('is a ClusterIP Service for tools', () => {
    const service = renderService(tool, settings);
    expect(service.metadata?.name).toBe('mcp-t-calculator');
    expect(service.spec).toEqual({
      type: 'ClusterIP',
      selector: selectorOf(tool),
      ports: [{ name: 'mcp', port: 8080, targetPort: 'mcp', protocol: 'TCP' }],
    });
  });
});

describe('objectName', () => {
  it('prefixes by kind', () => {
    expect(objectName({ kind: 'adapter', name: 'redis' })).toBe('mcp-a-redis');
    expect(objectName({ kind: 'tool', name: 'redis' })).toBe('mcp-t-redis');
  });

  it('keeps every name a valid StatefulSet and Service name of at most 52 characters', () => {
    for (let length = 1; length <= 52; length += 1) {
      const name = `${'x'.repeat(length - 1)}9`;
      const object = objectName({ kind: 'tool', name });
      expect(object.length).toBeLessThanOrEqual(52);
      expect(object).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
    }
    // The example of docs/storage.md.
    expect(objectName({ kind: 'adapter', name: `${'a'.repeat(30)}-${'b'.repeat(21)}` })).toBe(
      'mcp-a-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbbbb-a90f862b',
    );
    // The cut never leaves a trailing hyphen before the hash.
    expect(objectName({ kind: 'adapter', name: `${'a'.repeat(36)}-${'b'.repeat(15)}` })).toMatch(
      /^mcp-a-a{36}-[0-9a-f]{8}$/,
    );
  });
});

describe('resolveKubernetesOptions', () => {
  it.each([
    [{ imageRegistry: '' }, /image registry/],
    [{ imageRegistry: 'docker.io', namespace: 'Bad_NS' }, /namespace/],
    [{ imageRegistry: 'docker.io', imagePullSecrets: ['UPPER'] }, /image pull secret/],
    [{ imageRegistry: 'docker.io', gatewayName: 'has space' }, /gateway name/],
    [{ imageRegistry: 'docker.io', serviceAccountName: 'a/b' }, /service account/],
  ])('refuses %j', (options, message) => {
    expect(() => resolveKubernetesOptions(options as KubernetesDeployerOptions, undefined)).toThrow(message);
  });
});
