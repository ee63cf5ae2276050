/** @module createRuntimeInspector: dispatches status and logs by runtime. */
import { runtimeOf } from '../registry/index.js';
import type { Registered } from '../registry/index.js';
import { remoteLogs, remoteStatus } from './remote/remote-inspector.js';
import type { ProbeSender, SseProbeSender } from './remote/probe-endpoint.js';
import type { LogsResult, RuntimeInspector, StatusResult, Unavailable } from './runtime-inspector.js';

/** Options for {@link createRuntimeInspector}. */
export interface RuntimeInspectorOptions {
  readonly probeTimeoutMs: number;
  /** How status probes are sent; default the global `fetch` (see `RemoteDeployerOptions.send`). */
  readonly send?: ProbeSender;
  /** How the SSE URLs of `sse` adapters are probed; default the global `fetch`. */
  readonly sendSse?: SseProbeSender;
  readonly clock?: () => Date;
  /** Why a URL must not be contacted (SSRF guard); such an endpoint is reported `Blocked`, never probed. */
  readonly refuseUrl?: (url: string) => string | undefined;
}

// Deployers for images (Kubernetes) and commands (local processes) are not built yet; say so plainly.
function notBuilt(resource: Registered): Unavailable {
  const runtime = runtimeOf(resource.spec);
  return {
    ok: false,
    reason: 'not-built',
    message: `The ${runtime} runtime of '${resource.name}' cannot be run by this gateway: no deployer for it is configured (MCP_GATEWAY_DEPLOYER; see docs/deployers.md).`,
  };
}

/** The inspector for every runtime this build supports. */
export function createRuntimeInspector(options: RuntimeInspectorOptions): RuntimeInspector {
  const probe = {
    timeoutMs: options.probeTimeoutMs,
    send: options.send,
    sendSse: options.sendSse,
    clock: options.clock,
    refuseUrl: options.refuseUrl,
  };
  return {
    async status(resource): Promise<StatusResult> {
      return runtimeOf(resource.spec) === 'endpoints' ? remoteStatus(resource, probe) : notBuilt(resource);
    },
    async logs(resource): Promise<LogsResult> {
      return runtimeOf(resource.spec) === 'endpoints' ? remoteLogs(resource) : notBuilt(resource);
    },
  };
}
