/**
 * @module Tests of `secretEnvironmentVariables` on the Kubernetes deployer, with the real client against the fake
 * API server: the values go into a Secret the gateway owns and the pods read them by `secretKeyRef`, so neither
 * the StatefulSet nor a pod ever holds one (checked on what the API server stores, and validated offline with
 * kubernetes-models); a rotation rewrites the Secret and rolls the pods; dropping the references or removing the
 * resource deletes the Secret; a missing secret writes nothing; a same-named Secret the gateway did not create
 * is never adopted.
 */
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Secret } from 'kubernetes-models/v1/Secret';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  fixedSecrets,
  imageResource,
  startKubeTestKit,
  ungrantedRequests,
  waitFor,
} from '../../../test/fake-kube-api/index.js';
import type { AuditRecord, JsonObject, KubeObject, KubeTestKit } from '../../../test/fake-kube-api/index.js';
import { refOf } from '../resource-change.js';
import { ANNOTATIONS, LABELS, MANAGED_BY, NotOwnedError } from './index.js';

const VALUE = 'ghp_KubeSecretValue_93be1f0a';
const ROTATED = 'ghp_KubeRotatedValue_4410cd2e';
const NAME = 'mcp-a-gh';

const seen: AuditRecord[] = [];
let kit: KubeTestKit;
let secrets: ReturnType<typeof fixedSecrets>;

async function start(): Promise<void> {
  secrets = fixedSecrets({ 'github-token': VALUE, 'other-key': 'other-value' });
  kit = await startKubeTestKit({ deployer: { secrets } });
}

afterEach(async () => {
  seen.push(...kit.api.requests);
  await kit.close();
});
afterAll(async () => {
  expect(await ungrantedRequests(seen)).toEqual([]);
});

const adapter = (secretEnvironmentVariables: Record<string, string> | undefined, version = 1) =>
  imageResource(
    'adapter',
    'gh',
    {
      replicaCount: 2,
      environmentVariables: { LOG_LEVEL: 'debug' },
      ...(secretEnvironmentVariables && { secretEnvironmentVariables }),
    },
    version,
  );

const stored = (plural: 'statefulsets' | 'secrets' | 'pods', name: string) =>
  kit.api.store.get(plural, kit.namespace, name);
const pods = () => kit.api.store.list('pods', kit.namespace).filter((p) => p.metadata.name.startsWith(NAME));
const templateOf = (object: KubeObject) => (object['spec'] as JsonObject)['template'] as JsonObject;
const envOf = (object: KubeObject) =>
  (((templateOf(object)['spec'] as JsonObject)['containers'] as JsonObject[])[0]!['env'] ??
    []) as JsonObject[];
const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

describe('secretEnvironmentVariables on Kubernetes', () => {
  it('keeps the values in an owned Secret and references them by secretKeyRef: no value in the pod spec', async () => {
    await start();
    await kit.deployer.apply(adapter({ GITHUB_TOKEN: 'github-token', ALSO_TOKEN: 'github-token' }));
    await waitFor(() => pods().length === 2, 'two pods');

    const secret = stored('secrets', NAME)!;
    expect(secret.metadata.labels).toMatchObject({
      [LABELS.managedBy]: MANAGED_BY,
      [LABELS.name]: 'gh',
      [LABELS.component]: 'adapter',
    });
    expect(secret['type']).toBe('Opaque');
    // One key per gateway secret, however many variables read it.
    expect(secret['data']).toEqual({ 'github-token': base64(VALUE) });
    expect(() => new Secret(secret as never).validate()).not.toThrow();

    const set = stored('statefulsets', NAME)!;
    expect(() => new StatefulSet(set as never).validate()).not.toThrow();
    expect(envOf(set)).toEqual([
      { name: 'ALSO_TOKEN', valueFrom: { secretKeyRef: { name: NAME, key: 'github-token' } } },
      { name: 'GITHUB_TOKEN', valueFrom: { secretKeyRef: { name: NAME, key: 'github-token' } } },
      { name: 'LOG_LEVEL', value: 'debug' },
    ]);
    const annotations = (templateOf(set)['metadata'] as JsonObject)['annotations'] as Record<string, string>;
    expect(annotations[ANNOTATIONS.secretsRevision]).toMatch(/^[0-9a-f]{32}$/);
    for (const object of [set, ...pods()]) {
      const text = JSON.stringify(object);
      expect(text).not.toContain(VALUE);
      expect(text).not.toContain(base64(VALUE));
    }
    // The Secret was written before the StatefulSet whose pods read it.
    const writes = kit.api.requests.filter((r) => r.verb === 'patch').map((r) => r.resource);
    expect(writes.indexOf('secrets')).toBeLessThan(writes.indexOf('statefulsets'));
  });

  it('rolls the pods onto the new value when the secret rotates, and not otherwise', async () => {
    await start();
    const resource = adapter({ GITHUB_TOKEN: 'github-token' });
    await kit.deployer.apply(resource);
    await waitFor(() => pods().length === 2, 'two pods');
    const before = new Set(pods().map((p) => p.metadata.uid));
    const setVersion = stored('statefulsets', NAME)!.metadata.resourceVersion;

    // Unchanged: nothing rewritten, nothing rolled.
    await kit.deployer.apply(resource);
    expect(stored('statefulsets', NAME)!.metadata.resourceVersion).toBe(setVersion);

    secrets.rotate('github-token', ROTATED);
    await kit.deployer.apply(resource);
    expect(stored('secrets', NAME)!['data']).toEqual({ 'github-token': base64(ROTATED) });
    await waitFor(
      () => pods().length === 2 && pods().every((p) => !before.has(p.metadata.uid)),
      'every pod replaced',
    );
    for (const object of [stored('statefulsets', NAME)!, ...pods()]) {
      expect(JSON.stringify(object)).not.toContain(ROTATED);
    }
  });

  it('deletes the Secret when the references are dropped and when the resource is removed', async () => {
    await start();
    await kit.deployer.apply(adapter({ GITHUB_TOKEN: 'github-token' }));
    expect(stored('secrets', NAME)).toBeDefined();
    await kit.deployer.apply(adapter(undefined, 2));
    expect(stored('secrets', NAME)).toBeUndefined();
    expect(envOf(stored('statefulsets', NAME)!)).toEqual([{ name: 'LOG_LEVEL', value: 'debug' }]);

    await kit.deployer.apply(adapter({ KEY: 'other-key' }, 3));
    expect(stored('secrets', NAME)!['data']).toEqual({ 'other-key': base64('other-value') });
    expect(await kit.deployer.list()).toEqual([refOf(adapter(undefined))]);
    await kit.deployer.remove(refOf(adapter(undefined)));
    expect(stored('secrets', NAME)).toBeUndefined();
    expect(await kit.deployer.list()).toEqual([]);
  });

  it('writes nothing when a referenced secret does not exist, and names it', async () => {
    await start();
    const failure = kit.deployer.apply(adapter({ GITHUB_TOKEN: 'missing' }));
    await expect(failure).rejects.toThrow(
      /secretEnvironmentVariables\.GITHUB_TOKEN names secret 'missing', which does not exist/,
    );
    expect(kit.api.requests.filter((r) => r.verb === 'patch' || r.verb === 'create')).toEqual([]);
  });

  it('never adopts a same-named Secret it did not create', async () => {
    await start();
    const foreign = kit.api.seed('secrets', kit.namespace, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: NAME, namespace: kit.namespace },
      data: { 'github-token': base64('theirs') },
    });
    await expect(kit.deployer.apply(adapter({ GITHUB_TOKEN: 'github-token' }))).rejects.toBeInstanceOf(
      NotOwnedError,
    );
    await kit.deployer.remove(refOf(adapter(undefined)));
    expect(stored('secrets', NAME)).toEqual(foreign);
  });
});
