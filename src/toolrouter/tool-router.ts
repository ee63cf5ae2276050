/**
 * @module tool-router: the MCP server at `/mcp`. Stateless on the gateway side: every request is answered by a
 * fresh SDK server instance bound to the caller's principal (`createMcpHandler`: 2026-07-28 natively, 2025
 * requests statelessly), over a catalog that every instance rebuilds from the shared registry — so any gateway
 * instance answers any request, cursors included. `tools/list` is the caller's readable tools in name order with
 * the router's own cursors; `tools/call` goes to a registered tool server or a federated adapter. Changes reach
 * legacy clients on the GET stream and modern clients on `subscriptions/listen`.
 *
 * With `discovery: 'search'` the list is just `search_tools` and `call_tool` (`discovery-tools.ts`): a search over
 * the caller's visible tools (`tool-search.ts`), and a call that takes the very path of a direct `tools/call`.
 * That list never changes, so no `list_changed` is sent then; a direct `tools/call` by a tool's name still works.
 */
import {
  InMemoryServerEventBus,
  ProtocolError,
  ProtocolErrorCode,
  Server,
  createMcpHandler,
} from '@modelcontextprotocol/server';
import type {
  CallToolRequestParams,
  CallToolResult,
  ListToolsResult,
  ServerContext,
} from '@modelcontextprotocol/server';
import { NO_UPSTREAM_CREDENTIALS, canRead, isAdmin } from '../auth/index.js';
import type { Principal, UpstreamCredentials } from '../auth/index.js';
import type { RuntimeInspector } from '../deploy/index.js';
import { NO_SPAN, traceIdOf } from '../observability/index.js';
import type { Logger, SpanHandle } from '../observability/index.js';
import { runtimeOf } from '../registry/index.js';
import type { RegistryChangeFeed, RegistryStore, Registered } from '../registry/index.js';
import { createXxh64Hash } from '../routing/index.js';
import type { Rendezvous } from '../routing/index.js';
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
import { decodeCursor, encodeCursor } from './cursor.js';
import { LISTING_PRINCIPAL, createFederation } from './federation.js';
import type { IdentityHeadersFor, ToolRouterReplicas } from './federation.js';
import { createHttpToolExecutor } from './http-tool-executor.js';
import { createListChangedStreams } from './list-changed-streams.js';
import { fetchOutbound } from './outbound.js';
import { progressRelay, withoutEnvelope } from './progress-relay.js';
import type { Outbound } from './outbound.js';
import { TOOL_ROUTER_DEFAULTS } from '../config/index.js';
import type { ToolRouterSettings } from '../config/index.js';
import { createPinningGate, heldToolRefusal } from './pinning-gate.js';
import type { ApprovalRefusal, PinnedToolDefinition, ToolDefinitionEvent } from './pinning-gate.js';
import { createToolNamer } from './tool-names.js';
import { checkedOutput, createToolSchemas } from './tool-schemas.js';
import { ToolPolicyDenied, createPolicyGate } from './policy/index.js';
import type { ToolPolicy } from './policy/index.js';

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
  /** Shutdown began: ends the legacy GET streams (their clients reconnect to another instance); calls go on. */
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
  const searchMode = settings.discovery === 'search';
  const streams = createListChangedStreams({
    catalog: searchMode ? unchangingList(catalog) : catalog,
    logger,
    maxAgeMs: settings.streamMaxAgeMs,
  });
  // Search mode: one index for every caller, brought up to date when the catalog changes (and on the first search).
  const search = searchMode ? createToolSearch() : undefined;
  const stopIndexing = search
    ? catalog.onChange((snapshot) => {
        search
          .update(snapshot)
          .catch((error: unknown) => logger.error({ err: error }, 'tool search index update failed'));
      })
    : () => undefined;

  // The tool policy's one hook: what a caller sees (list and search) and may call (direct and `call_tool`).
  const policy = createPolicyGate(options.policy);
  /** The caller's list: the tools it may read, as far as the tool policy lists them. */
  const listedTo = (snapshot: CatalogSnapshot, principal: Principal) =>
    policy.listed(snapshot, catalog.visible(snapshot, principal), principal);

  async function listTools(principal: Principal, cursor: string | undefined): Promise<ListToolsResult> {
    if (searchMode) {
      // One page, never a next one: no cursor of this server can be valid.
      if (cursor !== undefined) {
        throw new ProtocolError(
          ProtocolErrorCode.InvalidParams,
          'Invalid cursor: use a nextCursor from this server.',
        );
      }
      return { tools: [...DISCOVERY_TOOLS] };
    }
    const visible = listedTo(await catalog.snapshot(), principal);
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

  async function findEntry(name: string): Promise<CatalogEntry | undefined> {
    const entry = (await catalog.snapshot()).byName.get(name);
    if (entry) return entry;
    // Maybe registered a moment ago through another instance, before its change notice arrived here.
    catalog.invalidate();
    return (await catalog.snapshot()).byName.get(name);
  }

  async function callTool(
    principal: Principal,
    params: CallToolRequestParams,
    ctx: ServerContext,
    span: SpanHandle,
  ): Promise<{ result: CallToolResult; entry: CatalogEntry }> {
    const entry = await findEntry(params.name);
    if (!entry) {
      const refusal = heldToolRefusal((await catalog.snapshot()).held, params.name, principal);
      if (refusal) throw refusal;
    }
    // The same answer for a tool that does not exist and one the caller may not use: no existence oracle.
    if (!entry || !canRead(principal, entry.owner)) {
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${params.name}`);
    }
    policy.enforce(principal, entry, params.arguments);
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
    const progress = progressRelay(ctx);
    const result = await federation.callTool(entry.target.adapter, entry.target.upstream, args, principal, {
      signal,
      timeoutMs: settings.callTimeoutMs,
      span,
      ...(progress.onProgress && { onProgress: progress.onProgress }),
    });
    await progress.flush();
    return {
      result: checkedOutput(entry.name, entry.tool.outputSchema, outputSchemas, withoutEnvelope(result)),
      entry,
    };
  }

  const onToolCall = options.onToolCall;
  const now = options.now ?? (() => performance.now());

  /** `callTool`, told to `onToolCall` with its outcome. */
  async function observedCall(
    principal: Principal,
    params: CallToolRequestParams,
    ctx: ServerContext,
    traceId: string | undefined,
    span: SpanHandle,
  ): Promise<{ result: CallToolResult; entry: CatalogEntry }> {
    if (!onToolCall) return callTool(principal, params, ctx, span);
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
      const called = await callTool(principal, params, ctx, span);
      // A tool error (including an unreachable tool server, which the executor answers as one) is a failed call.
      report(called.result.isError === true ? 'failed' : 'success', called.entry);
      return called;
    } catch (err) {
      if (err instanceof ToolPolicyDenied) report('denied', err.entry, err.rule);
      // Unknown (or not the caller's) tool: named by nothing, so an unknown name cannot grow a label set.
      else if (err instanceof ProtocolError && err.code === ProtocolErrorCode.InvalidParams)
        report('rejected', undefined);
      else
        report(
          'failed',
          await catalog.snapshot().then(
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

  async function searchTools(principal: Principal, args: Record<string, unknown> | undefined) {
    const { query, limit } = checkedArguments(SEARCH_TOOLS_TOOL, args) as { query: string; limit?: number };
    const snapshot = await catalog.snapshot();
    // At once unless this snapshot was never indexed (the first search waits for the build) or is being built.
    // It is the newest snapshot (nothing ran between getting it and here), so the index never goes back.
    await search!.update(snapshot);
    // The caller's own list, the very one `tools/list` would serve in list mode: the search never shows more.
    const found = search!.search(listedTo(snapshot, principal), query, limit ?? DEFAULT_SEARCH_LIMIT);
    return searchResult(found);
  }

  function serverFor(principal: Principal, traceId?: string, span: SpanHandle = NO_SPAN): Server {
    const server = new Server(
      { name: SERVER_NAME, title: 'MCP Gateway tool router', version: options.version },
      {
        // Search mode's list is always the same two tools: there is no list change to announce.
        capabilities: { tools: { listChanged: !searchMode } },
        instructions: searchMode ? SEARCH_INSTRUCTIONS : INSTRUCTIONS,
      },
    );
    server.setRequestHandler('tools/list', (request) => listTools(principal, request.params?.cursor));
    server.setRequestHandler('tools/call', async (request, ctx) => {
      let params = request.params;
      if (searchMode && params.name === SEARCH_TOOLS) {
        return server.projectCallToolResult(
          await searchTools(principal, params.arguments),
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
      const { result, entry } = await observedCall(principal, params, ctx, traceId, span);
      // Era-specific shaping of the result (text mirror of structured content where the revision wants it).
      return server.projectCallToolResult(result, entry.tool.outputSchema);
    });
    return server;
  }

  // Modern `subscriptions/listen` streams of this instance; every instance publishes its own catalog's changes.
  const bus = new InMemoryServerEventBus((error) =>
    logger.warn({ err: error.message }, 'list change delivery failed'),
  );
  const handler = createMcpHandler(
    (ctx) => {
      const extra = ctx.authInfo?.extra as
        { principal?: Principal; traceId?: string; span?: SpanHandle } | undefined;
      // Only reachable through `fetch` below, which always passes the principal.
      if (!extra?.principal) throw new Error('tool router: request without a principal');
      return serverFor(extra.principal, extra.traceId, extra.span);
    },
    {
      bus,
      maxRequestBodySize: settings.maxBodyBytes,
      onerror: (error) => logger.debug({ err: error.message }, 'tool router request refused'),
    },
  );
  const stopBus = searchMode ? () => undefined : catalog.onChange(() => handler.notify.toolsChanged());

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
    fetch(request, principal, span) {
      if (request.method === 'GET') return streams.open(request, principal);
      // The principal travels in `authInfo`, the SDK's pass-through to the per-request factory.
      return handler.fetch(request, {
        authInfo: {
          token: '',
          clientId: principal.userId,
          scopes: [...(principal.scopes ?? [])],
          extra: { principal, traceId: traceIdOf(request.headers.get('traceparent')), span },
        },
      });
    },
    serverFor,
    onToolsChanged(listener) {
      // Search mode's two tools never change; a stdio client is not told of catalog changes either.
      if (searchMode) return () => undefined;
      return catalog.onChange(() => listener());
    },
    invalidate: () => catalog.invalidate(),
    listeners: () => streams.size + bus.listenerCount,
    drain: () => streams.drain(),
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
      stopBus();
      stopIndexing();
      streams.close();
      catalog.close();
      pinning.close();
      await handler.close();
      await federation.close();
    },
  };
}
