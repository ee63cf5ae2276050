/**
 * @module caller-subscriptions: 2026-07-28 `subscriptions/listen` on a tool-router endpoint, served per caller.
 *
 * The SDK's listen router publishes every change to every open stream (one event bus per handler): right for a
 * single server, wrong for an aggregate whose callers each see their own list. Here each stream belongs to the
 * authenticated principal that opened it, and a change reaches it only when *that caller's* view changed: a
 * `tools/list_changed` goes to a stream when the fingerprint of the list the caller is offered (their readable
 * tools, as far as the scope's tool policy lists them, their own per-caller lists included) differs from the one
 * it was last told about. Another caller's private list, a permission or policy that only affects others, or a
 * change outside a toolset is never heard by a caller whose list stayed the same.
 *
 * The wire is the SDK's (and the specification's): a request the SDK would refuse before looking at the filter
 * (envelope, headers, protocol revision) is left to the SDK handler; then the capacity guard (-32603), the filter
 * (-32602 when `notifications` is missing or malformed), the `notifications/subscriptions/acknowledged`
 * notification with only the honored part of the filter, the subscription id stamped in every notification's
 * `_meta`, SSE keep-alives, and the graceful close (the `subscriptions/listen` result) when the gateway drains or
 * closes and when a stream reaches its maximum age (so the caller's token is checked again when they listen
 * anew). A client that goes away tears its stream down with no result.
 *
 * What can be listened to comes from {@link ListenSource}s: {@link createToolListSource} for the tools list, and
 * the resources relay's (`resource-subscriptions.ts`) for `resourcesListChanged` (per-caller list changes) and
 * `resourceSubscriptions` (the namespaced URIs whose upstream accepted the subscription, each accepted or refused
 * on its own; only accepted ones are acknowledged, and `notifications/resources/updated` is delivered for those
 * only). The router relays no prompts, so `promptsListChanged` is not honored. A source may end a stream
 * gracefully (an upstream subscription it relays ended), so the caller listens, and is checked, anew.
 */
import {
  SERVER_INFO_META_KEY,
  SUBSCRIPTION_ID_META_KEY,
  classifyInboundRequest,
  isJsonContentType,
  specTypeSchemas,
} from '@modelcontextprotocol/server';
import type { Implementation, RequestId, SubscriptionFilter } from '@modelcontextprotocol/server';
import type { Principal } from '../auth/index.js';
import type { Logger } from '../observability/index.js';
import type { Catalog, CatalogEntry, CatalogSnapshot } from './catalog.js';
import { smallBodyOf } from './request-body.js';

/** The one modern revision the SDK serves; anything else is the SDK handler's to refuse. */
const LISTEN_REVISION = '2026-07-28';
/** The SDK's default capacity guard and keep-alive period. */
const DEFAULT_MAX_SUBSCRIPTIONS = 1024;
const DEFAULT_KEEP_ALIVE_MS = 15_000;

/** A change notification as a source hands it over (the subscription id is stamped on it here). */
export interface ChangeNotification {
  readonly method:
    | 'notifications/tools/list_changed'
    | 'notifications/prompts/list_changed'
    | 'notifications/resources/list_changed'
    | 'notifications/resources/updated';
  readonly params?: Record<string, unknown>;
}

/** One source's part in one open subscription. */
export interface OpenedListen {
  /** The part of the requested filter this source delivers; `{}` when none. */
  readonly honored: SubscriptionFilter;
  /** The stream ended: stop delivering (and unsubscribe upstream). */
  close(): void;
}

/**
 * Something a caller can listen to on an endpoint. `open` is asked once per `subscriptions/listen`, with the
 * caller and the filter they asked for; it answers with what it honors and calls `deliver` for each change the
 * caller may see, from then until `close`. It may take time (subscribing upstream); changes delivered before
 * the acknowledgement is written are held and sent right after it. `end` closes the caller's stream gracefully
 * (an upstream subscription it relays ended): the caller listens anew, which subscribes anew.
 */
export interface ListenSource {
  open(
    principal: Principal,
    requested: SubscriptionFilter,
    deliver: (notification: ChangeNotification) => void,
    end: () => void,
  ): Promise<OpenedListen>;
}

/** Options for {@link createToolListSource}. */
export interface ToolListSourceOptions {
  readonly catalog: Catalog;
  /** False in search mode: the two-tool list never changes, so `toolsListChanged` is not honored. */
  readonly listCanChange: boolean;
  /** A digest of the list `principal` is offered over `snapshot`: changes exactly when that list changes. */
  readonly fingerprint: (snapshot: CatalogSnapshot, principal: Principal) => string;
  readonly logger: Logger;
}

/** A {@link ListenSource} that is also told to stop watching its catalog. */
export interface ToolListSource extends ListenSource {
  close(): void;
}

interface ToolWatcher {
  readonly principal: Principal;
  fingerprint: string;
  readonly deliver: (notification: ChangeNotification) => void;
}

/** `toolsListChanged`, per caller: told only when the caller's own list changed. */
export function createToolListSource(options: ToolListSourceOptions): ToolListSource {
  const { catalog, fingerprint, logger } = options;
  const watchers = new Set<ToolWatcher>();
  /** The last snapshot the catalog announced, to catch a change between a stream's first look and its watch. */
  let latest: CatalogSnapshot | undefined;

  const check = (watcher: ToolWatcher, snapshot: CatalogSnapshot) => {
    let current: string;
    try {
      current = fingerprint(snapshot, watcher.principal);
    } catch (error) {
      logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'tool list fingerprint failed',
      );
      return;
    }
    if (current === watcher.fingerprint) return;
    watcher.fingerprint = current;
    watcher.deliver({ method: 'notifications/tools/list_changed' });
  };
  const stopWatching = options.listCanChange
    ? catalog.onChange((snapshot) => {
        latest = snapshot;
        for (const watcher of [...watchers]) check(watcher, snapshot);
      })
    : () => undefined;

  return {
    async open(principal, requested, deliver) {
      if (!options.listCanChange || requested.toolsListChanged !== true) {
        return { honored: {}, close: () => undefined };
      }
      const snapshot = await catalog.snapshot();
      const watcher: ToolWatcher = { principal, fingerprint: fingerprint(snapshot, principal), deliver };
      watchers.add(watcher);
      if (latest !== undefined && latest !== snapshot) check(watcher, latest);
      return { honored: { toolsListChanged: true }, close: () => void watchers.delete(watcher) };
    },
    close() {
      stopWatching();
      watchers.clear();
    },
  };
}

/** Options for {@link createCallerSubscriptions}. */
export interface CallerSubscriptionsOptions {
  readonly sources: readonly ListenSource[];
  /** Stamped on the graceful-close result's `_meta`, as the SDK does. */
  readonly serverInfo: Implementation;
  /** A stream is closed gracefully after this long; the client listens again and is authenticated again. */
  readonly maxAgeMs: number;
  readonly logger: Logger;
  /** Open subscriptions beyond which a new one is refused (-32603); default 1024, the SDK's. */
  readonly maxSubscriptions?: number;
  /** SSE comment sent this often so proxies keep the connection; default 15 s, the SDK's. */
  readonly keepAliveMs?: number;
  /** The body limit, for a listen request whose body the endpoint did not read (no declared length). */
  readonly maxBodyBytes: number;
}

/** The `subscriptions/listen` streams of one endpoint on this instance. */
export interface CallerSubscriptions {
  /**
   * Answers `request` when it is a `subscriptions/listen` this module serves (`body` is its parsed body, when
   * the endpoint read it); undefined for anything else, which the SDK handler answers as before.
   */
  serve(request: Request, body: unknown, principal: Principal): Promise<Response | undefined>;
  /** How many streams are open. */
  readonly size: number;
  /** Closes every stream gracefully, and from now on closes new ones right after their acknowledgement. */
  drain(): void;
  /** The same, for shutdown. */
  close(): void;
}

interface ListenRequest {
  readonly id: RequestId;
  readonly params?: unknown;
}

const encoder = new TextEncoder();

const jsonRpcError = (id: RequestId, code: number, message: string) =>
  Response.json({ jsonrpc: '2.0', error: { code, message }, id }, { status: 200 });

/**
 * The listen request in `body` when the SDK would have reached its filter check with it: a modern request that
 * names `subscriptions/listen`, with the headers the SDK requires. Anything else is left to the SDK handler.
 */
function listenRequestOf(request: Request, body: unknown): ListenRequest | undefined {
  if (request.method !== 'POST' || !isJsonContentType(request.headers.get('content-type'))) return undefined;
  const protocolVersionHeader = request.headers.get('mcp-protocol-version') ?? undefined;
  const mcpMethodHeader = request.headers.get('mcp-method') ?? undefined;
  if (protocolVersionHeader === undefined || mcpMethodHeader === undefined) return undefined;
  const mcpNameHeader = request.headers.get('mcp-name') ?? undefined;
  const route = classifyInboundRequest({
    httpMethod: request.method,
    protocolVersionHeader,
    mcpMethodHeader,
    ...(mcpNameHeader !== undefined && { mcpNameHeader }),
    body,
  });
  if (route.kind !== 'modern' || route.messageKind !== 'request') return undefined;
  if (route.message.method !== 'subscriptions/listen') return undefined;
  if (route.classification.revision !== LISTEN_REVISION || protocolVersionHeader.trim() !== LISTEN_REVISION)
    return undefined;
  return route.message;
}

/** The requested filter, or undefined when `notifications` is absent or not a valid SubscriptionFilter. */
function filterOf(message: ListenRequest): SubscriptionFilter | undefined {
  const params = message.params;
  if (typeof params !== 'object' || params === null || !('notifications' in params)) return undefined;
  const outcome = specTypeSchemas.SubscriptionFilter['~standard'].validate(
    (params as { notifications: unknown }).notifications,
  );
  if (outcome instanceof Promise || outcome.issues) return undefined;
  return outcome.value as SubscriptionFilter;
}

/** Whether `notification` is one the acknowledged filter covers (as the SDK's `listenFilterAccepts`). */
function accepts(honored: SubscriptionFilter, notification: ChangeNotification): boolean {
  switch (notification.method) {
    case 'notifications/tools/list_changed':
      return honored.toolsListChanged === true;
    case 'notifications/prompts/list_changed':
      return honored.promptsListChanged === true;
    case 'notifications/resources/list_changed':
      return honored.resourcesListChanged === true;
    case 'notifications/resources/updated': {
      const uri = notification.params?.uri;
      return typeof uri === 'string' && (honored.resourceSubscriptions ?? []).includes(uri);
    }
  }
}

/** The honored filters of several sources as one (each source honors its own fields). */
function mergedHonored(parts: readonly OpenedListen[]): SubscriptionFilter {
  const honored: SubscriptionFilter = {};
  for (const { honored: part } of parts) {
    if (part.toolsListChanged) honored.toolsListChanged = true;
    if (part.promptsListChanged) honored.promptsListChanged = true;
    if (part.resourcesListChanged) honored.resourcesListChanged = true;
    if (part.resourceSubscriptions?.length) {
      honored.resourceSubscriptions = [
        ...(honored.resourceSubscriptions ?? []),
        ...part.resourceSubscriptions,
      ];
    }
  }
  return honored;
}

/** Builds the endpoint's listen streams over `sources`. */
export function createCallerSubscriptions(options: CallerSubscriptionsOptions): CallerSubscriptions {
  const { logger } = options;
  const maxSubscriptions = options.maxSubscriptions ?? DEFAULT_MAX_SUBSCRIPTIONS;
  const keepAliveMs = options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS;
  /** Each open stream's graceful close. */
  const open = new Set<() => void>();
  /** Streams being opened (their sources still answering): they count against the capacity guard too. */
  let opening = 0;
  let draining = false;

  async function listen(
    message: ListenRequest,
    filter: SubscriptionFilter,
    principal: Principal,
    signal: AbortSignal,
  ) {
    const subscriptionId = message.id;
    const stamp = (notification: { method: string; params?: Record<string, unknown> }) =>
      `event: message\ndata: ${JSON.stringify({
        jsonrpc: '2.0',
        method: notification.method,
        params: {
          ...notification.params,
          _meta: {
            ...(notification.params?._meta as Record<string, unknown> | undefined),
            [SUBSCRIPTION_ID_META_KEY]: subscriptionId,
          },
        },
      })}\n\n`;
    let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
    /** Notifications delivered before the acknowledgement went out. */
    const held: ChangeNotification[] = [];
    let ended = false;
    const write = (frame: string) => {
      if (ended || !controller) return;
      try {
        controller.enqueue(encoder.encode(frame));
      } catch {
        teardown(false);
      }
    };
    // The stream (its controller) starts once every source answered and `acknowledged` is known.
    const deliver = (notification: ChangeNotification) => {
      if (!controller) held.push(notification);
      // Never more than was acknowledged, whatever a source sends.
      else if (accepts(acknowledged, notification)) write(stamp(notification));
    };

    /** A source asked to end the stream before it started: ended right after the acknowledgement. */
    let endAfterAck = false;
    const end = () => {
      if (controller) teardown(true);
      else endAfterAck = true;
    };

    opening++;
    const settled = await Promise.allSettled(
      options.sources.map((source) => source.open(principal, filter, deliver, end)),
    ).finally(() => opening--);
    const parts = settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    const failed = settled.find((outcome) => outcome.status === 'rejected');
    if (failed) {
      // A source that cannot start (the registry unreachable): no half-honored subscription.
      for (const part of parts) part.close();
      logger.warn({ err: String(failed.reason) }, 'subscriptions/listen could not be opened');
      return jsonRpcError(message.id, -32603, 'Internal error: the subscription could not be opened');
    }
    const acknowledged = mergedHonored(parts);
    let keepAlive: ReturnType<typeof setInterval> | undefined;
    let maxAge: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => teardown(false);
    function teardown(graceful: boolean) {
      if (ended) return;
      if (graceful) {
        // The spec's graceful close: the listen request's (empty) result.
        write(
          `event: message\ndata: ${JSON.stringify({
            jsonrpc: '2.0',
            id: subscriptionId,
            result: {
              resultType: 'complete',
              _meta: {
                [SUBSCRIPTION_ID_META_KEY]: subscriptionId,
                [SERVER_INFO_META_KEY]: options.serverInfo,
              },
            },
          })}\n\n`,
        );
      }
      ended = true;
      for (const part of parts) part.close();
      clearInterval(keepAlive);
      clearTimeout(maxAge);
      signal.removeEventListener('abort', onAbort);
      open.delete(closeGracefully);
      try {
        controller?.close();
      } catch {
        // Already closed by the reader.
      }
    }
    const closeGracefully = () => teardown(true);

    const body = new ReadableStream<Uint8Array>({
      start(streamController) {
        controller = streamController;
        controller.enqueue(
          encoder.encode(
            stamp({
              method: 'notifications/subscriptions/acknowledged',
              params: { notifications: acknowledged },
            }),
          ),
        );
        for (const notification of held.splice(0)) deliver(notification);
        if (Object.keys(acknowledged).length === 0 || draining || endAfterAck) {
          teardown(true);
          return;
        }
        open.add(closeGracefully);
        keepAlive = setInterval(() => write(': keepalive\n\n'), keepAliveMs);
        maxAge = setTimeout(closeGracefully, options.maxAgeMs);
      },
      cancel() {
        teardown(false);
      },
    });
    if (signal.aborted) teardown(false);
    else signal.addEventListener('abort', onAbort, { once: true });
    logger.debug({ user: principal.userId, open: open.size, honored: acknowledged }, 'subscription opened');
    return new Response(body, {
      status: 200,
      headers: {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      },
    });
  }

  return {
    async serve(request, body, principal) {
      // Cheap first: a modern request must name its method in `Mcp-Method` (the SDK refuses one that does not),
      // so every other request — `tools/call` above all — passes by without its body being looked at.
      if (request.method !== 'POST' || request.headers.get('mcp-method')?.trim() !== 'subscriptions/listen') {
        return undefined;
      }
      if (body === undefined) {
        // Not read by the endpoint (no declared length): read a copy, so the SDK still has the original.
        const text = await smallBodyOf(request, options.maxBodyBytes);
        try {
          body = text === undefined ? undefined : JSON.parse(text);
        } catch {
          body = undefined;
        }
      }
      const message = listenRequestOf(request, body);
      if (!message) return undefined;
      if (open.size + opening >= maxSubscriptions) {
        logger.warn({ max: maxSubscriptions }, 'subscriptions/listen refused: subscription limit reached');
        return jsonRpcError(message.id, -32603, 'Subscription limit reached');
      }
      const filter = filterOf(message);
      if (filter === undefined) {
        return jsonRpcError(
          message.id,
          -32602,
          "Invalid params: 'notifications' is required and must be a valid SubscriptionFilter",
        );
      }
      return listen(message, filter, principal, request.signal);
    },
    get size() {
      return open.size;
    },
    drain() {
      draining = true;
      for (const close of [...open]) close();
    },
    close() {
      draining = true;
      for (const close of [...open]) close();
    },
  };
}

/** Sum of the entries' digests (order-independent) with their count, and the caller's own lists' digest. */
export function listFingerprint(entries: readonly CatalogEntry[], ownLists = ''): string {
  let sum = 0n;
  for (const entry of entries) sum = (sum + entry.digest) & 0xffff_ffff_ffff_ffffn;
  return `${entries.length.toString(36)}-${sum.toString(36)}${ownLists === '' ? '' : `-${ownLists}`}`;
}

/** Options for {@link createEndpointSubscriptions}. */
export interface EndpointSubscriptionsOptions
  extends Omit<CallerSubscriptionsOptions, 'sources'>, Omit<ToolListSourceOptions, 'fingerprint'> {
  /** The list `principal` is offered over `snapshot` (readable, and listed by the scope's tool policy). */
  readonly listed: (snapshot: CatalogSnapshot, principal: Principal) => readonly CatalogEntry[];
  /** More sources beside the tools list (the hook for a resources relay). */
  readonly sources?: readonly ListenSource[];
}

/** An endpoint's listen streams with its tools-list source; `close` also stops watching the catalog. */
export function createEndpointSubscriptions(options: EndpointSubscriptionsOptions): CallerSubscriptions {
  const { catalog, listed } = options;
  const tools = createToolListSource({
    catalog,
    listCanChange: options.listCanChange,
    logger: options.logger,
    fingerprint: (snapshot, principal) =>
      listFingerprint(listed(snapshot, principal), catalog.ownListsFingerprint?.(principal)),
  });
  const subscriptions = createCallerSubscriptions({
    ...options,
    sources: [tools, ...(options.sources ?? [])],
  });
  return {
    serve: (request, body, principal) => subscriptions.serve(request, body, principal),
    get size() {
      return subscriptions.size;
    },
    drain: () => subscriptions.drain(),
    close() {
      subscriptions.close();
      tools.close();
    },
  };
}
