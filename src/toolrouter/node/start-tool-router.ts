/**
 * @module start-tool-router: the tool router as the Node entry points build it (the HTTP server in `main.ts` and
 * the embedded `mcp-gateway stdio`): Node-native outbound HTTP over the data plane's guarded pools, rendezvous
 * hashing with the data plane's defaults (so both rank replicas alike), and upstream identity with one
 * audience per upstream.
 */
import type { Principal, UpstreamCredentials } from '../../auth/index.js';
import type { Logger } from '../../observability/index.js';
import type { RegistryChangeFeed, RegistryStore } from '../../registry/index.js';
import { createRendezvous } from '../../routing/index.js';
import type { ToolRouterReplicas } from '../federation.js';
import type { ToolRouterSettings } from '../../config/index.js';
import { createToolRouter } from '../tool-router.js';
import type { ToolRouter, ToolRouterOptions } from '../tool-router.js';
import type { ToolPolicy } from '../policy/index.js';
import { createNodeOutbound } from './node-outbound.js';
import type { NodeOutboundOptions } from './node-outbound.js';

/** Options for {@link startToolRouter}. */
export interface StartToolRouterOptions {
  readonly store: RegistryStore;
  readonly changes: RegistryChangeFeed;
  readonly replicas: ToolRouterReplicas;
  readonly logger: Logger;
  readonly version: string;
  readonly settings: ToolRouterSettings;
  /** Told about every `tools/call` (metrics, audit log). */
  readonly onToolCall?: ToolRouterOptions['onToolCall'];
  /** Told of changed and approved federated tool definitions (metrics, audit log). */
  readonly onToolDefinition?: ToolRouterOptions['onToolDefinition'];
  /** The data plane's connection pools (`createNodeAgents`) and its SSRF verdict. */
  readonly agents: NodeOutboundOptions;
  /** The gateway's public URL: upstream identity JWTs name `{publicUrl}/adapters/{name}/mcp` or `{publicUrl}/tools/{name}`. */
  readonly publicUrl: string;
  /** Identity headers for an upstream with this audience (`auth.upstreamIdentity.headersFor`). */
  readonly headersFor: (
    principal: Principal,
    audience: string,
  ) => Record<string, string> | Promise<Record<string, string>>;
  /** Adapters' and tools' own credentials for their upstreams (`upstreamAuth`). */
  readonly upstreamCredentials?: UpstreamCredentials;
  /** The tool policy (`MCP_GATEWAY_TOOL_POLICY_FILE`, see {@link readToolPolicyFile}); everything allowed when absent. */
  readonly policy?: ToolPolicy;
  /** The gateway secret (and those of a rotation under way), for the routing state the router seals. */
  readonly secret?: string;
  readonly previousSecrets?: readonly string[];
  /** Told of every refused routing state or task id (audit log). */
  readonly onRoutingRefused?: ToolRouterOptions['onRoutingRefused'];
}

/** Builds the router with Node I/O. */
export async function startToolRouter(options: StartToolRouterOptions): Promise<ToolRouter> {
  const { publicUrl } = options;
  return createToolRouter({
    store: options.store,
    changes: options.changes,
    replicas: options.replicas,
    rendezvous: await createRendezvous(),
    identityHeaders: async (principal, resource) =>
      options.headersFor(
        principal,
        resource.kind === 'adapter'
          ? `${publicUrl}/adapters/${resource.name}/mcp`
          : `${publicUrl}/tools/${resource.name}`,
      ),
    upstreamCredentials: options.upstreamCredentials,
    logger: options.logger,
    version: options.version,
    outbound: createNodeOutbound(options.agents),
    onToolCall: options.onToolCall,
    onToolDefinition: options.onToolDefinition,
    settings: options.settings,
    ...(options.policy && { policy: options.policy }),
    connectUrl: (adapter) => `${publicUrl.replace(/\/+$/, '')}/connect/${encodeURIComponent(adapter)}`,
    ...(options.secret !== undefined && { secret: options.secret }),
    ...(options.previousSecrets && { previousSecrets: options.previousSecrets }),
    ...(options.onRoutingRefused && { onRoutingRefused: options.onRoutingRefused }),
  });
}
