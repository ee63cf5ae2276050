/**
 * @module The RBAC Role shipped in k8s/base/rbac.yaml grants exactly what the deployer uses: one full
 * lifecycle (apply, update, status, logs tail and follow, list, watch, remove) runs against the fake API
 * server, which records every (verb, resource) it authorises — including the `create` the API server checks
 * when a server-side apply creates an object — and the set must equal the Role's rules.
 */
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { describe, expect, it } from 'vitest';
import {
  RBAC_MANIFEST,
  grantedPairs,
  fixedSecrets,
  imageResource,
  rbacPairs,
  readManifests,
  startKubeTestKit,
  waitFor,
} from '../../../test/fake-kube-api/index.js';
import { refOf } from '../resource-change.js';

describe('k8s/base/rbac.yaml', () => {
  it('holds a valid Role and a RoleBinding that binds it', async () => {
    const documents = await readManifests(RBAC_MANIFEST);
    const role = documents.find((d) => d['kind'] === 'Role');
    const binding = documents.find((d) => d['kind'] === 'RoleBinding');
    expect(() => new Role(role as never).validate()).not.toThrow();
    expect(() => new RoleBinding(binding as never).validate()).not.toThrow();
    const roleName = (role?.['metadata'] as { name?: string } | undefined)?.name;
    expect(binding?.['roleRef']).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: roleName,
    });
  });

  it('grants exactly the verbs and resources the deployer uses', async () => {
    const kit = await startKubeTestKit({ deployer: { secrets: fixedSecrets({ token: 'v' }) } });
    try {
      const adapter = imageResource('adapter', 'rbac', {
        replicaCount: 2,
        environmentVariables: { A: '1' },
        secretEnvironmentVariables: { TOKEN: 'token' },
      });
      const tool = imageResource('tool', 'rbac');
      await kit.deployer.start();
      await kit.deployer.apply(adapter);
      await kit.deployer.apply(tool);
      await waitFor(() => kit.deployer.endpoints(refOf(adapter)).length === 2, 'adapter endpoints');
      await kit.deployer.apply(imageResource('adapter', 'rbac', { replicaCount: 1 }, 2));
      await kit.deployer.status(adapter);
      await kit.deployer.logs(adapter, { instance: 0, tail: 10 });
      const followed = await kit.deployer.logs(adapter, { instance: 0, tail: 10, follow: true });
      if (followed.ok && 'stream' in followed) await followed.stream.cancel();
      await kit.deployer.list();
      await kit.deployer.remove(refOf(adapter));
      await kit.deployer.remove(refOf(tool));

      const [role] = (await readManifests(RBAC_MANIFEST)).filter((d) => d['kind'] === 'Role');
      const used = [...rbacPairs(kit.api.requests)].sort();
      const granted = [...grantedPairs(role ?? {})].sort();
      expect(used).toEqual(granted);
    } finally {
      await kit.close();
    }
  });
});
