/**
 * @module federation: the tool router as an MCP client of federated adapters. It reaches an adapter's replicas
 * with the data plane's own parts — the same ready-replica resolver, the same rendezvous ranking on the caller's
 * principal (so a user's calls land where that user's data-plane sessions do), the same upstream identity
 * headers and the same SSRF-guarded connection pools — but speaks MCP itself instead of piping bytes: it must
 * read results, rename tools and relay progress, which a byte proxy at `/adapters/{name}/mcp` cannot do, and
 * calling that route over loopback would need a credential for it (the caller's token is for `/mcp` and must
 * not be passed on).
 *
 * Calls use a small pool of connected clients per (adapter version, replica, principal): a legacy upstream
 * needs an initialised session, which is reused instead of paid for on every call. Listing uses one client per
 * adapter under the router's own identity, kept open so the upstream's `list_changed` reaches the catalog.
 * Resources go the same two ways (`federated-resources.ts`): listed as the router (or as a caller, when the list
 * is theirs), and read as the caller through their pooled client. A caller's resource subscriptions
 * (`resource-subscriptions.ts`) get a connection of their own, made as the caller's pooled ones are but never
 * pooled: it keeps the upstream's stream open (its listen, or a 2025 session's GET stream) for as long as the
 * caller listens, and its notification handler is that subscription's alone.
 *
 * An `oauth-user` adapter's upstream gets each caller's own token (the token vault), read for every request a
 * pooled client sends, so a refreshed or revoked grant counts at once and a client pooled for one caller never
 * carries another's. Such an adapter is listed per caller ({@link Federation.listToolsFor}, through that caller's
 * pooled client), never under the router's identity, which has no grant. A 401 to a per-user token is renewed
 * once (refresh) and the request sent again; a caller without a usable grant gets {@link ConnectionRequiredError}.
 *
 * A `token-exchange` adapter's upstream gets a token exchanged (RFC 8693) from the caller's own verified bearer
 * token, which the principal handed in here carries beside it (`auth/caller-token.ts`): it is listed per caller
 * too, and its pooled clients are kept per caller token as well (by the token's hash), so a client made for one
 * token never sends an exchange of another, even of the same user. A token the gateway got itself (an exchanged
 * one, an `oauth-client-credentials` one) that the upstream answers 401 is requested anew once
 * (`UpstreamCredentials.renew`) and the request sent again.
 */
import {
  CLIENT_CAPABILITIES_META_KEY,
  Client,
  ProtocolError,
  ProtocolErrorCode,
  SdkError,
  SdkErrorCode,
  StreamableHTTPClientTransport,
} from '@modelcontextprotocol/client';
import type {
  CallToolResult,
  InputRequiredResult,
  ReadResourceResult,
  Resource,
  ResourceTemplateType as ResourceTemplate,
  ServerCapabilities,
  Tool,
} from '@modelcontextprotocol/client';
import { ConnectionRequiredError, UpstreamCredentialError, callerTokenDigest } from '../auth/index.js';
import type { Principal, UpstreamCredential, UpstreamCredentials } from '../auth/index.js';
import { acceptingNew } from '../deploy/index.js';
import type { ReplicaEndpoint } from '../deploy/index.js';
import { MCP_ATTR, NO_SPAN, mcpSpanName } from '../observability/index.js';
import type { Logger, SpanHandle } from '../observability/index.js';
import type { Registered } from '../registry/index.js';
import type { Hash64, Rendezvous } from '../routing/index.js';
import { OutboundError, isRefusal, readWholeBody } from './outbound.js';
import {
  LEAN_REVISION,
  REPLAY_HEADER,
  ReplayedAnswers,
  leanCallable,
  leanToolCall,
} from './lean-federated-call.js';
import type { ConnectionFetch } from './lean-federated-call.js';
import type { Outbound } from './outbound.js';
import { NO_RELAY, relayKeyOf } from './server-request-relay.js';
import type { CallerChannel, RelayCapabilities, RelayedMethod } from './server-request-relay.js';
import { withBodyEnd } from '../core/index.js';

/** An adapter has no ready replica (yet): nothing was tried. */
export class NoReadyReplicaError extends Error {
  constructor(readonly adapter: string) {
    super(`adapter '${adapter}' has no ready replica yet`);
    this.name = 'NoReadyReplicaError';
  }
}

/** Who the router is when it lists an adapter's tools (the list is shared by every caller). */
export const LISTING_PRINCIPAL: Principal = Object.freeze({
  userId: 'mcp-gateway/tool-router',
  roles: Object.freeze([]) as readonly string[],
});

/** Ready replicas of a registered resource, and where a refusing one is reported (the deployers' resolver). */
export interface ToolRouterReplicas {
  ready(resource: Registered): readonly ReplicaEndpoint[];
  reportUnreachable(resource: Registered, replica: ReplicaEndpoint): void;
  /** False when no deployer configured here serves the resource's runtime; every runtime is served when absent. */
  runs?(resource: Registered): boolean;
}

/** Headers that tell an upstream who calls; never the caller's own credentials. */
export type IdentityHeadersFor = (
  principal: Principal,
  resource: Registered,
) => Record<string, string> | Promise<Record<string, string>>;

/** Options for {@link createFederation}. */
export interface FederationOptions {
  readonly outbound: Outbound;
  readonly replicas: ToolRouterReplicas;
  readonly rendezvous: Rendezvous;
  readonly identityHeaders: IdentityHeadersFor;
  /** The adapter's own credential for its upstream (`upstreamAuth`), read for every request sent. */
  readonly upstreamCredentials: UpstreamCredentials;
  readonly logger: Logger;
  readonly connectTimeoutMs: number;
  /** Longest wait for a whole listing (connect and every page). */
  readonly listTimeoutMs: number;
  /** Name and version the router introduces itself with. */
  readonly clientInfo: { readonly name: string; readonly version: string };
  /** Pooled call clients idle this long are closed; default 60 s. */
  readonly poolIdleMs?: number;
  /** At most this many pooled call clients; the least recently used idle one goes first. Default 256. */
  readonly poolMax?: number;
  readonly now?: () => number;
  /** The absolute `/connect/{adapter}` URL, named when an upstream keeps refusing a caller's renewed token. */
  readonly connectUrl?: (adapter: string) => string;
  /** Hashes caller tokens into the pool keys of `token-exchange` adapters (the token itself is never kept). */
  readonly hash: Hash64;
  /** Calls to 2026-07-28 upstreams skip the SDK client's layers where they can (`lean-federated-call.ts`); default on. */
  readonly lean?: boolean;
}

/** How one federated call is made. */
export interface FederatedCallOptions {
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  /**
   * The caller's request span: each attempt is a CLIENT child of it, and its W3C trace context goes to the
   * upstream in the request's `_meta` (SEP-414) and as the `traceparent`/`tracestate` headers.
   */
  readonly span?: SpanHandle;
  /** Present when the caller asked for progress: each upstream progress notification is handed on. */
  readonly onProgress?: (progress: { progress: number; total?: number; message?: string }) => void;
  /**
   * Only this replica: a multi-round-trip retry goes where the first round was answered (`mrtr.ts`). When it is
   * no longer ready the call fails (the caller starts again) instead of going elsewhere.
   */
  readonly replica?: string;
  /** A multi-round-trip retry's fields (2026-07-28), sent as the call's params. */
  readonly retry?: { readonly inputResponses?: Record<string, unknown>; readonly requestState?: string };
  /** Told which replica answered (an `input_required` answer's retry must go back to it). */
  readonly onAnswered?: (replica: string) => void;
  /**
   * The caller's channel for server requests: the upstream's `elicitation/create` and `sampling/createMessage`
   * made for this call go to it (and the upstream is offered what it can answer); absent, they are refused.
   */
  readonly caller?: CallerChannel;
  /**
   * What a 2026-07-28 upstream is told, in this request's `_meta` envelope, that the client can answer, when the
   * caller answers input requests itself (a 2026-07-28 caller: `input_required` is passed to it). The upstream
   * session itself declares only what {@link caller} can be asked, so a 2025-era upstream is never offered what
   * the router cannot relay. Default: what the session declares.
   */
  readonly declares?: RelayCapabilities;
}

/** One listing of an adapter's tools, with what the upstream said about it. */
export interface UpstreamToolList {
  readonly tools: Tool[];
  /**
   * The upstream's cache hint (`ttlMs`, `cacheScope`: 2026-07-28 upstreams, SEP-2549); undefined when it sent
   * none (2025-era upstreams never do).
   */
  readonly ttlMs?: number;
  readonly cacheScope?: 'public' | 'private';
  /** What the upstream offers, as the listing client learnt it (`server/discover` or `initialize`). */
  readonly capabilities?: ServerCapabilities;
  /** The protocol version the listing client speaks with the upstream. */
  readonly protocolVersion?: string;
}

/** One listing of an adapter's resources and resource templates (all pages of each), with its cache hint. */
export interface UpstreamResourceList {
  readonly resources: Resource[];
  readonly resourceTemplates: ResourceTemplate[];
  /** The `resources/list` answer's hint (SEP-2549); undefined when it sent none. */
  readonly ttlMs?: number;
  readonly cacheScope?: 'public' | 'private';
}

/** How one caller's resource subscriptions are made upstream ({@link Federation.subscribeResources}). */
export interface ResourceSubscribeOptions {
  /** Longest wait for the upstream to accept or refuse (connect included); then every URI counts as refused. */
  readonly timeoutMs: number;
  /** Told each `notifications/resources/updated` the upstream sends (its own URI). */
  readonly onUpdated: (uri: string) => void;
  /** Told once when the upstream ends the subscription itself (its stream closed, it went away). */
  readonly onEnded: () => void;
}

/** One caller's resource subscriptions on one upstream. */
export interface UpstreamResourceSubscription {
  /** The upstream URIs the upstream accepted (the others were refused). */
  readonly accepted: readonly string[];
  /** Unsubscribes upstream (`resources/unsubscribe`, or closing the upstream's listen) and closes the session. */
  close(): Promise<void>;
}

/** How a connection's standalone (GET) stream is watched: a subscription's connection needs to know of it. */
interface StandaloneStream {
  /** The upstream answered the GET with a stream. */
  opened(): void;
  /** That stream ended. */
  ended(): void;
  /** The upstream answered the GET without a stream (it keeps none: 405, or another refusal). */
  refused(status: number): void;
}

/** The GET answer as the client gets it, with its opening and its end (done, failed, cancelled) told. */
function watchedStandalone(response: Response, standalone: StandaloneStream): Response {
  if (!response.ok || !response.body) {
    standalone.refused(response.status);
    return response;
  }
  standalone.opened();
  return withBodyEnd(response, () => standalone.ended());
}

/** How one `resources/read` is sent upstream. */
export interface FederatedReadOptions {
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
}

/** The router's MCP client side. */
export interface Federation {
  /** Every tool the adapter lists (all pages), through one of its ready replicas, as the router itself. */
  listTools(adapter: Registered<'adapter'>): Promise<UpstreamToolList>;
  /**
   * Every tool the adapter lists to `principal` (through the caller's pooled client): for an `oauth-user`
   * adapter with that caller's own grant (rejects with {@link ConnectionRequiredError} without a usable one), for
   * a `token-exchange` adapter with a token exchanged from the caller's own, and
   * for upstreams whose list is `private` to who asks, with the caller's identity headers.
   */
  listToolsFor(adapter: Registered<'adapter'>, principal: Principal): Promise<UpstreamToolList>;
  /**
   * Every resource and resource template the adapter lists: as the router itself without `principal` (shared
   * by every caller, as `listTools`), else to that caller (their pooled client, as `listToolsFor`). Empty lists
   * for an upstream that offers no resources.
   */
  listResources(adapter: Registered<'adapter'>, principal?: Principal): Promise<UpstreamResourceList>;
  /**
   * Reads `uri` (the upstream's own URI) as `principal`. The upstream's JSON-RPC error (no such resource) is
   * thrown as it came ({@link ProtocolError}); an unreachable or silent upstream is thrown as another error.
   */
  readResource(
    adapter: Registered<'adapter'>,
    principal: Principal,
    uri: string,
    options: FederatedReadOptions,
  ): Promise<ReadResourceResult>;
  /**
   * Subscribes `principal` to `uris` (the upstream's own URIs) on a connection of its own, made as their pooled
   * ones are (their identity headers, their own credential for `oauth-user` and `token-exchange` adapters, never
   * their token): a 2026-07-28 upstream through its `subscriptions/listen` with `resourceSubscriptions`, a 2025
   * one through `resources/subscribe` on a session whose standalone stream carries the updates. An upstream that
   * does not offer `resources.subscribe` accepts none; one that does not answer within `timeoutMs` rejects.
   */
  subscribeResources(
    adapter: Registered<'adapter'>,
    principal: Principal,
    uris: readonly string[],
    options: ResourceSubscribeOptions,
  ): Promise<UpstreamResourceSubscription>;
  /**
   * Calls `upstream` on the adapter; failures become `isError` results, never exceptions — except cancellation,
   * and {@link ConnectionRequiredError} (an `oauth-user` adapter and a caller without a usable grant), which the
   * router answers as the protocol revision of the request says.
   * A 2026-07-28 upstream's `input_required` answer is handed back as it came (`mrtr.ts` takes it from there).
   */
  callTool(
    adapter: Registered<'adapter'>,
    upstream: Tool,
    args: Record<string, unknown> | undefined,
    principal: Principal,
    options: FederatedCallOptions,
  ): Promise<CallToolResult | InputRequiredResult>;
  /** Told the adapter's name when its upstream says its tool list changed. */
  onListChanged(listener: (adapter: string) => void): () => void;
  /** Told the adapter's name when its upstream says its resource list changed. */
  onResourcesChanged(listener: (adapter: string) => void): () => void;
  /** Closes every client of an adapter (removed, or its spec changed). */
  forget(adapter: string): void;
  close(): Promise<void>;
}

/** What the fetch wrapper of one client saw last: decides failover and session loss. */
interface Exchange {
  lastError: OutboundError | undefined;
  sessionGone: boolean;
  /** The adapter's credential could not be made, so nothing was sent. */
  credentialError: UpstreamCredentialError | undefined;
}

/** The calls in progress on one connection, for the upstream's server requests. */
interface CallRelays {
  /** Each call by the key its POST carries in {@link CALL_HEADER}. */
  readonly calls: Map<string, { readonly caller: CallerChannel; readonly ended: AbortController }>;
  /** The call key of each upstream request seen on a call's response stream, by the upstream's request id. */
  readonly requests: Map<string | number, string>;
}

/**
 * Names the call a POST belongs to, between the router's `callTool` and its own fetch wrapper, which removes it
 * before anything is sent: the SDK client says nothing about which request a server request came with, but the
 * response stream it arrives on does.
 */
const CALL_HEADER = 'x-mcp-gateway-relay-call';

/**
 * The response stream of a call, read as it passes by: every JSON-RPC request in it (an upstream's
 * server request related to that call) is told to `seen` before the client parses it.
 */
function serverRequestTap(seen: (id: string | number) => void): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  let buffered = '';
  let data: string[] = [];
  const dispatch = () => {
    const text = data.join('\n');
    data = [];
    if (!text.includes('"method"')) return;
    try {
      const message = JSON.parse(text) as Record<string, unknown> | null;
      const id = message?.id;
      if (typeof message?.method === 'string' && (typeof id === 'string' || typeof id === 'number')) seen(id);
    } catch {
      // Not JSON: the client reports it.
    }
  };
  return new TransformStream({
    transform(chunk, controller) {
      buffered += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffered.indexOf('\n')) >= 0) {
        let line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        if (line.endsWith('\r')) line = line.slice(0, -1);
        if (line === '') dispatch();
        else if (line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
      }
      controller.enqueue(chunk);
    },
  });
}

/** The client capabilities a call client declares: what its callers can answer, so the upstream knows. */
function declaredCapabilities(relay: RelayCapabilities) {
  return {
    ...(relay.elicitation && { elicitation: { form: {} } }),
    ...(relay.sampling && { sampling: relay.samplingTools ? { tools: {} } : {} }),
  };
}

const refusedRequest = (text: string) => new ProtocolError(ProtocolErrorCode.InvalidRequest, text);

interface Connection {
  readonly key: string;
  readonly adapter: string;
  readonly client: Client;
  readonly transport: StreamableHTTPClientTransport;
  readonly ready: Promise<void>;
  readonly exchange: Exchange;
  readonly relays: CallRelays;
  /** The connection's own fetch (identity, credentials, trace headers, bookkeeping), for lean calls. */
  readonly send: ConnectionFetch;
  /** Answers lean calls received and left to the SDK client to read. */
  readonly replays: ReplayedAnswers;
  /** The SDK client's envelope once read (`null`: it has none to read). */
  leanEnvelope?: Record<string, unknown> | null;
  active: number;
  lastUsed: number;
}

/**
 * The definition handed to the SDK client for a call: the upstream's, without `outputSchema`. The router checks
 * structured content itself, alike for registered and federated tools and with the schemas it compiled once
 * (the client would compile a passed definition on every call, and turn a mismatch into a thrown error).
 */
const callDefinitions = new WeakMap<Tool, Tool>();
function callDefinitionOf(upstream: Tool): Tool {
  let definition = callDefinitions.get(upstream);
  if (!definition) {
    const { outputSchema: _checkedByTheRouter, ...rest } = upstream;
    definition = rest;
    callDefinitions.set(upstream, definition);
  }
  return definition;
}

/**
 * The trace context a request names in `params._meta`, for its headers: the router puts its CLIENT span's there,
 * so the upstream reads the same context whether it looks at the body or the headers. Only bodies that mention
 * it are parsed.
 */
function traceHeadersOf(body: unknown): [string, string][] {
  if (typeof body !== 'string' || !body.includes('"traceparent"')) return [];
  let meta: unknown;
  try {
    meta = (JSON.parse(body) as { params?: { _meta?: unknown } } | null)?.params?._meta;
  } catch {
    return [];
  }
  if (typeof meta !== 'object' || meta === null) return [];
  const { traceparent, tracestate } = meta as Record<string, unknown>;
  if (typeof traceparent !== 'string') return [];
  return typeof tracestate === 'string'
    ? [
        ['traceparent', traceparent],
        ['tracestate', tracestate],
      ]
    : [['traceparent', traceparent]];
}

/** The cache hint of a list result, read off its body (the SDK's list result type does not carry it). */
function cacheHintOf(result: object): Pick<UpstreamToolList, 'ttlMs' | 'cacheScope'> {
  const { ttlMs, cacheScope } = result as { ttlMs?: unknown; cacheScope?: unknown };
  return {
    ...(typeof ttlMs === 'number' && Number.isSafeInteger(ttlMs) && ttlMs >= 0 && { ttlMs }),
    ...((cacheScope === 'public' || cacheScope === 'private') && { cacheScope }),
  };
}

/** A listing as {@link Federation} hands it on: tools, cache hint and what the client knows of the upstream. */
async function listingOf(client: Client, signal: AbortSignal, timeout: number): Promise<UpstreamToolList> {
  const capabilities = client.getServerCapabilities();
  // An upstream that offers no tools (a resource server) has an empty list, asked of nobody.
  const result =
    capabilities && !capabilities.tools
      ? { tools: [] }
      : await client.listTools(undefined, { cacheMode: 'bypass', signal, timeout });
  const protocolVersion = client.getNegotiatedProtocolVersion();
  return {
    tools: result.tools,
    ...cacheHintOf(result),
    ...(capabilities && { capabilities }),
    ...(protocolVersion && { protocolVersion }),
  };
}

/** Every page of an adapter's resources and templates (none asked of an upstream that offers no resources). */
async function resourceListingOf(
  client: Client,
  signal: AbortSignal,
  timeout: number,
): Promise<UpstreamResourceList> {
  if (!client.getServerCapabilities()?.resources) return { resources: [], resourceTemplates: [] };
  const [listed, templates] = await Promise.all([
    client.listResources(undefined, { cacheMode: 'bypass', signal, timeout }),
    client
      .listResourceTemplates(undefined, { cacheMode: 'bypass', signal, timeout })
      .catch((error: unknown) => {
        // Templates are optional: an upstream that has none may not know the method.
        if (error instanceof ProtocolError && error.code === ProtocolErrorCode.MethodNotFound)
          return { resourceTemplates: [] };
        throw error;
      }),
  ]);
  return {
    resources: listed.resources,
    resourceTemplates: templates.resourceTemplates,
    ...cacheHintOf(listed),
  };
}

/**
 * An adapter whose upstream gets a token of each caller's (their own grant with `oauth-user`, one exchanged from
 * their bearer token with `token-exchange`): listed per caller, never as the router, which has neither.
 */
export const perUser = (adapter: Registered<'adapter'>): boolean =>
  adapter.spec.upstreamAuth?.type === 'oauth-user' || adapter.spec.upstreamAuth?.type === 'token-exchange';

/** An adapter whose upstream gets a token exchanged from the caller's: its pooled clients are per caller token. */
const perCallerToken = (adapter: Registered<'adapter'>): boolean =>
  adapter.spec.upstreamAuth?.type === 'token-exchange';

const errorResult = (text: string): CallToolResult => ({ isError: true, content: [{ type: 'text', text }] });

/** `init` as a plain record with lower-case names (repeated names joined, as `Headers` joins them). */
function headerRecordOf(init: HeadersInit | undefined): Record<string, string> {
  const record: Record<string, string> = {};
  if (init === undefined) return record;
  if (init instanceof Headers || Array.isArray(init)) {
    new Headers(init).forEach((value, name) => {
      record[name] = value;
    });
    return record;
  }
  for (const name of Object.keys(init)) {
    const key = name.toLowerCase();
    const value = String((init as Record<string, string>)[name]);
    record[key] = key in record ? `${record[key]}, ${value}` : value;
  }
  return record;
}

/** Reads and drops an answer not used (a whole-body one is only readable that way). */
async function discard(response: Response): Promise<void> {
  await readWholeBody(response, 64 * 1024).catch(() => undefined);
}

/** The `_meta` envelope the SDK client puts on each request of a 2026-07-28 connection (its own keys). */
function clientEnvelopeOf(client: Client): Record<string, unknown> | undefined {
  const emit = (client as unknown as { _outboundMetaEnvelope?: () => unknown })._outboundMetaEnvelope;
  if (typeof emit !== 'function') return undefined;
  const envelope = emit.call(client) as Record<string, unknown> | undefined;
  return envelope && typeof envelope === 'object' ? envelope : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Builds the federation client side. */
export function createFederation(options: FederationOptions): Federation {
  const { outbound, replicas, rendezvous, logger } = options;
  const now = options.now ?? Date.now;
  const poolIdleMs = options.poolIdleMs ?? 60_000;
  const poolMax = options.poolMax ?? 256;
  const pool = new Map<string, Connection>();
  const listers = new Map<string, Connection>();
  /** The connections of callers' resource subscriptions (never pooled), closed with the federation. */
  const subscribers = new Set<Connection>();
  const listeners = new Set<(adapter: string) => void>();
  const resourceListeners = new Set<(adapter: string) => void>();
  let closed = false;

  const sweep = setInterval(() => evictIdle(now() - poolIdleMs), Math.max(1000, poolIdleMs / 2));
  (sweep as { unref?: () => void }).unref?.();

  function announce(adapter: string) {
    for (const listener of [...listeners]) listener(adapter);
  }

  function announceResources(adapter: string) {
    for (const listener of [...resourceListeners]) listener(adapter);
  }

  function open(
    key: string,
    adapter: Registered<'adapter'>,
    replica: ReplicaEndpoint,
    principal: Principal,
    listing: boolean,
    signal: AbortSignal | undefined,
    relay: RelayCapabilities = NO_RELAY,
    standalone?: StandaloneStream,
  ): Connection {
    const exchange: Exchange = { lastError: undefined, sessionGone: false, credentialError: undefined };
    const relays: CallRelays = { calls: new Map(), requests: new Map() };
    const relaying = relayKeyOf(relay) !== '';
    const replays = new ReplayedAnswers();
    /** A call's response stream, noting on its way which call each server request in it belongs to. */
    const tapped = (response: Response, callKey: string): Response => {
      if (!response.body) return response;
      if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) return response;
      const body = response.body.pipeThrough(
        serverRequestTap((id) => void (relays.calls.has(callKey) && relays.requests.set(id, callKey))),
      );
      return new Response(body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    };
    const fetchWithIdentity = async (
      url: string | URL,
      init: RequestInit & { wholeBody?: 'json' } = {},
    ): Promise<Response> => {
      // Call clients need no standalone stream: progress and results come on each call's own response. Those of
      // callers that can be asked keep one, where upstreams send server requests not tied to a request.
      // A subscription's own connection keeps one too: a 2025 upstream sends `resources/updated` there.
      if (!listing && !relaying && !standalone && (init.method ?? 'GET') === 'GET')
        return new Response(null, { status: 405 });
      // A plain record (lower-case names), handed to the outbound as it is: no Fetch `Headers` per request.
      const headers = headerRecordOf(init.headers);
      // The answer a lean call already received, for the SDK client to read as the answer to this very send.
      if (REPLAY_HEADER in headers) {
        const replayed = replays.take(headers, init.body);
        if (replayed) return replayed;
      }
      const callKey = headers[CALL_HEADER] ?? null;
      if (callKey !== null) delete headers[CALL_HEADER];
      for (const [name, value] of traceHeadersOf(init.body)) headers[name] = value;
      for (const [name, value] of Object.entries(await options.identityHeaders(principal, adapter))) {
        headers[name.toLowerCase()] = value;
      }
      // Read per request, so a rotated secret (or a refreshed per-user token) is used by pooled connections too;
      // set last, over any other value.
      let credential: UpstreamCredential | undefined;
      try {
        credential = await options.upstreamCredentials.resolve(adapter, principal);
        if (credential) headers[credential.header.toLowerCase()] = credential.value;
        exchange.credentialError = undefined;
      } catch (error) {
        if (error instanceof UpstreamCredentialError) exchange.credentialError = error;
        throw error;
      }
      const send = async () => {
        try {
          const response = await outbound({
            url: String(url),
            method: init.method ?? 'GET',
            headers: { ...headers },
            body: init.body as string | Uint8Array | undefined,
            signal: init.signal ?? undefined,
            connectTimeoutMs: options.connectTimeoutMs,
            ...(init.wholeBody && { wholeBody: init.wholeBody }),
          });
          exchange.lastError = undefined;
          if (response.status === 404 && 'mcp-session-id' in headers) exchange.sessionGone = true;
          if (standalone && (init.method ?? 'GET') === 'GET') return watchedStandalone(response, standalone);
          return callKey === null ? response : tapped(response, callKey);
        } catch (error) {
          if (error instanceof OutboundError) exchange.lastError = error;
          throw error;
        }
      };
      const response = await send();
      const type = adapter.spec.upstreamAuth?.type;
      const minted = type === 'token-exchange' || type === 'oauth-client-credentials';
      if (response.status !== 401 || !credential || (type !== 'oauth-user' && !minted)) return response;
      // A token the upstream refuses (revoked or expired early): renewed once, then sent again.
      await discard(response);
      try {
        credential = await options.upstreamCredentials.renew(adapter, principal, credential);
      } catch (error) {
        if (error instanceof UpstreamCredentialError) exchange.credentialError = error;
        throw error;
      }
      headers[credential.header.toLowerCase()] = credential.value;
      const again = await send();
      if (again.status !== 401) return again;
      // The gateway's own token refused again: the upstream's answer, as for any credential of the gateway's.
      if (minted) {
        options.upstreamCredentials.refusedRenewal(credential);
        return again;
      }
      await discard(again);
      exchange.credentialError = new ConnectionRequiredError(
        adapter.name,
        options.connectUrl?.(adapter.name) ?? `/connect/${encodeURIComponent(adapter.name)}`,
        'its upstream refuses your access token',
      );
      throw exchange.credentialError;
    };
    const transport = new StreamableHTTPClientTransport(new URL(replica.url), {
      fetch: fetchWithIdentity,
      reconnectionOptions: {
        initialReconnectionDelay: 1000,
        maxReconnectionDelay: 30_000,
        reconnectionDelayGrowFactor: 1.5,
        maxRetries: listing ? 5 : 0,
      },
    });
    const client = new Client(
      { name: options.clientInfo.name, version: options.clientInfo.version },
      {
        versionNegotiation: { mode: 'auto' },
        capabilities: declaredCapabilities(relay),
        ...(listing && {
          listChanged: {
            tools: { autoRefresh: false, debounceMs: 0, onChanged: () => announce(adapter.name) },
            resources: {
              autoRefresh: false,
              debounceMs: 0,
              onChanged: () => announceResources(adapter.name),
            },
          },
        }),
      },
    );
    // A list_changed on a call's own response stream counts too.
    if (!listing) {
      client.setNotificationHandler('notifications/tools/list_changed', () => announce(adapter.name));
      client.setNotificationHandler('notifications/resources/list_changed', () =>
        announceResources(adapter.name),
      );
    }
    /** Hands an upstream's server request to the caller whose call it came with; refuses anything else. */
    const relayed = async (
      method: RelayedMethod,
      params: Record<string, unknown>,
      upstreamId: string | number,
      upstreamSignal: AbortSignal,
    ): Promise<Record<string, unknown>> => {
      const callKey = relays.requests.get(upstreamId);
      relays.requests.delete(upstreamId);
      // One not tied to a request (the standalone stream) can only be the call in progress, when there is one.
      const only = relays.calls.size === 1 ? [...relays.calls.values()][0] : undefined;
      const call = callKey === undefined ? only : relays.calls.get(callKey);
      if (!call) {
        throw refusedRequest(
          relays.calls.size > 1
            ? `${method} must be sent as part of the tool call it is for (several are in progress).`
            : `${method} is relayed only as part of a 2025 caller's tool call in progress (a 2026-07-28 caller is asked by input_required).`,
        );
      }
      const wantsTools = params.tools !== undefined || params.toolChoice !== undefined;
      const { capabilities } = call.caller;
      const can = method === 'elicitation/create' ? capabilities.elicitation : capabilities.sampling;
      if (!can || (method === 'sampling/createMessage' && wantsTools && !capabilities.samplingTools)) {
        throw refusedRequest(
          `The caller of this tool call does not support ${method}${wantsTools ? ' with tools' : ''}.`,
        );
      }
      return call.caller.request(method, params, AbortSignal.any([call.ended.signal, upstreamSignal]));
    };
    if (relay.elicitation) {
      client.setRequestHandler('elicitation/create', async (request, ctx) => {
        const params = request.params as Record<string, unknown>;
        // Only form mode is offered: a URL-mode completion notification has no call to follow.
        if (params.mode === 'url')
          throw refusedRequest('URL-mode elicitation is not relayed by the tool router.');
        return (await relayed('elicitation/create', params, ctx.mcpReq.id, ctx.mcpReq.signal)) as never;
      });
    }
    if (relay.sampling) {
      client.setRequestHandler(
        'sampling/createMessage',
        async (request, ctx) =>
          (await relayed(
            'sampling/createMessage',
            request.params as Record<string, unknown>,
            ctx.mcpReq.id,
            ctx.mcpReq.signal,
          )) as never,
      );
    }
    client.onerror = (error) =>
      logger.debug({ adapter: adapter.name, err: messageOf(error) }, 'upstream client');
    const connection: Connection = {
      key,
      adapter: adapter.name,
      client,
      transport,
      exchange,
      relays,
      send: fetchWithIdentity,
      replays,
      active: 0,
      lastUsed: now(),
      ready: client.connect(transport, {
        timeout: listing ? options.listTimeoutMs : options.connectTimeoutMs + options.listTimeoutMs,
        ...(signal && { signal }),
      }),
    };
    connection.ready.catch(() => undefined);
    return connection;
  }

  const lean = options.lean !== false;
  /** The SDK client's own envelope of a connection to a 2026-07-28 upstream; undefined for any other. */
  function leanEnvelopeOf(connection: Connection): Record<string, unknown> | undefined {
    if (connection.client.getNegotiatedProtocolVersion() !== LEAN_REVISION) return undefined;
    // The same for every request of the connection (its version, client info and capabilities are fixed).
    if (connection.leanEnvelope === undefined)
      connection.leanEnvelope = clientEnvelopeOf(connection.client) ?? null;
    return connection.leanEnvelope ?? undefined;
  }

  function dispose(connection: Connection) {
    if (pool.get(connection.key) === connection) pool.delete(connection.key);
    if (listers.get(connection.adapter) === connection) listers.delete(connection.adapter);
    // Ends a legacy upstream session instead of leaving it to the upstream's idle cleanup.
    void connection.ready
      .then(() => (connection.transport.sessionId ? connection.transport.terminateSession() : undefined))
      .catch(() => undefined)
      .finally(() => connection.client.close().catch(() => undefined));
  }

  function evictIdle(before: number) {
    for (const connection of [...pool.values()]) {
      if (connection.active === 0 && connection.lastUsed < before) dispose(connection);
    }
  }

  function acquire(
    adapter: Registered<'adapter'>,
    replica: ReplicaEndpoint,
    principal: Principal,
    fresh: boolean,
    relay: RelayCapabilities,
  ) {
    // Callers that can answer different server requests get different upstream sessions: each declares what its
    // callers can answer, so an upstream that checks (and falls back when a client cannot) sees the truth.
    const key = [
      adapter.name,
      adapter.version,
      replica.id,
      principal.userId,
      principal.roles.join(','),
      relayKeyOf(relay),
      perCallerToken(adapter) ? callerTokenDigest(principal, options.hash) : '',
    ].join('\u0000');
    let connection = pool.get(key);
    if (connection && fresh) {
      dispose(connection);
      connection = undefined;
    }
    if (!connection) {
      if (pool.size >= poolMax) {
        const idle = [...pool.values()].filter((c) => c.active === 0).sort((a, b) => a.lastUsed - b.lastUsed);
        if (idle[0]) dispose(idle[0]);
      }
      connection = open(key, adapter, replica, principal, false, undefined, relay);
      pool.set(key, connection);
    }
    connection.active++;
    connection.lastUsed = now();
    return connection;
  }

  /** The call is over: its server requests still unanswered are not routed to anyone any more. */
  function forgetCall(connection: Connection, callKey: string) {
    connection.relays.calls.delete(callKey);
    for (const [id, key] of connection.relays.requests)
      if (key === callKey) connection.relays.requests.delete(id);
  }

  function release(connection: Connection) {
    connection.active--;
    connection.lastUsed = now();
  }

  /** A failure before anything reached the replica: the next replica may be tried. */
  function notSent(connection: Connection): boolean {
    return connection.exchange.lastError !== undefined && !connection.exchange.lastError.sent;
  }

  function failureText(adapter: string, tool: string, error: unknown, timeoutMs: number): string {
    if (error instanceof SdkError && error.code === SdkErrorCode.RequestTimeout) {
      return `Adapter '${adapter}' did not answer the call of '${tool}' within ${timeoutMs} ms.`;
    }
    if (error instanceof ProtocolError) {
      return `Adapter '${adapter}' refused the call of '${tool}': ${error.message} (code ${error.code}).`;
    }
    if (error instanceof OutboundError) {
      return `Adapter '${adapter}' is unreachable: ${error.message}.`;
    }
    return `Adapter '${adapter}' failed the call of '${tool}': ${messageOf(error)}.`;
  }

  /** A CLIENT span for one `tools/call` sent to `replica`, child of the caller's request span. */
  function clientSpan(
    parent: SpanHandle | undefined,
    adapter: Registered<'adapter'>,
    replica: ReplicaEndpoint,
    tool: string,
  ): SpanHandle {
    if (!parent || parent === NO_SPAN) return NO_SPAN;
    const { hostname, port } = new URL(replica.url);
    return parent.startClient(mcpSpanName('tools/call', tool), {
      [MCP_ATTR.methodName]: 'tools/call',
      [MCP_ATTR.toolName]: tool,
      [MCP_ATTR.operationName]: 'execute_tool',
      [MCP_ATTR.serverAddress]: hostname,
      [MCP_ATTR.serverPort]: Number(port) || undefined,
      [MCP_ATTR.networkTransport]: 'tcp',
      'mcp_gateway.adapter': adapter.name,
      'mcp_gateway.replica': replica.id,
    });
  }

  /**
   * `work` on the adapter's listing client (the router's own identity, shared by every caller), on the first
   * ready replica that answers; a replica nothing reached is passed over for the next, within the listing timeout.
   */
  async function viaLister<T>(
    adapter: Registered<'adapter'>,
    work: (client: Client, deadline: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const ranked = rendezvous.rank(acceptingNew(replicas.ready(adapter)), LISTING_PRINCIPAL.userId);
    if (ranked.length === 0) throw new NoReadyReplicaError(adapter.name);
    const deadline = AbortSignal.timeout(options.listTimeoutMs);
    let lastError: unknown;
    for (const replica of ranked) {
      const key = [adapter.name, adapter.version, replica.id].join('\u0000');
      const previous = listers.get(adapter.name);
      let lister = previous?.key === key ? previous : undefined;
      if (previous && !lister) dispose(previous);
      if (!lister) {
        lister = open(key, adapter, replica, LISTING_PRINCIPAL, true, deadline);
        listers.set(adapter.name, lister);
      }
      try {
        await lister.ready;
        return await work(lister.client, deadline);
      } catch (error) {
        lastError =
          lister.exchange.credentialError ??
          (deadline.aborted ? new Error(`no answer within ${options.listTimeoutMs} ms`) : error);
        const retry = notSent(lister) && !deadline.aborted;
        if (lister.exchange.lastError && isRefusal(lister.exchange.lastError)) {
          replicas.reportUnreachable(adapter, replica);
        }
        dispose(lister);
        if (!retry) break;
      }
    }
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  /**
   * `work` on `principal`'s pooled client of the adapter (their identity headers, their own credential for
   * `oauth-user` and `token-exchange` adapters), on the first ready replica that answers within `timeoutMs`.
   */
  async function viaCaller<T>(
    adapter: Registered<'adapter'>,
    principal: Principal,
    timeoutMs: number,
    work: (client: Client, deadline: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const ranked = rendezvous.rank(acceptingNew(replicas.ready(adapter)), principal.userId);
    if (ranked.length === 0) throw new NoReadyReplicaError(adapter.name);
    const deadline = AbortSignal.timeout(timeoutMs);
    let lastError: unknown;
    for (const replica of ranked) {
      const connection = acquire(adapter, replica, principal, false, NO_RELAY);
      try {
        await connection.ready;
        return await work(connection.client, deadline);
      } catch (error) {
        const { credentialError } = connection.exchange;
        // The upstream's own JSON-RPC error (a resource it does not have) is its answer: the client is kept.
        if (error instanceof ProtocolError && !credentialError && connection.exchange.lastError === undefined)
          throw error;
        lastError =
          credentialError ?? (deadline.aborted ? new Error(`no answer within ${timeoutMs} ms`) : error);
        const retry = !credentialError && notSent(connection) && !deadline.aborted;
        if (connection.exchange.lastError && isRefusal(connection.exchange.lastError)) {
          replicas.reportUnreachable(adapter, replica);
        }
        dispose(connection);
        if (!retry) break;
      } finally {
        release(connection);
      }
    }
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  return {
    listTools: (adapter) =>
      viaLister(adapter, (client, deadline) => listingOf(client, deadline, options.listTimeoutMs)),

    listToolsFor: (adapter, principal) =>
      viaCaller(adapter, principal, options.listTimeoutMs, (client, deadline) =>
        listingOf(client, deadline, options.listTimeoutMs),
      ),

    listResources: (adapter, principal) =>
      principal
        ? viaCaller(adapter, principal, options.listTimeoutMs, (client, deadline) =>
            resourceListingOf(client, deadline, options.listTimeoutMs),
          )
        : viaLister(adapter, (client, deadline) =>
            resourceListingOf(client, deadline, options.listTimeoutMs),
          ),

    readResource: (adapter, principal, uri, read) =>
      viaCaller(adapter, principal, read.timeoutMs, (client, deadline) =>
        client.readResource(
          { uri },
          {
            cacheMode: 'bypass',
            signal: AbortSignal.any([deadline, read.signal]),
            timeout: read.timeoutMs,
          },
        ),
      ),

    async subscribeResources(adapter, principal, uris, subscribe) {
      const replica = rendezvous.rank(acceptingNew(replicas.ready(adapter)), principal.userId)[0];
      if (!replica) throw new NoReadyReplicaError(adapter.name);
      const deadline = AbortSignal.timeout(subscribe.timeoutMs);
      const late = new Promise<never>((_, reject) =>
        deadline.addEventListener(
          'abort',
          () => reject(new Error(`no answer within ${subscribe.timeoutMs} ms`)),
          { once: true },
        ),
      );
      late.catch(() => undefined);
      const withinDeadline = <T>(work: Promise<T>) => Promise.race([work, late]);
      /** True once the router itself ends it: what follows is no news to tell. */
      let closing = false;
      let told = false;
      const endedUpstream = () => {
        if (closing || told) return;
        told = true;
        subscribe.onEnded();
      };
      let streamOpened: () => void = () => undefined;
      let streamRefused: (status: number) => void = () => undefined;
      const streamOpen = new Promise<void>((resolve, reject) => {
        streamOpened = resolve;
        streamRefused = (status) =>
          reject(new Error(`the upstream keeps no standalone stream for updates (GET answered ${status})`));
      });
      streamOpen.catch(() => undefined);
      // Never pooled: its notification handler and its session are this subscription's alone.
      const key = ['subscription', adapter.name, adapter.version, replica.id, crypto.randomUUID()].join(
        '\u0000',
      );
      const connection = open(key, adapter, replica, principal, false, deadline, NO_RELAY, {
        opened: () => streamOpened(),
        ended: endedUpstream,
        refused: (status) => streamRefused(status),
      });
      subscribers.add(connection);
      const { client } = connection;
      client.setNotificationHandler('notifications/resources/updated', (notification) =>
        subscribe.onUpdated(notification.params.uri),
      );
      const shut = () => {
        closing = true;
        subscribers.delete(connection);
        dispose(connection);
      };
      try {
        await withinDeadline(connection.ready);
        if (!client.getServerCapabilities()?.resources?.subscribe) {
          shut();
          return { accepted: [], close: async () => undefined };
        }
        if ((client.getNegotiatedProtocolVersion() ?? '') >= '2026-07-28') {
          // No signal: aborting the one passed to `listen` would end the subscription.
          const listened = await withinDeadline(
            client.listen({ resourceSubscriptions: [...uris] }, { timeout: subscribe.timeoutMs }),
          );
          void listened.closed.then((reason) => {
            if (reason !== 'local') endedUpstream();
          });
          const honored = new Set(listened.honoredFilter.resourceSubscriptions ?? []);
          return {
            accepted: uris.filter((uri) => honored.has(uri)),
            async close() {
              closing = true;
              await listened.close().catch(() => undefined);
              shut();
            },
          };
        }
        // 2025: the updates come on the session's standalone stream, so subscribe once it is open.
        await withinDeadline(streamOpen);
        const outcomes = await withinDeadline(
          Promise.allSettled(
            uris.map((uri) => client.subscribeResource({ uri }, { timeout: subscribe.timeoutMs })),
          ),
        );
        const accepted = uris.filter((_, i) => outcomes[i]!.status === 'fulfilled');
        return {
          accepted,
          async close() {
            closing = true;
            await Promise.allSettled(
              accepted.map((uri) => client.unsubscribeResource({ uri }, { timeout: subscribe.timeoutMs })),
            );
            shut();
          },
        };
      } catch (error) {
        shut();
        throw error;
      }
    },

    async callTool(adapter, upstream, args, principal, call) {
      const ranked =
        call.replica === undefined
          ? rendezvous.rank(acceptingNew(replicas.ready(adapter)), principal.userId)
          : replicas.ready(adapter).filter((replica) => replica.id === call.replica);
      if (ranked.length === 0 && call.replica !== undefined) {
        return errorResult(
          `The replica of adapter '${adapter.name}' that asked for input is gone; call '${upstream.name}' again.`,
        );
      }
      if (ranked.length === 0) {
        return errorResult(`Adapter '${adapter.name}' has no ready replica; try again shortly.`);
      }
      let last: unknown;
      for (const replica of ranked) {
        for (let attempt = 0; attempt < 2; attempt++) {
          const connection = acquire(
            adapter,
            replica,
            principal,
            attempt > 0,
            call.caller?.capabilities ?? NO_RELAY,
          );
          let connected = false;
          let span = NO_SPAN;
          const callKey = call.caller ? crypto.randomUUID() : undefined;
          // Ends with the call however it ends (the caller left, a timeout): nothing of it is left waiting.
          const ended = callKey ? new AbortController() : undefined;
          const onCallerGone = () => ended?.abort();
          if (callKey && ended) {
            call.signal.addEventListener('abort', onCallerGone, { once: true });
            connection.relays.calls.set(callKey, { caller: call.caller!, ended });
          }
          try {
            await connection.ready;
            connected = true;
            span = clientSpan(call.span, adapter, replica, upstream.name);
            // The client adds its own keys (`progressToken`, the 2026-07-28 envelope) to this `_meta`.
            const traceContext = span.propagationHeaders();
            // The client's own envelope keys give way to ours: a 2026 caller's capabilities, for this request only.
            const meta = {
              ...traceContext,
              ...(call.declares &&
                (connection.client.getNegotiatedProtocolVersion() ?? '') >= '2026-07-28' && {
                  [CLIENT_CAPABILITIES_META_KEY]: declaredCapabilities(call.declares),
                }),
            };
            // A plain call to a 2026-07-28 upstream: posted and, when its answer is plain, read by the router
            // itself; any other answer is read by the SDK client below as the answer to its own send.
            const envelope =
              lean && !callKey && !call.onProgress && !call.retry && leanCallable(upstream)
                ? leanEnvelopeOf(connection)
                : undefined;
            let replayKey: string | undefined;
            if (envelope) {
              const answer = await leanToolCall({
                fetch: connection.send,
                url: replica.url,
                tool: upstream.name,
                args,
                meta: { ...envelope, ...meta },
                signal: call.signal,
                timeoutMs: call.timeoutMs,
              });
              if ('result' in answer) {
                span.end(answer.result.isError === true ? { error: 'tool error' } : {});
                call.onAnswered?.(replica.id);
                return answer.result;
              }
              replayKey = crypto.randomUUID();
              connection.replays.keep(replayKey, answer.id, answer.response);
            }
            let result: CallToolResult | InputRequiredResult;
            try {
              result = await connection.client.callTool(
                {
                  name: upstream.name,
                  ...(args !== undefined && { arguments: args }),
                  ...(Object.keys(meta).length > 0 && { _meta: meta }),
                  ...call.retry,
                },
                {
                  allowInputRequired: true,
                  signal: call.signal,
                  timeout: call.timeoutMs,
                  resetTimeoutOnProgress: true,
                  toolDefinition: callDefinitionOf(upstream),
                  ...(call.onProgress && { onprogress: call.onProgress }),
                  ...(callKey && { headers: { [CALL_HEADER]: callKey } }),
                  ...(replayKey && { headers: { [REPLAY_HEADER]: replayKey } }),
                },
              );
            } finally {
              if (replayKey) connection.replays.drop(replayKey);
            }
            span.end(result.isError === true ? { error: 'tool error' } : {});
            call.onAnswered?.(replica.id);
            return result;
          } catch (error) {
            span.end({ error: error instanceof Error ? error.name : 'error' });
            if (call.signal.aborted) throw error;
            last = error;
            const { credentialError } = connection.exchange;
            // A client that never connected (refused credentials, a missing secret) is not kept for the next call.
            if (!connected || credentialError) dispose(connection);
            // The caller must connect first: the router answers that as the request's revision says.
            if (credentialError instanceof ConnectionRequiredError) throw credentialError;
            if (credentialError) return errorResult(credentialError.message);
            const sessionGone = connection.exchange.sessionGone;
            const retryElsewhere = notSent(connection);
            if (sessionGone || retryElsewhere) dispose(connection);
            if (connection.exchange.lastError && isRefusal(connection.exchange.lastError)) {
              replicas.reportUnreachable(adapter, replica);
            }
            // The replica lost the session (it restarted): one fresh session there, then give up.
            if (sessionGone && attempt === 0) continue;
            if (retryElsewhere) break;
            logger.warn(
              { adapter: adapter.name, tool: upstream.name, replica: replica.id, err: messageOf(error) },
              'federated tool call failed',
            );
            return errorResult(failureText(adapter.name, upstream.name, error, call.timeoutMs));
          } finally {
            if (callKey && ended) {
              call.signal.removeEventListener('abort', onCallerGone);
              ended.abort();
              forgetCall(connection, callKey);
            }
            release(connection);
          }
        }
      }
      logger.warn(
        { adapter: adapter.name, tool: upstream.name, err: messageOf(last) },
        'no replica reachable',
      );
      return errorResult(
        `Adapter '${adapter.name}' is unreachable (${messageOf(last)}); tried ${ranked.length} replica(s).`,
      );
    },

    onListChanged(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },

    onResourcesChanged(listener) {
      resourceListeners.add(listener);
      return () => void resourceListeners.delete(listener);
    },

    forget(adapter) {
      for (const connection of [...pool.values()]) if (connection.adapter === adapter) dispose(connection);
      const lister = listers.get(adapter);
      if (lister) dispose(lister);
    },

    async close() {
      if (closed) return;
      closed = true;
      clearInterval(sweep);
      listeners.clear();
      resourceListeners.clear();
      const all = [...pool.values(), ...listers.values(), ...subscribers];
      pool.clear();
      listers.clear();
      subscribers.clear();
      await Promise.all(
        all.map((c) =>
          c.ready
            .then(() => (c.transport.sessionId ? c.transport.terminateSession() : undefined))
            .catch(() => undefined)
            .finally(() => c.client.close().catch(() => undefined)),
        ),
      );
    },
  };
}
