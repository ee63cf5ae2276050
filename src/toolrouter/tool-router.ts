/**
 * @module tool-router: the MCP server at `/mcp`. Stateless on the gateway side: every request is answered by a
 * fresh SDK server instance bound to the caller's principal (`createMcpHandler`: 2026-07-28 natively, 2025
 * requests statelessly), over a catalog that every instance rebuilds from the shared registry — so any gateway
 * instance answers any request, cursors included. `tools/list` is the caller's readable tools in name order with
 * the router's own cursors; `tools/call` goes to a registered tool server or a federated adapter. Changes reach
 * legacy clients on the GET stream and modern clients on `subscriptions/listen` (served per caller by
 * `caller-subscriptions.ts`, not the SDK's broadcast): each hears only of changes to their own list. Modern
 * clients also subscribe there to the resources of their scope and hear of its list changes
 * (`resource-subscriptions.ts`).
 *
 * With `discovery: 'search'` the list is just `search_tools` and `call_tool` (`discovery-tools.ts`): a search over
 * the caller's visible tools (`tool-search.ts`), and a call that takes the very path of a direct `tools/call`.
 * That list never changes, so no `list_changed` is sent then; a direct `tools/call` by a tool's name still works.
 *
 * Toolsets (`/toolsets/{name}/mcp`) are the same server over a scope: the catalog narrowed to a toolset's members
 * and renamed as it says (`toolset-scope.ts`, the one place that filter and mapping live), with an endpoint of its
 * own (list-change streams, subscriptions, search index), made on first use and dropped when the toolset goes.
 */
import {
  CLIENT_CAPABILITIES_META_KEY,
  InMemoryServerEventBus,
  ProtocolError,
  ProtocolErrorCode,
  Server,
  UrlElicitationRequiredError,
  createMcpHandler,
  inputRequired,
  isInputRequiredResult,
} from '@modelcontextprotocol/server';
import type {
  CallToolRequestParams,
  CallToolResult,
  InputRequiredResult,
  ListToolsResult,
  ServerContext,
} from '@modelcontextprotocol/server';
import {
  ConnectionRequiredError,
  NO_UPSTREAM_CREDENTIALS,
  UpstreamCredentialError,
  canRead,
  formatBearerChallenge,
  isAdmin,
} from '../auth/index.js';
import type { Principal, UpstreamCredentials } from '../auth/index.js';
import type { RuntimeInspector } from '../deploy/index.js';
import { NO_SPAN, traceIdOf } from '../observability/index.js';
import type { Logger, SpanHandle } from '../observability/index.js';
import { runtimeOf } from '../registry/index.js';
import type {
  RegisteredToolset,
  RegistryChangeFeed,
  RegistryStore,
  Registered,
  ToolsetSpec,
} from '../registry/index.js';
import { createXxh64Hash } from '../routing/index.js';
import type { Rendezvous } from '../routing/index.js';
import { offerOf } from './aggregate-offer.js';
import type { EndpointOffer } from './aggregate-offer.js';
import { createCallerLists } from './caller-lists.js';
import { createFederatedResources } from './federated-resources.js';
import { resourceScopeOf } from './resource-scope.js';
import { withResultUris } from './resource-uris.js';
import { createCatalog } from './catalog.js';
import type { Catalog, CatalogEntry, CatalogSnapshot, FederationState } from './catalog.js';
import {
  CALL_TOOL,
  DEFAULT_SEARCH_LIMIT,
  DISCOVERY_TOOLS,
  SEARCH_TOOLS,
  SEARCH_TOOLS_TOOL,
  CALL_TOOL_TOOL,
  searchResult,
} from './discovery-tools.js';
import { createToolSearch } from './tool-search.js';
import type { ToolSearch } from './tool-search.js';
import { createToolsetCatalog, realEntryOf, scopeSnapshot, unresolvedFor } from './toolset-scope.js';
import type { ToolsetCatalog } from './toolset-scope.js';
import { createToolsetDirectory } from './toolset-directory.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { LISTING_PRINCIPAL, createFederation } from './federation.js';
import type { IdentityHeadersFor, ToolRouterReplicas } from './federation.js';
import { createHttpToolExecutor } from './http-tool-executor.js';
import { createListChangedStreams } from './list-changed-streams.js';
import { createEndpointSubscriptions } from './caller-subscriptions.js';
import { createResourceListenSource } from './resource-subscriptions.js';
import { fetchOutbound } from './outbound.js';
import { progressRelay, withoutEnvelope } from './progress-relay.js';
import { createMultiRoundTrip } from './mrtr.js';
import type { RoutingRefusal } from './mrtr.js';
import { createRoutingStateSealer } from './routing-state.js';
import {
  TASKS_EXTENSION,
  callerCapabilities,
  callerTakesTasks,
  createTaskRouting,
  isTaskResult,
} from './tasks.js';
import type { TaskResult } from './tasks.js';
import { z } from 'zod';
import { parsedBodyOf } from './request-body.js';
import {
  fastCallContext,
  isPlainResult,
  plainResultResponse,
  plainToolCallOf,
  settledOutcomeOf,
  withOutcome,
} from './fast-call.js';
import type { FastCallOutcome } from './fast-call.js';
import {
  connectionChannels,
  createServerRequestRelay,
  initializeCapabilitiesOf,
  noChannels,
  relayCapabilitiesOf,
  smallJsonOf,
} from './server-request-relay.js';
import type {
  CallerChannel,
  CallerChannels,
  CallerSession,
  RelayCapabilities,
} from './server-request-relay.js';
import type { Outbound } from './outbound.js';
import { TOOL_ROUTER_DEFAULTS } from '../config/index.js';
import type { ToolRouterSettings } from '../config/index.js';
import { createPinningGate, heldToolRefusal } from './pinning-gate.js';
import type { ApprovalRefusal, PinnedToolDefinition, ToolDefinitionEvent } from './pinning-gate.js';
import { createToolNamer } from './tool-names.js';
import { checkedOutput, createToolSchemas } from './tool-schemas.js';
import {
  ALLOW_ALL_POLICY,
  ToolPolicyDenied,
  allOfPolicies,
  createPolicyGate,
  toolPolicyFrom,
} from './policy/index.js';
import type { PolicyGate, ToolPolicy } from './policy/index.js';

/** One `tools/call` through the router, as metrics and the audit log see it (never its arguments). */
export interface RouterToolCall {
  /** The caller's user id. */
  readonly principal: string;
  /** The name the caller called. */
  readonly tool: string;
  /** What served it: a registered tool, or the adapter a federated tool belongs to; undefined when unknown. */
  readonly resource: { readonly kind: 'tool' | 'adapter'; readonly name: string } | undefined;
  /**
   * `rejected`: unknown tool or bad request; `denied`: refused by the tool policy; `failed`: a tool error, or the
   * tool server or adapter did not answer.
   */
  readonly outcome: 'success' | 'rejected' | 'denied' | 'failed';
  /** The tool-policy rule that refused a `denied` call (`default`: the policy's default). */
  readonly policyRule?: string;
  readonly seconds: number;
  /** From the caller's `traceparent`, when it sent one. */
  readonly traceId: string | undefined;
}

const resourceOf = (entry: CatalogEntry): RouterToolCall['resource'] =>
  entry.target.kind === 'registered'
    ? { kind: 'tool', name: entry.target.resource.name }
    : { kind: 'adapter', name: entry.target.adapter.name };

/** Options for {@link createToolRouter}. */
export interface ToolRouterOptions {
  readonly store: RegistryStore;
  /** How this instance learns of other instances' writes; a store that cannot tell makes the catalog rely on its max age. */
  readonly changes: RegistryChangeFeed;
  /** Ready replicas of tools and adapters (the deployers' resolver, as the data plane uses). */
  readonly replicas: ToolRouterReplicas;
  readonly rendezvous: Rendezvous;
  /** What upstreams learn about the caller (never the caller's token). */
  readonly identityHeaders: IdentityHeadersFor;
  /** Adapters' and tools' own credentials for their upstreams (`upstreamAuth`); none by default (such calls fail). */
  readonly upstreamCredentials?: UpstreamCredentials;
  readonly logger: Logger;
  /** Reported as the server version. */
  readonly version: string;
  /** HTTP to tool servers and adapters; `fetch` by default, the Node pools in `main.ts`. */
  readonly outbound?: Outbound;
  /** Told about every `tools/call` (metrics, audit log); must not throw. Nothing by default. */
  readonly onToolCall?: (call: RouterToolCall) => void;
  /** Told when a federated tool's definition is found changed from its pin, and when a change is approved. */
  readonly onToolDefinition?: (event: ToolDefinitionEvent) => void;
  /** Milliseconds from an arbitrary origin, for call durations; injected for tests. */
  readonly now?: () => number;
  readonly settings?: Partial<ToolRouterSettings>;
  /** Decides what each caller sees and may call (`MCP_GATEWAY_TOOL_POLICY_FILE`); everything by default. */
  readonly policy?: ToolPolicy;
  /** The absolute `/connect/{adapter}` URL where a caller connects an `oauth-user` adapter. */
  readonly connectUrl?: (adapter: string) => string;
  /**
   * The gateway secret, for the routing state the router seals (multi-round-trip `requestState`, task ids): every
   * gateway instance must share it. A random one per process by default (then a retry must reach the same one).
   */
  readonly secret?: string;
  readonly previousSecrets?: readonly string[];
  /** Told of every refused routing state or task id (the audit log); must not throw. Nothing by default. */
  readonly onRoutingRefused?: (refusal: RoutingRefusal) => void;
}

/** How an endpoint's tool names map to the catalog's (for the per-(caller, tool) rate limit). */
export interface ToolNames {
  /** `call_tool` calls the tool it names. */
  readonly searchMode: boolean;
  /** The catalog's name of a tool the endpoint shows as `shown` (a toolset's rename); `shown` when unknown. */
  realName(shown: string): string;
}

/** The approval side of tool-definition pinning (`/adapters/{name}/tools`). */
export interface ToolDefinitionPins {
  /** The pins of a federated adapter with their state (listing it on this instance first when it was not yet). */
  definitions(adapter: Registered<'adapter'>): Promise<PinnedToolDefinition[]>;
  /** Re-pins `tool` to its current definition; `expectedHash` must be that definition's hash when given. */
  approve(
    adapter: Registered<'adapter'>,
    tool: string,
    approver: Principal,
    expectedHash?: string,
  ): Promise<PinnedToolDefinition | ApprovalRefusal>;
}

/** The tool router. */
export interface ToolRouter {
  readonly settings: ToolRouterSettings;
  /** Tool-definition pins of federated adapters (`MCP_GATEWAY_TOOL_PINNING`). */
  readonly pins: ToolDefinitionPins;
  /**
   * Answers one HTTP request on `/mcp` for an authenticated principal. `span` is the request's SERVER span: each
   * federated call is a CLIENT child of it, whose trace context the adapter's upstream receives.
   */
  fetch(request: Request, principal: Principal, span?: SpanHandle): Promise<Response>;
  /**
   * Answers one HTTP request on `/toolsets/{name}/mcp`: that toolset's members only, renamed as it says, each
   * only if the caller may use it; 404 for an unknown toolset, 403 for a caller who may not read it.
   */
  fetchToolset(name: string, request: Request, principal: Principal, span?: SpanHandle): Promise<Response>;
  /** A toolset's names, for limiting its calls as the tools they stand for; undefined for an unknown toolset. */
  toolsetNames(name: string): Promise<ToolNames | undefined>;
  /** How a toolset's members resolve for `principal` now (for the control plane's read of it). */
  toolsetStatus(spec: ToolsetSpec, principal: Principal): Promise<{ tools: number; unresolved: string[] }>;
  /** A server instance bound to `principal` (one per stdio connection, or per HTTP request). */
  serverFor(principal: Principal): Server;
  /** Told whenever the merged tool list changes (a stdio front door re-announces it). */
  onToolsChanged(listener: () => void): () => void;
  /** A control-plane write on this instance: rebuild the catalog now. */
  invalidate(): void;
  /** The router's view of a federated adapter, for its status. */
  federationStatus(adapter: string): FederationState | undefined;
  /** How many clients of this instance listen for list changes (legacy GET streams, modern subscriptions). */
  listeners(): number;
  /**
   * Shutdown began: ends the legacy GET streams and closes `subscriptions/listen` streams gracefully (their
   * clients reconnect to another instance); calls go on.
   */
  drain(): void;
  /** `inspector` with a `federation` block added to the status of federated adapters. */
  withFederationStatus(inspector: RuntimeInspector): RuntimeInspector;
  close(): Promise<void>;
}

const SERVER_NAME = 'mcp-gateway';
const INSTRUCTIONS =
  'Tools registered with MCP Gateway and the tools of federated adapters (named {adapter}__{tool}), filtered to what you may use.';
const SEARCH_INSTRUCTIONS =
  'MCP Gateway: many tools, found by search. Call search_tools with a few words of what you want to do, then call_tool with the name and arguments of the tool you choose.';

/** The fingerprint of the two-tool list of search mode: the same for everyone, always. */
const SEARCH_MODE_FINGERPRINT = 'search';

/**
 * The catalog as the list-change streams see it in search mode: every caller's list (the two search tools)
 * stays the same whatever the catalog does, so no stream is ever told of a change.
 */
function unchangingList(catalog: Catalog): Catalog {
  return {
    snapshot: () => catalog.snapshot(),
    visible: (snapshot, principal) => catalog.visible(snapshot, principal),
    fingerprintFor: () => SEARCH_MODE_FINGERPRINT,
    invalidate: () => catalog.invalidate(),
    onChange: () => () => undefined,
    federationStatus: (adapter) => catalog.federationStatus(adapter),
    close: () => undefined,
  };
}

/** Why no deployer configured here runs `resource` (the deployer inspector says the same), or undefined. */
function unavailableReason(replicas: ToolRouterReplicas, resource: Registered): string | undefined {
  if (!replicas.runs || replicas.runs(resource)) return undefined;
  return `The ${runtimeOf(resource.spec)} runtime of '${resource.name}' cannot be run by this gateway: no deployer for it is configured (MCP_GATEWAY_DEPLOYER; see docs/deployers.md).`;
}

const unavailableResult = (reason: string): CallToolResult => ({
  isError: true,
  content: [{ type: 'text', text: reason }],
});

/** The first index whose name is greater than `after` (the list is in name order). */
function indexAfter(entries: readonly CatalogEntry[], after: string): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (entries[mid]!.name <= after) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** What one MCP endpoint of the router serves: the whole catalog (`/mcp`) or a toolset's, and how. */
interface RouterScope {
  readonly catalog: Catalog;
  /** What its callers see and may call: the gateway's tool policy, and a toolset's own with it. */
  readonly policy: PolicyGate;
  /** `search_tools`/`call_tool` instead of the list. */
  readonly searchMode: boolean;
  /** Search mode's index over this scope's tools. */
  readonly search: ToolSearch | undefined;
  /** Stops keeping the index current (and closes a toolset's catalog). */
  readonly stop: () => void;
}

/** One scope's HTTP endpoint. */
interface ScopeEndpoint {
  fetch(request: Request, principal: Principal, span?: SpanHandle): Promise<Response>;
  listeners(): number;
  drain(): void;
  close(): Promise<void>;
}

/** A toolset endpoint this instance serves. */
interface ServedToolset {
  /** What it was made with (see `shapeOf`). */
  readonly shape: string;
  readonly endpoint: ScopeEndpoint;
  readonly catalog: ToolsetCatalog;
}

/**
 * A scope over `catalog`. Search mode: one index for every caller of the scope, brought up to date when its
 * catalog changes (and on the first search).
 */
function scopeOf(
  catalog: Catalog,
  policy: PolicyGate,
  searchMode: boolean,
  logger: Logger,
  owned?: Catalog,
): RouterScope {
  const search = searchMode ? createToolSearch() : undefined;
  const stopIndexing = search
    ? catalog.onChange((snapshot) => {
        search
          .update(snapshot)
          .catch((error: unknown) => logger.error({ err: error }, 'tool search index update failed'));
      })
    : () => undefined;
  return {
    catalog,
    policy,
    searchMode,
    search,
    stop: () => {
      stopIndexing();
      owned?.close();
    },
  };
}

/** `tasks/*` params and results as the extension shapes them; the router checks the task id itself. */
const TASK_REQUEST_SCHEMAS = {
  params: z.looseObject({ taskId: z.string() }),
  result: z.looseObject({}),
};

/** A per-process secret when none is given: routing state then opens on this process only. */
function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function jsonRpcError(
  status: number,
  message: string,
  headers: Record<string, string> = {},
  code = -32000,
): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } }), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/** Builds the router: catalog, executors and the SDK handler. */
export async function createToolRouter(options: ToolRouterOptions): Promise<ToolRouter> {
  const settings: ToolRouterSettings = { ...TOOL_ROUTER_DEFAULTS, ...options.settings };
  const { logger } = options;
  const outbound = options.outbound ?? fetchOutbound();
  const upstreamCredentials = options.upstreamCredentials ?? NO_UPSTREAM_CREDENTIALS;
  const hash = await createXxh64Hash();
  const inputSchemas = createToolSchemas(logger, 'arguments');
  const outputSchemas = createToolSchemas(logger, 'structuredContent');
  const federation = createFederation({
    outbound,
    replicas: options.replicas,
    rendezvous: options.rendezvous,
    identityHeaders: options.identityHeaders,
    upstreamCredentials,
    logger,
    connectTimeoutMs: settings.connectTimeoutMs,
    listTimeoutMs: settings.listTimeoutMs,
    clientInfo: { name: `${SERVER_NAME}-tool-router`, version: options.version },
    ...(options.connectUrl && { connectUrl: options.connectUrl }),
    hash,
    lean: settings.fastPath !== false,
  });
  const pinning = createPinningGate({
    mode: settings.pinning,
    store: options.store,
    logger,
    listingPrincipal: LISTING_PRINCIPAL.userId,
    ...(options.onToolDefinition && { onEvent: options.onToolDefinition }),
  });
  const catalog = createCatalog({
    store: options.store,
    pinning,
    changes: options.changes,
    federation,
    namer: createToolNamer({ separator: settings.separator, maxLength: settings.maxNameLength, hash }),
    hash,
    logger,
    retryMs: settings.retryMs,
    refreshMs: settings.refreshMs,
    registryMaxAgeMs: settings.registryMaxAgeMs,
    unavailable: (resource) => unavailableReason(options.replicas, resource),
    upstreamCredentials,
    separator: settings.separator,
  });
  /** Lists of upstreams that answered the router's own listing as `private`: asked per caller. */
  const callerLists = createCallerLists({ federation, catalog, refreshMs: settings.refreshMs, logger });
  /** `resources/*` of federated adapters (`federated-resources.ts`), over each caller's scope. */
  const federatedResources = createFederatedResources({
    federation,
    logger,
    refreshMs: settings.refreshMs,
    readTimeoutMs: settings.callTimeoutMs,
    pageSize: settings.pageSize,
  });
  const executor = createHttpToolExecutor({
    outbound,
    replicas: options.replicas,
    rendezvous: options.rendezvous,
    identityHeaders: options.identityHeaders,
    upstreamCredentials,
    logger,
    connectTimeoutMs: settings.connectTimeoutMs,
    defaultTimeoutMs: settings.callTimeoutMs,
    maxResultBytes: settings.maxResultBytes,
    outputSchemas,
  });
  const routingState = await createRoutingStateSealer({
    secret: options.secret ?? randomSecret(),
    ...(options.previousSecrets && { previousSecrets: options.previousSecrets }),
  });
  const multiRoundTrip = createMultiRoundTrip({
    sealer: routingState,
    ...(options.onRoutingRefused && { onRefused: options.onRoutingRefused }),
  });
  const taskRouting = createTaskRouting({
    outbound,
    replicas: options.replicas,
    rendezvous: options.rendezvous,
    identityHeaders: options.identityHeaders,
    upstreamCredentials,
    sealer: routingState,
    logger,
    connectTimeoutMs: settings.connectTimeoutMs,
    callTimeoutMs: settings.callTimeoutMs,
    clientInfo: { name: `${SERVER_NAME}-tool-router`, version: options.version },
    adapterFor: async (name, principal) => {
      for (const entry of (await catalog.snapshot()).byName.values()) {
        if (entry.target.kind !== 'federated' || entry.target.adapter.name !== name) continue;
        return canRead(principal, entry.target.adapter) ? entry.target.adapter : undefined;
      }
      return undefined;
    },
    ...(options.onRoutingRefused && { onRefused: options.onRoutingRefused }),
  });
  const searchMode = settings.discovery === 'search';
  /** Upstreams' server requests to 2025 HTTP callers, and their answers (every endpoint shares it). */
  const relay = createServerRequestRelay();
  /** `/mcp`: every tool the caller may use. */
  const everything = scopeOf(catalog, createPolicyGate(options.policy), searchMode, logger);
  const toolsets = createToolsetDirectory({
    store: options.store,
    changes: options.changes,
    logger,
    maxAgeMs: settings.registryMaxAgeMs,
  });
  const scopeOptions = { separator: settings.separator, hash };

  /** The caller's list in `scope`: the tools it may read, as far as the scope's tool policy lists them. */
  const listedTo = (scope: RouterScope, snapshot: CatalogSnapshot, principal: Principal) =>
    scope.policy.listed(snapshot, scope.catalog.visible(snapshot, principal), principal);

  /** {@link listedTo}, without the tools of `private` upstreams that do not list them to `principal`. */
  const listedFor = async (scope: RouterScope, snapshot: CatalogSnapshot, principal: Principal) =>
    callerLists.narrow(listedTo(scope, snapshot, principal), principal);

  /** What an endpoint offers over one snapshot of its catalog (capabilities, cache lifetime), once per snapshot. */
  const offers = new WeakMap<CatalogSnapshot, EndpointOffer>();
  function offerFor(scope: RouterScope, snapshot: CatalogSnapshot): EndpointOffer {
    let offer = offers.get(snapshot);
    if (!offer) {
      const adapters = new Map<string, Registered<'adapter'>>();
      for (const entry of snapshot.entries) {
        const { target } = realEntryOf(entry);
        if (target.kind === 'federated') adapters.set(target.adapter.name, target.adapter);
      }
      // On `/mcp`, federated adapters without tools serve their resources too (`resource-scope.ts`).
      const toolless =
        scope === everything
          ? catalog.federatedAdapters().filter((adapter) => !adapters.has(adapter.name))
          : [];
      offer = offerOf({
        searchMode: scope.searchMode,
        upstreams: [...adapters.values()].flatMap((adapter) => catalog.upstreamListing(adapter) ?? []),
        resourceOnly: toolless.flatMap((adapter) => catalog.upstreamListing(adapter) ?? []),
        maxTtlMs: settings.registryMaxAgeMs,
        refreshMs: settings.refreshMs,
      });
      offers.set(snapshot, offer);
    }
    return offer;
  }

  async function listTools(
    scope: RouterScope,
    principal: Principal,
    cursor: string | undefined,
  ): Promise<ListToolsResult> {
    if (scope.searchMode) {
      // One page, never a next one: no cursor of this server can be valid.
      if (cursor !== undefined) {
        throw new ProtocolError(
          ProtocolErrorCode.InvalidParams,
          'Invalid cursor: use a nextCursor from this server.',
        );
      }
      return { tools: [...DISCOVERY_TOOLS] };
    }
    const visible = await listedFor(scope, await scope.catalog.snapshot(principal), principal);
    let start = 0;
    if (cursor !== undefined) {
      const after = decodeCursor(cursor);
      if (after === undefined) {
        throw new ProtocolError(
          ProtocolErrorCode.InvalidParams,
          'Invalid cursor: use a nextCursor from this server.',
        );
      }
      start = indexAfter(visible, after);
    }
    const page = visible.slice(start, start + settings.pageSize);
    const last = page.at(-1);
    return {
      // Only admins see unavailable tools (see `catalog.visible`), with the reason in `_meta`.
      tools: page.map((entry) => entry.unavailable?.tool ?? entry.tool),
      ...(last && start + page.length < visible.length && { nextCursor: encodeCursor(last.name) }),
    };
  }

  async function findEntry(
    scope: RouterScope,
    name: string,
    principal: Principal,
  ): Promise<CatalogEntry | undefined> {
    const entry = (await scope.catalog.snapshot(principal)).byName.get(name);
    if (entry) return entry;
    // Maybe registered a moment ago through another instance, before its change notice arrived here.
    scope.catalog.invalidate();
    return (await scope.catalog.snapshot(principal)).byName.get(name);
  }

  /**
   * A name of an `oauth-user` or `token-exchange` adapter's the caller has no tools of: when they have no usable
   * grant, the call asks them to connect (the tools are listed to them once they did); when their token cannot
   * be exchanged, the call is a tool error saying why (the {@link UpstreamCredentialError}, which names the
   * authorization server's answer and never a token); otherwise the tool is unknown.
   */
  async function connectionNeededFor(
    scope: RouterScope,
    name: string,
    principal: Principal,
  ): Promise<UpstreamCredentialError | undefined> {
    const adapter = scope.catalog.personalAdapterOf?.(name, principal);
    if (!adapter) return undefined;
    try {
      await upstreamCredentials.resolve(adapter, principal);
      return undefined;
    } catch (error) {
      if (error instanceof ConnectionRequiredError) return error;
      if (error instanceof UpstreamCredentialError)
        return adapter.spec.upstreamAuth?.type === 'token-exchange' ? error : undefined;
      throw error;
    }
  }

  async function callTool(
    scope: RouterScope,
    principal: Principal,
    params: CallToolRequestParams,
    ctx: ServerContext,
    span: SpanHandle,
    caller: (ctx: ServerContext) => CallerChannel | undefined,
  ): Promise<{ result: CallToolResult | InputRequiredResult | TaskResult; entry: CatalogEntry }> {
    // A toolset's scope holds only its members, under the names it shows: anything else is unknown here.
    const entry = await findEntry(scope, params.name, principal);
    if (!entry) {
      const refusal = heldToolRefusal((await scope.catalog.snapshot(principal)).held, params.name, principal);
      if (refusal) throw refusal;
      const connect = await connectionNeededFor(scope, params.name, principal);
      if (connect) throw connect;
    }
    // The same answer for a tool that does not exist and one the caller may not use: no existence oracle.
    if (!entry || !canRead(principal, entry.owner) || !(await callerLists.allows(entry, principal))) {
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${params.name}`);
    }
    scope.policy.enforce(principal, entry, params.arguments);
    if (entry.unavailable) {
      // Only an admin gets here (others are told the tool is unknown, as it is not listed for them).
      if (!isAdmin(principal)) {
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${params.name}`);
      }
      return { result: unavailableResult(entry.unavailable.reason), entry };
    }
    const args = params.arguments;
    // Checked before anything goes upstream; the tool receives exactly what was checked.
    const problem = inputSchemas.checkOf(entry.name, entry.tool.inputSchema)?.(args ?? {});
    if (problem !== undefined) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `Invalid arguments for tool '${params.name}': ${problem}`,
      );
    }
    const signal = ctx.mcpReq.signal;
    if (entry.target.kind === 'registered') {
      return { result: await executor.call(entry.target.resource, args, principal, signal), entry };
    }
    const { adapter, upstream } = entry.target;
    // A caller that takes tasks may get a task handle (a retry of a round trip goes the ordinary way).
    if (callerTakesTasks(ctx) && ctx.mcpReq.requestState() === undefined) {
      const result = await taskRouting.callTool(adapter, upstream.name, entry.name, args, principal, ctx);
      if (result) return { result, entry };
    }
    const progress = progressRelay(ctx);
    const channel = caller(ctx);
    // A 2026-07-28 caller answers input requests itself: the upstream is told what it declared on this request.
    const declares = channel ? undefined : relayCapabilitiesOf(callerCapabilities(ctx));
    // An `input_required` answer goes to a 2026 caller sealed, or is bridged for a 2025 caller (`mrtr.ts`).
    const result = await multiRoundTrip.call(
      { adapter, tool: entry.name },
      principal,
      ctx,
      channel,
      (round) =>
        federation.callTool(adapter, upstream, args, principal, {
          signal,
          timeoutMs: settings.callTimeoutMs,
          span,
          ...(progress.onProgress && { onProgress: progress.onProgress }),
          ...(channel && { caller: channel }),
          ...(declares && { declares }),
          ...(round.replica !== undefined && { replica: round.replica }),
          ...(round.retry && { retry: round.retry }),
          onAnswered: round.onAnswered,
        }),
    );
    await progress.flush();
    if (isInputRequiredResult(result)) return { result, entry };
    return {
      // Resource links and embedded resources name the adapter's resources as the router shows them.
      result: withResultUris(
        adapter.name,
        checkedOutput(entry.name, entry.tool.outputSchema, outputSchemas, withoutEnvelope(result)),
      ),
      entry,
    };
  }

  const onToolCall = options.onToolCall;
  /** Who the router says it is (the SDK stamps it into every 2026-07-28 result; so does the fast path). */
  const SERVER_INFO = { name: SERVER_NAME, title: 'MCP Gateway tool router', version: options.version };
  const fastPath = settings.fastPath !== false;
  /** Tools of an endpoint's own that the fast path leaves to the SDK path: search mode's two. */
  const reservedBy = (scope: RouterScope) =>
    scope.searchMode ? (name: string) => name === SEARCH_TOOLS || name === CALL_TOOL : () => false;
  const now = options.now ?? (() => performance.now());

  /** `callTool`, told to `onToolCall` with its outcome. */
  async function observedCall(
    scope: RouterScope,
    principal: Principal,
    params: CallToolRequestParams,
    ctx: ServerContext,
    traceId: string | undefined,
    span: SpanHandle,
    caller: (ctx: ServerContext) => CallerChannel | undefined,
  ): Promise<{ result: CallToolResult | InputRequiredResult | TaskResult; entry: CatalogEntry }> {
    // The fast path made this call already and hands its outcome to the SDK to answer (`fast-call.ts`).
    const settled = settledOutcomeOf<Awaited<ReturnType<typeof callTool>>>(ctx);
    if (settled) return settled();
    if (!onToolCall) return callTool(scope, principal, params, ctx, span, caller);
    const started = now();
    const report = (
      outcome: RouterToolCall['outcome'],
      entry: CatalogEntry | undefined,
      policyRule?: string,
    ) =>
      onToolCall({
        principal: principal.userId,
        tool: params.name,
        resource: entry && resourceOf(entry),
        outcome,
        seconds: (now() - started) / 1000,
        traceId,
        ...(policyRule !== undefined && { policyRule }),
      });
    try {
      const called = await callTool(scope, principal, params, ctx, span, caller);
      // A tool error (including an unreachable tool server, which the executor answers as one) is a failed call.
      report((called.result as { isError?: unknown }).isError === true ? 'failed' : 'success', called.entry);
      return called;
    } catch (err) {
      if (err instanceof ToolPolicyDenied) report('denied', err.entry, err.rule);
      // Unknown (or not the caller's) tool: named by nothing, so an unknown name cannot grow a label set.
      else if (err instanceof ProtocolError && err.code === ProtocolErrorCode.InvalidParams)
        report('rejected', undefined);
      else
        report(
          'failed',
          await scope.catalog.snapshot(principal).then(
            (s) => s.byName.get(params.name),
            () => undefined,
          ),
        );
      throw err;
    }
  }

  /** The arguments of one of the two search tools, checked against its own schema as any tool's are. */
  function checkedArguments(tool: typeof SEARCH_TOOLS_TOOL, args: Record<string, unknown> | undefined) {
    const problem = inputSchemas.checkOf(tool.name, tool.inputSchema)?.(args ?? {});
    if (problem !== undefined) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `Invalid arguments for tool '${tool.name}': ${problem}`,
      );
    }
    return args ?? {};
  }

  async function searchTools(
    scope: RouterScope,
    principal: Principal,
    args: Record<string, unknown> | undefined,
  ) {
    const { query, limit } = checkedArguments(SEARCH_TOOLS_TOOL, args) as { query: string; limit?: number };
    const { catalog, search } = scope;
    const snapshot = await catalog.snapshot(principal);
    // At once unless this snapshot was never indexed (the first search waits for the build) or is being built.
    // It is the newest snapshot (nothing ran between getting it and here), so the index never goes back.
    await search!.update(snapshot);
    // The caller's own list, the very one `tools/list` would serve in list mode: the search never shows more.
    const found = search!.search(
      await listedFor(scope, snapshot, principal),
      query,
      limit ?? DEFAULT_SEARCH_LIMIT,
    );
    return searchResult(found);
  }

  /** What `principal` may reach of the federated resources in `scope` now (`resource-scope.ts`). */
  async function resourcesIn(scope: RouterScope, principal: Principal) {
    const snapshot = await scope.catalog.snapshot(principal);
    return resourceScopeOf({
      snapshot,
      listed: await listedFor(scope, snapshot, principal),
      principal,
      // Only `/mcp` serves adapters that offer no tools; a toolset serves its tools' adapters only.
      toolless: scope === everything ? catalog.federatedAdapters() : [],
      runs: (adapter) => !options.replicas.runs || options.replicas.runs(adapter),
    });
  }

  /** `resources/list`, `resources/templates/list` and `resources/read` on `server` (its offer has `resources`). */
  function serveResources(server: Server, scope: RouterScope, principal: Principal): void {
    server.setRequestHandler('resources/list', async (request) => {
      const page = await federatedResources.resources(
        await resourcesIn(scope, principal),
        principal,
        request.params?.cursor,
      );
      return { resources: page.items, ...(page.nextCursor && { nextCursor: page.nextCursor }) };
    });
    server.setRequestHandler('resources/templates/list', async (request) => {
      const page = await federatedResources.templates(
        await resourcesIn(scope, principal),
        principal,
        request.params?.cursor,
      );
      return { resourceTemplates: page.items, ...(page.nextCursor && { nextCursor: page.nextCursor }) };
    });
    server.setRequestHandler('resources/read', async (request, ctx) =>
      federatedResources.read(
        await resourcesIn(scope, principal),
        principal,
        request.params.uri,
        ctx.mcpReq.signal,
      ),
    );
  }

  /** The last offer of each scope, for server instances made without a snapshot at hand (stdio). */
  const lastOffers = new WeakMap<RouterScope, EndpointOffer>();

  /**
   * `channels`: how the upstreams' server requests reach this server's client — by default the server's own
   * connection (stdio); HTTP requests pass the stateless one of {@link relay}. `offer`: what the endpoint
   * offers (`aggregate-offer.ts`), by default the scope's last one.
   */
  function serverFor(
    principal: Principal,
    traceId?: string,
    span: SpanHandle = NO_SPAN,
    scope: RouterScope = everything,
    channels: CallerChannels = connectionChannels,
    offer: EndpointOffer = lastOffers.get(scope) ??
      offerOf({
        searchMode: scope.searchMode,
        upstreams: [],
        maxTtlMs: settings.registryMaxAgeMs,
        refreshMs: settings.refreshMs,
      }),
    /** A 2026-07-28 request: told of resource subscriptions and list changes (`subscriptions/listen`). */
    modern = false,
  ): Server {
    const { searchMode } = scope;
    // The same for `server/discover` and `initialize` (see `aggregate-offer.ts`); the lists are filtered by
    // identity, so their 2026-07-28 answers are `private` (2025-era answers carry no cache fields).
    const hint = { ttlMs: offer.ttlMs, cacheScope: 'private' as const };
    const server = new Server(
      { ...SERVER_INFO },
      {
        // The Tasks extension is the router's own (`tasks.ts` routes `tasks/*`), not merged from upstreams.
        capabilities: {
          ...offer.capabilities,
          ...(offer.capabilities.resources &&
            modern && { resources: { ...offer.capabilities.resources, ...offer.listenResources } }),
          extensions: { ...offer.capabilities.extensions, [TASKS_EXTENSION]: {} },
        },
        instructions: searchMode ? SEARCH_INSTRUCTIONS : INSTRUCTIONS,
        cacheHints: {
          'tools/list': hint,
          'server/discover': hint,
          ...(offer.capabilities.resources && {
            'resources/list': hint,
            'resources/templates/list': hint,
          }),
        },
      },
    );
    server.setRequestHandler('tools/list', (request) => listTools(scope, principal, request.params?.cursor));
    if (offer.capabilities.resources) serveResources(server, scope, principal);
    // The Tasks extension's methods (2026-07-28): routed to the replica that holds the task (`tasks.ts`).
    for (const method of ['tasks/get', 'tasks/update', 'tasks/cancel'] as const) {
      server.setRequestHandler(method, TASK_REQUEST_SCHEMAS, (params, ctx) =>
        taskRouting.handle(method, params as Record<string, unknown>, principal, ctx),
      );
    }
    server.setRequestHandler('tools/call', async (request, ctx) => {
      let params = request.params;
      if (searchMode && params.name === SEARCH_TOOLS) {
        return server.projectCallToolResult(
          await searchTools(scope, principal, params.arguments),
          SEARCH_TOOLS_TOOL.outputSchema,
        );
      }
      if (searchMode && params.name === CALL_TOOL) {
        // Then exactly a direct call of the named tool: the same lookup, permission check, argument check,
        // executor and report to `onToolCall` (under the named tool's name). It never names a search tool.
        const through = checkedArguments(CALL_TOOL_TOOL, params.arguments) as {
          name: string;
          arguments?: Record<string, unknown>;
        };
        params = {
          ...(params._meta && { _meta: params._meta }),
          name: through.name,
          ...(through.arguments !== undefined && { arguments: through.arguments }),
        };
      }
      let called: { result: CallToolResult | InputRequiredResult | TaskResult; entry: CatalogEntry };
      try {
        called = await observedCall(scope, principal, params, ctx, traceId, span, (c) => channels(server, c));
      } catch (error) {
        if (error instanceof ConnectionRequiredError) return connectionRequired(error, ctx);
        // A `token-exchange` adapter's tool whose caller's token the authorization server would not exchange.
        if (error instanceof UpstreamCredentialError)
          return { isError: true, content: [{ type: 'text', text: error.message }] };
        throw error;
      }
      const { result, entry } = called;
      if (isInputRequiredResult(result)) return result;
      // A task handle: the extension's own result shape, not a CallToolResult to project.
      if (isTaskResult(result)) return result as unknown as CallToolResult;
      // Era-specific shaping of the result (text mirror of structured content where the revision wants it).
      return server.projectCallToolResult(result, entry.tool.outputSchema);
    });
    return server;
  }

  /**
   * The answer to a call of an `oauth-user` adapter's tool by a caller without a usable grant, as the data plane
   * gives it where the protocol lets it: on the 2025 revisions the URL elicitation error (-32042) naming
   * `/connect/{adapter}` (a stateless 2025 request cannot say what its client declared, so it always gets it, as
   * on the data plane); on 2026-07-28, which has no -32042, a URL-mode elicitation as an input-required result
   * when the request declares URL elicitation (the client opens the URL and retries), else a tool error whose
   * text names the URL.
   */
  function connectionRequired(
    error: ConnectionRequiredError,
    ctx: ServerContext,
  ): CallToolResult | InputRequiredResult {
    const envelope = ctx.mcpReq.envelope;
    if (envelope === undefined) {
      throw new UrlElicitationRequiredError(
        [{ mode: 'url', elicitationId: crypto.randomUUID(), url: error.connectUrl, message: error.message }],
        error.message,
      );
    }
    const capabilities = (envelope as Record<string, unknown>)[CLIENT_CAPABILITIES_META_KEY] as
      { elicitation?: { url?: unknown } } | undefined;
    if (capabilities?.elicitation?.url !== undefined) {
      return inputRequired({
        inputRequests: {
          connect: inputRequired.elicitUrl({ url: error.connectUrl, message: error.message }),
        },
      });
    }
    return { isError: true, content: [{ type: 'text', text: error.message }] };
  }

  /** The HTTP endpoint of one scope: both eras, its own list-change streams and subscriptions. */
  function endpointFor(scope: RouterScope): ScopeEndpoint {
    const streams = createListChangedStreams({
      catalog: scope.searchMode ? unchangingList(scope.catalog) : scope.catalog,
      logger,
      maxAgeMs: settings.streamMaxAgeMs,
    });
    // ── subscriptions/listen, per caller (caller-subscriptions.ts; resources: resource-subscriptions.ts) ──
    const resourceListens = createResourceListenSource({
      federation,
      scopeOf: (principal) => resourcesIn(scope, principal),
      capabilitiesOf: (adapter) => catalog.upstreamListing(adapter)?.capabilities,
      onScopeMayChange: (listener) => scope.catalog.onChange(() => listener()),
      timeoutMs: settings.listTimeoutMs,
      logger,
    });
    const listens = createEndpointSubscriptions({
      sources: [resourceListens],
      catalog: scope.catalog,
      listCanChange: !scope.searchMode,
      listed: (snapshot, principal) => listedTo(scope, snapshot, principal),
      serverInfo: { name: SERVER_NAME, title: 'MCP Gateway tool router', version: options.version },
      maxAgeMs: settings.streamMaxAgeMs,
      maxBodyBytes: settings.maxBodyBytes,
      logger,
    });
    // ── end subscriptions/listen ──
    // The SDK's bus is never published to: every listen the SDK would serve is served per caller above.
    const bus = new InMemoryServerEventBus((error) =>
      logger.warn({ err: error.message }, 'list change delivery failed'),
    );
    const handler = createMcpHandler(
      async (ctx) => {
        const extra = ctx.authInfo?.extra as
          { principal?: Principal; traceId?: string; span?: SpanHandle; session?: CallerSession } | undefined;
        // Only reachable through `fetch` below, which always passes the principal.
        if (!extra?.principal) throw new Error('tool router: request without a principal');
        // A 2026-07-28 request has no channel for server requests; a 2025 one has its session's, if any.
        const channels =
          ctx.era === 'modern' ? noChannels : relay.channels(extra.session, extra.principal.userId);
        // What the endpoint offers depends on the upstreams it lists: known once its catalog is built.
        // A failed build (the registry unreachable) leaves the last offer; the request's own method says more.
        const snapshot = await scope.catalog.snapshot().catch(() => undefined);
        const offer = snapshot ? offerFor(scope, snapshot) : undefined;
        if (offer) lastOffers.set(scope, offer);
        return serverFor(
          extra.principal,
          extra.traceId,
          extra.span,
          scope,
          channels,
          offer,
          ctx.era === 'modern',
        );
      },
      {
        bus,
        maxRequestBodySize: settings.maxBodyBytes,
        onerror: (error) => logger.debug({ err: error.message }, 'tool router request refused'),
      },
    );
    return {
      async fetch(request, principal, span) {
        if (request.method === 'GET') return streams.open(request, principal);
        const session = relay.sessionOf(request);
        let declared: RelayCapabilities | undefined;
        if (request.method === 'POST' && session && relay.waiting) {
          // Perhaps a client's answer to a relayed (or bridged) server request: stateless serving would drop it.
          const body = await smallJsonOf(request, settings.maxBodyBytes);
          if (relay.answer(body, session, principal.userId)) return new Response(null, { status: 202 });
        } else if (request.method === 'POST' && !request.headers.has('mcp-session-id')) {
          // Only an `initialize` (sent before any protocol version header) can declare what a client can answer.
          if (!request.headers.has('mcp-protocol-version')) {
            declared = initializeCapabilitiesOf(await smallJsonOf(request, settings.maxBodyBytes));
          }
        }
        // The principal travels in `authInfo`, the SDK's pass-through to the per-request factory.
        const authInfo = {
          token: '',
          clientId: principal.userId,
          scopes: [...(principal.scopes ?? [])],
          extra: {
            principal,
            traceId: traceIdOf(request.headers.get('traceparent')),
            span,
            ...(session && { session }),
          },
        };
        const read = await parsedBodyOf(request, settings.maxBodyBytes);
        // The SDK's answer to a body it cannot read.
        if ('unreadable' in read)
          return jsonRpcError(400, 'Parse error: the request body could not be read', {}, -32700);
        // ── subscriptions/listen, per caller (caller-subscriptions.ts) ──
        const listen = await listens.serve(read.request, read.parsedBody, principal);
        if (listen) return listen;
        // ── end subscriptions/listen ──
        // ── fast path (fast-call.ts): a plain 2026-07-28 tools/call, made without a per-request SDK server; any
        // outcome but a plain result is answered by the SDK below, from what the call gave ──
        let answered: typeof authInfo = authInfo;
        const plain = fastPath ? plainToolCallOf(request, read.parsedBody, reservedBy(scope)) : undefined;
        if (plain) {
          const ctx = fastCallContext(plain, request.signal, authInfo);
          let outcome: FastCallOutcome<Awaited<ReturnType<typeof observedCall>>>;
          try {
            const value = await observedCall(
              scope,
              principal,
              plain.params,
              ctx,
              authInfo.extra.traceId,
              span ?? NO_SPAN,
              () => undefined,
            );
            outcome = { value };
          } catch (error) {
            outcome = { error };
          }
          // As the SDK does when its client went away before the answer.
          if (request.signal.aborted) return new Response(null, { status: 499 });
          if ('value' in outcome && isPlainResult(outcome.value.result))
            return plainResultResponse(plain.id, outcome.value.result, SERVER_INFO);
          answered = { ...authInfo, extra: withOutcome(authInfo.extra, outcome) as typeof authInfo.extra };
        }
        // ── end of fast path ──
        const response = await handler.fetch(read.request, {
          authInfo: answered,
          ...(read.parsedBody !== undefined && { parsedBody: read.parsedBody }),
        });
        const minted = declared && response.ok ? relay.mint(declared) : undefined;
        if (!minted) return response;
        const headers = new Headers(response.headers);
        headers.set('mcp-session-id', minted);
        return new Response(response.body, {
          status: response.status,
          statusText: response.statusText,
          headers,
        });
      },
      listeners: () => streams.size + listens.size + bus.listenerCount,
      drain: () => {
        streams.drain();
        listens.drain();
      },
      async close() {
        listens.close();
        resourceListens.close();
        scope.stop();
        streams.close();
        await handler.close();
      },
    };
  }

  const main = endpointFor(everything);

  /** The endpoints of the toolsets requested on this instance, made on first use, dropped when theirs go. */
  const served = new Map<string, ServedToolset>();
  /** What an endpoint is made with: a change to any of it makes a new one (ending the old one's streams). */
  const shapeOf = (toolset: RegisteredToolset) =>
    JSON.stringify([
      toolset.uid,
      toolset.spec.discovery ?? 'list',
      toolset.createdBy,
      toolset.spec.requiredRoles,
      toolset.spec.policy ?? null,
    ]);

  /**
   * A toolset's policy gate: its own policy and the gateway's, both judging the tools under their real names (a
   * rename is no way around the gateway's rules). The policy was compiled when it was written; should it not
   * compile now (a row written by hand), the toolset refuses everything rather than serve without it.
   */
  function toolsetPolicyGate(toolset: RegisteredToolset): PolicyGate {
    let own: ToolPolicy = ALLOW_ALL_POLICY;
    if (toolset.spec.policy) {
      try {
        own = toolPolicyFrom(toolset.spec.policy, `toolset ${toolset.name}`);
      } catch (err) {
        logger.error({ err, toolset: toolset.name }, 'toolset policy does not compile; refusing its tools');
        own = toolPolicyFrom({ rules: [], default: 'deny' }, `toolset ${toolset.name}`);
      }
    }
    return createPolicyGate(allOfPolicies([options.policy ?? ALLOW_ALL_POLICY, own]), realEntryOf);
  }

  function endpointOf(toolset: RegisteredToolset): ScopeEndpoint {
    const existing = served.get(toolset.name);
    if (existing && existing.shape === shapeOf(toolset)) return existing.endpoint;
    if (existing) void existing.endpoint.close();
    const scoped = createToolsetCatalog({
      base: catalog,
      definition: () => toolsets.current(toolset.name),
      ...scopeOptions,
    });
    const endpoint = endpointFor(
      scopeOf(scoped, toolsetPolicyGate(toolset), toolset.spec.discovery === 'search', logger, scoped),
    );
    served.set(toolset.name, { shape: shapeOf(toolset), endpoint, catalog: scoped });
    return endpoint;
  }

  const stopToolsets = toolsets.onChange((name) => {
    const entry = served.get(name);
    if (!entry) return;
    const current = toolsets.current(name);
    if (current && shapeOf(current) === entry.shape) {
      entry.catalog.definitionChanged();
      return;
    }
    // Deleted, or who may use it or how it is offered changed: its clients reconnect and are checked again.
    served.delete(name);
    void entry.endpoint.close();
  });

  async function fetchToolset(
    name: string,
    request: Request,
    principal: Principal,
    span?: SpanHandle,
  ): Promise<Response> {
    const toolset = await toolsets.get(name);
    if (!toolset) return jsonRpcError(404, `Toolset '${name}' does not exist.`);
    if (!canRead(principal, toolset)) {
      const message = `Toolset '${name}' is for its creator, mcp.admin and the roles: ${toolset.spec.requiredRoles.join(', ') || '(none)'}.`;
      return jsonRpcError(403, message, {
        'www-authenticate': formatBearerChallenge({ error: 'insufficient_scope', errorDescription: message }),
      });
    }
    return endpointOf(toolset).fetch(request, principal, span);
  }

  /** Lists the adapter on this instance when it has not been yet, so its pins are compared with a real listing. */
  async function listedHere(adapter: Registered<'adapter'>): Promise<void> {
    if (!catalog.federationStatus(adapter.name)) await catalog.snapshot().catch(() => undefined);
  }

  return {
    settings,
    pins: {
      async definitions(adapter) {
        await listedHere(adapter);
        return pinning.definitions(adapter.name);
      },
      async approve(adapter, tool, approver, expectedHash) {
        await listedHere(adapter);
        return pinning.approve(adapter.name, tool, approver, expectedHash);
      },
    },
    fetch: (request, principal, span) => main.fetch(request, principal, span),
    fetchToolset,
    async toolsetNames(name) {
      const toolset = await toolsets.get(name);
      if (!toolset) return undefined;
      const { snapshot } = scopeSnapshot(await catalog.snapshot(), toolset.spec, scopeOptions);
      return {
        searchMode: toolset.spec.discovery === 'search',
        realName: (shown) => {
          const entry = snapshot.byName.get(shown);
          return entry ? realEntryOf(entry).name : shown;
        },
      };
    },
    async toolsetStatus(spec, principal) {
      const { snapshot, members } = scopeSnapshot(await catalog.snapshot(principal), spec, scopeOptions);
      return {
        tools: catalog.visible(snapshot, principal).length,
        unresolved: unresolvedFor(members, principal),
      };
    },
    serverFor,
    onToolsChanged(listener) {
      // Search mode's two tools never change; a stdio client is not told of catalog changes either.
      if (searchMode) return () => undefined;
      return catalog.onChange(() => listener());
    },
    invalidate() {
      catalog.invalidate();
      toolsets.invalidate();
    },
    listeners: () => [...served.values()].reduce((n, t) => n + t.endpoint.listeners(), main.listeners()),
    drain() {
      main.drain();
      for (const toolset of served.values()) toolset.endpoint.drain();
    },
    federationStatus: (adapter) => catalog.federationStatus(adapter),
    withFederationStatus(inspector) {
      return {
        ...inspector,
        ...(inspector.follow && { follow: inspector.follow.bind(inspector) }),
        logs: inspector.logs.bind(inspector),
        async status(resource) {
          const result = await inspector.status(resource);
          if (!result.ok || resource.kind !== 'adapter') return result;
          const spec = resource.spec as { federate?: boolean };
          if (spec.federate !== true) return result;
          // Not listed on this instance yet: list now (bounded by the listing timeout) to report something real.
          if (!catalog.federationStatus(resource.name)) await catalog.snapshot().catch(() => undefined);
          const listed = catalog.federationStatus(resource.name) ?? {
            state: 'pending' as const,
            tools: 0,
          };
          const held = pinning.heldCount(resource.name);
          const federation = held > 0 ? { ...listed, tools: listed.tools - held, heldTools: held } : listed;
          return { ok: true, status: { ...result.status, federation } };
        },
      };
    },
    async close() {
      stopToolsets();
      toolsets.close();
      await Promise.all([...served.values()].map((t) => t.endpoint.close()));
      served.clear();
      await main.close();
      callerLists.close();
      federatedResources.close();
      relay.close();
      catalog.close();
      pinning.close();
      await federation.close();
    },
  };
}
