/** @module kube-config: builds the client's `KubeConfig` from the configured source. */
import { KubeConfig } from '@kubernetes/client-node';
import type { KubeConfigSource } from './kubernetes-options.js';

/** Loads the cluster and credentials; throws when no cluster results. */
export function loadKubeConfig(source: KubeConfigSource): KubeConfig {
  const config = new KubeConfig();
  switch (source.kind) {
    case 'default':
      config.loadFromDefault();
      break;
    case 'in-cluster':
      config.loadFromCluster();
      break;
    case 'file':
      config.loadFromFile(source.path);
      if (source.context) config.setCurrentContext(source.context);
      break;
    case 'server':
      config.loadFromOptions({
        clusters: [
          {
            name: 'cluster',
            server: source.server,
            // The client refuses plain http unless TLS verification is off; there is no TLS to verify on an http
            // URL (`kubectl proxy`, the test API server), so that setting only matters for https.
            skipTLSVerify: source.skipTlsVerify ?? source.server.startsWith('http://'),
            ...(source.caData ? { caData: source.caData } : {}),
          },
        ],
        users: [{ name: 'user', ...(source.token ? { token: source.token } : {}) }],
        contexts: [{ name: 'context', cluster: 'cluster', user: 'user' }],
        currentContext: 'context',
      });
      break;
  }
  if (!config.getCurrentCluster())
    throw new Error(
      `Kubernetes deployer: no cluster in the ${source.kind} kubeconfig (set KUBECONFIG, mount a service account, or configure a server)`,
    );
  return config;
}

/** The namespace of the kubeconfig's current context (in-cluster: the pod's own namespace), if any. */
export function contextNamespace(config: KubeConfig): string | undefined {
  const context = config.getContextObject(config.getCurrentContext());
  const namespace = context?.namespace?.trim();
  return namespace ? namespace : undefined;
}
