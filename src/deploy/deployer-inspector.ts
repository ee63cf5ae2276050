/**
 * @module createDeployerInspector: the RuntimeInspector the control plane reads status and logs through once
 * deployers run. Each resource is answered by the deployer of its runtime; a failed reconcile step overrides
 * the replica summary with `Failed: <reason>`; runtimes no deployer serves go to a fallback inspector (e.g. the
 * probing one for remote endpoints) or are answered `not-built`.
 */
import { runtimeOf } from '../registry/index.js';
import type { Registered, RuntimeKind } from '../registry/index.js';
import type { Deployer, DeployerLogs } from './deployer.js';
import type { Reconciler } from './reconciler.js';
import { refOf } from './resource-change.js';
import type {
  LogsOptions,
  LogsResult,
  RuntimeInspector,
  StatusResult,
  Unavailable,
} from './runtime-inspector.js';

/** Options for {@link createDeployerInspector}. */
export interface DeployerInspectorOptions {
  /** At most one per runtime. */
  readonly deployers: readonly Deployer[];
  /** Where the last reconcile result of each resource is read (for `Failed: <reason>`). */
  readonly reconciler?: Pick<Reconciler, 'lastResult'>;
  /** Answers runtimes no deployer serves; without it they are `not-built`. */
  readonly fallback?: RuntimeInspector;
}

/** Options of a followed logs read. */
export interface FollowLogsOptions extends LogsOptions {
  /** Aborted when the client goes away; ends the stream. */
  readonly signal?: AbortSignal;
}

/** A RuntimeInspector that can also stream logs (`/logs?follow=true`). */
export interface DeployerInspector extends RuntimeInspector {
  /** The last `tail` lines, then new lines as they come, until `signal` aborts or the replica goes. */
  follow(resource: Registered, options: FollowLogsOptions): Promise<DeployerLogs>;
}

function notBuilt(resource: Registered, runtime: RuntimeKind): Unavailable {
  return {
    ok: false,
    reason: 'not-built',
    message: `The ${runtime} runtime of '${resource.name}' cannot be run by this gateway: no deployer for it is configured (see docs/deployers.md).`,
  };
}

/** Builds the inspector over `deployers`. */
export function createDeployerInspector(options: DeployerInspectorOptions): DeployerInspector {
  const byRuntime = new Map<RuntimeKind, Deployer>(options.deployers.map((d) => [d.runtime, d]));
  const deployerOf = (resource: Registered) => byRuntime.get(runtimeOf(resource.spec));

  return {
    async status(resource): Promise<StatusResult> {
      const deployer = deployerOf(resource);
      if (!deployer) {
        return options.fallback
          ? options.fallback.status(resource)
          : notBuilt(resource, runtimeOf(resource.spec));
      }
      const status = await deployer.status(resource);
      const last = options.reconciler?.lastResult(refOf(resource));
      // The spec could not be applied (cluster refused it, deployer crashed…): what runs is not what was asked.
      if (last && !last.ok)
        return { ok: true, status: { ...status, replicaStatus: `Failed: ${last.message}` } };
      return { ok: true, status };
    },

    async logs(resource, logsOptions): Promise<LogsResult> {
      const deployer = deployerOf(resource);
      if (!deployer) {
        return options.fallback
          ? options.fallback.logs(resource, logsOptions)
          : notBuilt(resource, runtimeOf(resource.spec));
      }
      const logs = await deployer.logs(resource, { instance: logsOptions.instance, tail: logsOptions.tail });
      if ('stream' in logs) {
        // A deployer that only streams: a snapshot read asked for text, so read nothing and say so plainly.
        await logs.stream.cancel();
        return { ok: true, text: '' };
      }
      return logs;
    },

    async follow(resource, followOptions): Promise<DeployerLogs> {
      const deployer = deployerOf(resource);
      if (!deployer) {
        return options.fallback
          ? options.fallback.logs(resource, followOptions)
          : notBuilt(resource, runtimeOf(resource.spec));
      }
      return deployer.logs(resource, {
        instance: followOptions.instance,
        tail: followOptions.tail,
        follow: true,
        ...(followOptions.signal && { signal: followOptions.signal }),
      });
    },
  };
}
