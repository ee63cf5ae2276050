/**
 * @module start-deployers: builds the deployers a gateway runs — always the remote one, plus the process or the
 * Kubernetes deployer as configured — with the reconciler that drives them and the inspector and replica
 * resolver the control and data planes read through. The Node-only deployers are loaded on demand, so a build
 * that never starts them (the edge worker) never loads `node:child_process` or the Kubernetes client.
 */
import type { DeployConfig } from '../config/index.js';
import type { Logger } from '../observability/index.js';
import type { RegistryStore } from '../registry/index.js';
import type { Deployer, ResourceRef } from './deployer.js';
import { createDeployerInspector } from './deployer-inspector.js';
import type { DeployerInspector } from './deployer-inspector.js';
import { createReconciler } from './reconciler.js';
import type { Reconciler, ReconcilerOptions } from './reconciler.js';
import { RemoteDeployer } from './remote/remote-deployer.js';
import type { RemoteDeployerOptions } from './remote/remote-deployer.js';
import { createReplicaResolver } from './replica-resolver.js';
import type { DeployerReplicaResolver } from './replica-resolver.js';
import { createRuntimeInspector } from './runtime-inspector-by-kind.js';
import type { SecretSource } from './secret-environment.js';

/** Options for {@link startDeployers}. */
export interface StartDeployersOptions {
  readonly store: RegistryStore;
  readonly logger: Logger;
  readonly deploy: DeployConfig;
  readonly remote: RemoteDeployerOptions;
  /** Where deployers read the values of `secretEnvironmentVariables` (default: none). */
  readonly secrets?: SecretSource;
  /** Told the result of every reconciler step (metrics). */
  readonly onReconcile?: ReconcilerOptions['onResult'];
  /** Told when a process adapter with `minReplicas` scales up on a request or down after `idleSeconds`. */
  readonly onScale?: (ref: ResourceRef, direction: 'up' | 'down') => void;
}

/** Everything that runs resources, started. */
export interface RunningDeployers {
  readonly deployers: readonly Deployer[];
  readonly reconciler: Reconciler;
  readonly inspector: DeployerInspector;
  readonly replicas: DeployerReplicaResolver;
  /** Stops the reconciler, then every deployer: local processes are reaped, cluster workloads keep running. */
  close(): Promise<void>;
}

async function localDeployer(options: StartDeployersOptions): Promise<Deployer> {
  const { deploy, logger } = options;
  if (deploy.deployer === 'process') {
    const { ProcessDeployer } = await import('./process/index.js');
    const settings = deploy.process;
    const deployer = new ProcessDeployer({
      logger,
      startTimeoutMs: settings.startTimeoutMs,
      stopGraceMs: settings.stopGraceMs,
      stdio: {
        maxSessions: settings.stdioMaxSessions,
        idleTimeoutMs: settings.stdioIdleTimeoutMs,
      },
      sandbox: settings.sandbox,
      ...(options.secrets && { secrets: options.secrets }),
      ...(options.onScale && {
        onScale: (ref: ResourceRef, event: { direction: 'up' | 'down' }) =>
          options.onScale!(ref, event.direction),
      }),
      ...(settings.stateDirectory !== undefined && { stateDirectory: settings.stateDirectory }),
    });
    // Before the reconciler: an unusable sandbox stops the start, and what a killed gateway left running is
    // gone before the same servers start again.
    await deployer.start();
    return deployer;
  }
  const { createKubernetesDeployer } = await import('./kubernetes/index.js');
  const k8s = deploy.kubernetes;
  const deployer = createKubernetesDeployer({
    logger,
    imageRegistry: k8s.imageRegistry,
    imagePullSecrets: k8s.imagePullSecrets,
    clusterDomain: k8s.clusterDomain,
    gatewayName: k8s.gatewayName,
    ...(options.secrets && { secrets: options.secrets }),
    ...(k8s.namespace && { namespace: k8s.namespace }),
    ...(k8s.serviceAccountName && { serviceAccountName: k8s.serviceAccountName }),
    kubeconfig: k8s.kubeconfig
      ? { kind: 'file', path: k8s.kubeconfig, ...(k8s.context && { context: k8s.context }) }
      : { kind: 'default' },
  });
  // The watch retries in the background until the API answers; do not hold the gateway's start on it.
  deployer.start().catch((err: unknown) => logger.warn({ err }, 'kubernetes watch not started yet'));
  return deployer;
}

/**
 * Builds and starts the deployers and the reconciler. Rejects with a `ConfigError` when the process sandbox
 * cannot be set up as configured (see `process/process-sandbox.ts`).
 */
export async function startDeployers(options: StartDeployersOptions): Promise<RunningDeployers> {
  const remote = new RemoteDeployer(options.remote);
  remote.start();
  const local = await localDeployer(options).catch(async (err: unknown) => {
    await remote.close();
    throw err;
  });
  const deployers: Deployer[] = [remote, local];
  const reconciler = createReconciler({
    store: options.store,
    deployers,
    intervalMs: options.deploy.reconcileIntervalMs,
    logger: options.logger,
    onResult: options.onReconcile,
  });
  reconciler.start();
  const inspector = createDeployerInspector({
    deployers,
    reconciler,
    // Runtimes no deployer serves here (e.g. images without Kubernetes) are answered "not configured".
    fallback: createRuntimeInspector({
      probeTimeoutMs: options.remote.probeTimeoutMs,
      send: options.remote.send,
      sendSse: options.remote.sendSse,
      refuseUrl: options.remote.refuseUrl,
    }),
  });
  return {
    deployers,
    reconciler,
    inspector,
    replicas: createReplicaResolver(remote, new Map([[local.runtime, local]])),
    async close() {
      await reconciler.stop();
      await Promise.all(deployers.map((d) => d.close()));
    },
  };
}
