/**
 * @module test-gateway: a whole gateway (control plane + data plane) on a real socket with the Node-native
 * forwarder, as `main.ts` builds it, for end-to-end tests with real MCP peers.
 */
import type { MiddlewareHandler } from 'hono';
import { createApp } from '../src/runtime/app.js';
import type { AppDeps, GatewayApp } from '../src/runtime/app.js';
import { createAdapterCache, createSessionSealer } from '../src/dataplane/index.js';
import { createNodeAgents } from '../src/dataplane/node/node-forwarder.js';
import type { ServerStreams } from '../src/dataplane/node/server-streams.js';
import { createNodeIo } from '../src/dataplane/node/node-io.js';
import { createFetchIo } from '../src/dataplane/index.js';
import { createRuntimeInspector, startDeployers } from '../src/deploy/index.js';
import type { RunningDeployers } from '../src/deploy/index.js';
import { createReplicaResolver } from '../src/deploy/replica-resolver.js';
import type { DeployerReplicaResolver } from '../src/deploy/replica-resolver.js';
import { RemoteDeployer } from '../src/deploy/remote/remote-deployer.js';
import type { AppEnv } from '../src/http/index.js';
import { NO_AUDIT_LOG, NO_METRICS, createSilentLogger } from '../src/observability/index.js';
import type { Logger } from '../src/observability/index.js';
import { openRegistryStore } from '../src/registry/index.js';
import type { RegistryStore } from '../src/registry/index.js';
import { createRendezvous } from '../src/routing/index.js';
import { identityHeaders } from '../src/auth/index.js';
import { STATIC_REGISTRY_FEED } from '../src/registry/index.js';
import type { RegistryChangeFeed } from '../src/registry/index.js';
import {
  TOOL_ROUTER_DEFAULTS,
  routingRefusalObserver,
  toolDefinitionObserver,
  toolRouterObserver,
} from '../src/toolrouter/index.js';
import type { ToolRouter, ToolRouterSettings } from '../src/toolrouter/index.js';
import { createNodeOutbound, startToolRouter } from '../src/toolrouter/node/index.js';
import type { ToolPolicy } from '../src/toolrouter/policy/index.js';
import { FIXTURE_SANDBOX } from './process-fixtures.js';
import { serveApp } from './serve-app.js';

/** A secret shared by test gateways that must open each other's session ids. */
export const TEST_SECRET = 'test-secret-test-secret-test-secret-0123456789';

/** Options for {@link startTestGateway}. */
export interface TestGatewayOptions {
  readonly store?: RegistryStore;
  readonly secret?: string;
  readonly authenticate?: MiddlewareHandler<AppEnv>;
  /** The creation gate and the command gate, as an authenticator builds them; `createApp`'s defaults otherwise. */
  readonly authorize?: AppDeps['authorize'];
  readonly commandGate?: AppDeps['commandGate'];
  readonly logger?: Logger;
  readonly connectTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  readonly maxBodyBytes?: number;
  readonly allowedOrigins?: readonly string[];
  /** The gateway's public URL (its host is accepted as `Host`, its origin as `Origin`); `http://127.0.0.1` by default. */
  readonly publicUrl?: string;
  /**
   * How MCP requests are served: `node` (default) takes the Node listener's fast path, as `npm start` does;
   * `hono` goes through the Hono route with the Node-native forwarder; `fetch` through the Hono route with
   * the Fetch forwarder even on a real socket (the edge path).
   */
  readonly io?: 'node' | 'hono' | 'fetch';
  readonly probeIntervalMs?: number;
  /** The data plane's placement randomness (fresh session keys, two-choices draws); `Math.random` by default. */
  readonly placementRandom?: () => number;
  /** The data plane's clock for session idle times (ms since the epoch); `Date.now` by default. */
  readonly placementNow?: () => number;
  /** Run the process deployer and the reconciler, as `npm start` does (remote endpoints work either way). */
  readonly processDeployer?: boolean;
  /** Told when a process adapter with `minReplicas` scales up or down (`processDeployer` only). */
  readonly onScale?: (ref: { kind: string; name: string }, direction: 'up' | 'down') => void;
  /** Wraps the replica resolver the data plane and the tool router use (e.g. to mark a replica draining). */
  readonly replicas?: (resolver: DeployerReplicaResolver) => DeployerReplicaResolver;
  /** Operations dependencies passed to `createApp` as they are (metrics, audit log, rate limits). */
  readonly operations?: Pick<
    AppDeps,
    'metrics' | 'metricsRoute' | 'audit' | 'rateLimits' | 'draining' | 'tracing'
  >;
  /** Serve the tool router at `/mcp` with these settings (over the defaults); absent, `/mcp` is not served. */
  readonly toolRouter?: Partial<ToolRouterSettings>;
  /** How the tool router learns of other instances' writes; the store itself when it can tell. */
  readonly changes?: RegistryChangeFeed;
  /** The tool router's tool policy (`MCP_GATEWAY_TOOL_POLICY_FILE`); everything allowed when absent. */
  readonly policy?: ToolPolicy;
}

/** A served gateway. */
export interface TestGateway {
  readonly url: string;
  /** The app itself, for requests without a socket (`app.request`). */
  readonly app: GatewayApp;
  readonly store: RegistryStore;
  readonly remote: RemoteDeployer;
  /** The deployers and reconciler, when `processDeployer` is set. */
  readonly deployers: RunningDeployers | undefined;
  /** The tool router, when `toolRouter` is set. */
  readonly toolRouter: ToolRouter | undefined;
  /** The data plane's GET streams through the Node forwarder, which a drain ends (`serverStreams.drain()`). */
  readonly serverStreams: ServerStreams;
  /** Registers a tool on the `endpoints` runtime (its URLs are what the router POSTs to). */
  registerRemoteTool(
    name: string,
    endpoints: readonly string[],
    extra?: Record<string, unknown>,
  ): Promise<void>;
  /** Registers an adapter on the `endpoints` runtime. */
  registerRemoteAdapter(
    name: string,
    endpoints: readonly string[],
    extra?: Record<string, unknown>,
  ): Promise<void>;
  close(): Promise<void>;
}

/** Starts a gateway on 127.0.0.1 with an ephemeral port. */
export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const ownStore = !options.store;
  const store = options.store ?? (await openRegistryStore(':memory:'));
  const logger = options.logger ?? createSilentLogger();
  const remoteOptions = { probeIntervalMs: options.probeIntervalMs ?? 60_000, probeTimeoutMs: 500 };
  const deployers = options.processDeployer
    ? await startDeployers({
        store,
        logger,
        remote: remoteOptions,
        deploy: {
          deployer: 'process',
          reconcileIntervalMs: 60_000,
          process: {
            stdioMaxSessions: 8,
            stdioIdleTimeoutMs: 60_000,
            startTimeoutMs: 30_000,
            stopGraceMs: 2000,
            sandbox: FIXTURE_SANDBOX,
            stateDirectory: undefined,
          },
        },
        ...(options.onScale && { onScale: options.onScale }),
      })
    : undefined;
  const remote = (deployers?.deployers[0] as RemoteDeployer | undefined) ?? new RemoteDeployer(remoteOptions);
  remote.start();
  const agents = createNodeAgents();
  const cache = createAdapterCache({ store, ttlMs: 1000 });
  const resolver = deployers?.replicas ?? createReplicaResolver(remote, new Map());
  const replicas = options.replicas ? options.replicas(resolver) : resolver;
  const changes =
    options.changes ??
    ('watchChanges' in store ? (store as unknown as RegistryChangeFeed) : STATIC_REGISTRY_FEED);
  const toolRouter = options.toolRouter
    ? await startToolRouter({
        store,
        changes,
        replicas,
        logger,
        version: '0.0.0-test',
        settings: {
          ...TOOL_ROUTER_DEFAULTS,
          connectTimeoutMs: options.connectTimeoutMs ?? 2000,
          ...options.toolRouter,
        },
        agents,
        publicUrl: 'http://127.0.0.1',
        headersFor: async (principal) => identityHeaders(principal),
        ...(options.policy && { policy: options.policy }),
        onToolCall: toolRouterObserver({
          metrics: options.operations?.metrics ?? NO_METRICS,
          audit: options.operations?.audit ?? NO_AUDIT_LOG,
        }),
        onToolDefinition: toolDefinitionObserver({
          metrics: options.operations?.metrics ?? NO_METRICS,
          audit: options.operations?.audit ?? NO_AUDIT_LOG,
        }),
        secret: options.secret ?? TEST_SECRET,
        onRoutingRefused: routingRefusalObserver(options.operations?.audit ?? NO_AUDIT_LOG),
      })
    : undefined;
  const inspector = deployers?.inspector ?? createRuntimeInspector({ probeTimeoutMs: 500 });
  // The port is not known yet; a loopback gateway accepts any loopback Host and Origin anyway.
  const origins = {
    publicUrl: options.publicUrl ?? 'http://127.0.0.1',
    allowedOrigins: options.allowedOrigins ?? [],
    loopback: true,
  };
  const app = createApp({
    store,
    inspector: toolRouter ? toolRouter.withFederationStatus(inspector) : inspector,
    logger,
    bodyLimitBytes: 1024 * 1024,
    origins,
    authenticate: options.authenticate,
    authorize: options.authorize,
    commandGate: options.commandGate,
    ...options.operations,
    onResourceChange: (ref) => {
      if (ref.kind === 'adapter') cache.invalidate(ref.name);
      deployers?.reconciler.notify(ref);
      toolRouter?.invalidate();
    },
    dataPlane: {
      lookup: (name) => cache.get(name),
      replicas,
      sealer: await createSessionSealer({ secret: options.secret ?? TEST_SECRET }),
      rendezvous: await createRendezvous(),
      io: options.io === 'fetch' ? createFetchIo() : createNodeIo(agents),
      logger,
      ...origins,
      connectTimeoutMs: options.connectTimeoutMs ?? 2000,
      idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
      maxBodyBytes: options.maxBodyBytes ?? 4 * 1024 * 1024,
      loadEpsilon: 0.25,
      ...(options.placementRandom && { random: options.placementRandom }),
      ...(options.placementNow && { now: options.placementNow }),
      // `sse` adapters as `npm start` reaches them: through the agents (Fetch on the edge path).
      ...(options.io !== 'fetch' && { sse: { outbound: createNodeOutbound(agents) } }),
    },
    toolRouter: toolRouter && {
      router: toolRouter,
      guard: origins,
    },
  });
  const served = await serveApp(app, { agents: (options.io ?? 'node') === 'node' ? agents : undefined });
  return {
    url: served.url,
    app,
    store,
    remote,
    deployers,
    toolRouter,
    serverStreams: agents.serverStreams,
    async registerRemoteTool(name, endpoints, extra = {}) {
      const res = await fetch(`${served.url}/tools`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name,
          endpoints,
          toolDefinition: { tool: { name, inputSchema: { type: 'object' } } },
          ...extra,
        }),
      });
      if (res.status !== 201)
        throw new Error(`registering ${name} failed: ${res.status} ${await res.text()}`);
    },
    async registerRemoteAdapter(name, endpoints, extra = {}) {
      const res = await fetch(`${served.url}/adapters`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, endpoints, ...extra }),
      });
      if (res.status !== 201)
        throw new Error(`registering ${name} failed: ${res.status} ${await res.text()}`);
    },
    async close() {
      await toolRouter?.close();
      await served.close();
      agents.destroy();
      await (deployers ? deployers.close() : remote.close());
      if (ownStore) await store.close();
    },
  };
}
