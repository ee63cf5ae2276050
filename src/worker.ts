/**
 * @module worker: the edge entry (Cloudflare Workers, built by wrangler from `wrangler.toml`). Reads the
 * worker's bindings — the only edge module that does — and serves the same app as `main.ts` with a D1 registry,
 * the `endpoints` runtime only, and the Fetch forwarder. The gateway is built on an isolate's first request
 * (D1 can only be reached inside a request) and reused by every later request the isolate serves.
 */
import type { ExecutionContext } from 'hono';
import { createAuthenticator } from './auth/index.js';
import { ConfigError, parseConfig } from './config/index.js';
import type { Config } from './config/index.js';
import { createFetchIo } from './dataplane/index.js';
import type { ReplicaResolver } from './dataplane/index.js';
import { RemoteDeployer, createDeployerInspector, ssrfPolicy } from './deploy/index.js';
import type { ReplicaEndpoint } from './deploy/index.js';
import { createLogger } from './observability/index.js';
import type { Logger } from './observability/index.js';
import { D1RegistryStore, d1Migrations } from './registry/index.js';
import type { D1DatabaseBinding, RegistryStore } from './registry/index.js';
import { auditLogFor, buildGatewayApp, loadIdentityKey } from './runtime/gateway-app.js';
// wrangler bundles these as text (the `Text` rule in wrangler.toml): the SQLite migrations are D1's migrations.
// A new migration must be imported here too; the journal check in d1Migrations refuses to start without it.
import journal from '../migrations/sqlite/meta/_journal.json' with { type: 'json' };
import packageJson from '../package.json' with { type: 'json' };
import sql0000 from '../migrations/sqlite/0000_init.sql';
import sql0001 from '../migrations/sqlite/0001_registry_revision.sql';
import sql0002 from '../migrations/sqlite/0002_registry_revision_triggers.sql';
import sql0003 from '../migrations/sqlite/0003_resource_uid.sql';
import sql0004 from '../migrations/sqlite/0004_resource_uid_backfill.sql';
import sql0005 from '../migrations/sqlite/0005_secrets.sql';
import sql0006 from '../migrations/sqlite/0006_tool_pins.sql';
import sql0007 from '../migrations/sqlite/0007_oauth_grants.sql';
import sql0008 from '../migrations/sqlite/0008_toolset_kind.sql';

const MIGRATION_SQL: Readonly<Record<string, string>> = {
  '0000_init': sql0000,
  '0001_registry_revision': sql0001,
  '0002_registry_revision_triggers': sql0002,
  '0003_resource_uid': sql0003,
  '0004_resource_uid_backfill': sql0004,
  '0005_secrets': sql0005,
  '0006_tool_pins': sql0006,
  '0007_oauth_grants': sql0007,
  '0008_toolset_kind': sql0008,
};

/**
 * Placed into the configuration as the listen address: a worker is reachable from the internet, so the
 * loopback-only conveniences (default `dev` auth, the Host check) must never switch on.
 */
const EDGE_HOST = '0.0.0.0';

/** The worker's bindings: the D1 database and the `[vars]`/secrets of `wrangler.toml`. */
export interface WorkerEnv {
  /** The registry. */
  readonly DB: D1DatabaseBinding;
  /** `MCP_GATEWAY_*` variables and secrets (strings); anything else is ignored. */
  readonly [binding: string]: unknown;
}

/** The Workers `ExecutionContext`, as Hono types it (the Workers globals clash with Node's in one program). */
export type WorkerContext = ExecutionContext;

interface Gateway {
  readonly fetch: (request: Request, ctx: WorkerContext) => Response | Promise<Response>;
}

/** Why the bindings cannot run a gateway on the edge, before the shared configuration is even parsed. */
function edgeProblems(vars: Readonly<Record<string, string>>, env: WorkerEnv): string[] {
  const problems: string[] = [];
  const set = (key: string) => (vars[key] ?? '').trim() !== '';
  if (!env.DB)
    problems.push('the D1 binding DB is missing ([[d1_databases]] binding = "DB" in wrangler.toml)');
  if (!set('MCP_GATEWAY_SECRET')) {
    // Node generates one into a file; an isolate has no file system and isolates start everywhere at once.
    problems.push('MCP_GATEWAY_SECRET must be set as a secret: `npx wrangler secret put MCP_GATEWAY_SECRET`');
  }
  if (!set('MCP_GATEWAY_PUBLIC_URL')) {
    problems.push('MCP_GATEWAY_PUBLIC_URL must be set to the URL clients reach the worker at');
  }
  if (!set('MCP_GATEWAY_AUTH')) {
    problems.push(
      'MCP_GATEWAY_AUTH must be set on the edge: oidc or jwt (dev-insecure trusts X-Dev-* headers)',
    );
  }
  if (set('MCP_GATEWAY_JWKS_FILE')) {
    problems.push(
      'MCP_GATEWAY_JWKS_FILE cannot be read on the edge (no file system); use MCP_GATEWAY_JWKS_URL or MCP_GATEWAY_JWT_PUBLIC_KEY',
    );
  }
  if (set('DATABASE_URL'))
    problems.push('DATABASE_URL has no effect on the edge: the registry is the D1 binding DB');
  if (set('MCP_GATEWAY_DEPLOYER')) {
    problems.push('MCP_GATEWAY_DEPLOYER has no effect on the edge: only the endpoints runtime is served');
  }
  return problems;
}

function stringBindings(env: WorkerEnv): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (typeof value === 'string') vars[key] = value;
  return vars;
}

/** Ready replicas of `endpoints` adapters, kept healthy by what the data plane's own requests meet. */
interface PassiveHealth extends ReplicaResolver {
  /** The Fetch the data plane forwards with: a connection that fails takes its URL out (see below). */
  readonly fetch: typeof fetch;
}

/**
 * Passive health for the edge, where no timer may outlive its request and so no probe loop runs. A URL whose
 * connection failed sits out for the health interval, then takes traffic again; if it fails again, it sits out
 * again. Failures are seen in the forwarder's Fetch because workerd reports a refused connection as
 * "Network connection lost.", like one dropped after the request went out, so the data plane cannot tell that
 * nothing was sent: the request that met the failure is answered 502, not retried, and later ones go elsewhere.
 */
function passiveHealth(config: Config): PassiveHealth {
  const downUntil = new Map<string, number>();
  const refuse = ssrfPolicy(config).refuseUrl ?? (() => undefined);
  const markDown = (url: string) => downUntil.set(url, Date.now() + config.healthIntervalMs);
  return {
    ready(adapter) {
      const now = Date.now();
      const ready: ReplicaEndpoint[] = [];
      for (const url of adapter.spec.endpoints ?? []) {
        if ((downUntil.get(url) ?? 0) > now || refuse(url)) continue;
        ready.push({ id: url, url, weight: 1 });
      }
      return ready;
    },
    reportUnreachable(_adapter, replica) {
      markDown(replica.url);
    },
    fetch: async (input, init) => {
      try {
        return await fetch(input, init);
      } catch (err) {
        // An abort is the client leaving or the forwarder's own timeout, not a sign of a dead upstream.
        if (!init?.signal?.aborted) markDown(input instanceof Request ? input.url : String(input));
        throw err;
      }
    },
  };
}

async function buildGateway(env: WorkerEnv, vars: Record<string, string>, config: Config, logger: Logger) {
  const store: RegistryStore = await D1RegistryStore.open(env.DB, {
    migrations: await d1Migrations(journal, MIGRATION_SQL),
  });
  const secret = vars.MCP_GATEWAY_SECRET!;
  const identityKey = await loadIdentityKey(store, secret, config);
  const auth = await createAuthenticator(config.auth, { logger, identityKey });
  for (const warning of auth.warnings) logger.warn({ auth: auth.mode }, warning);

  // Never started: its probe loop would outlive the request. Status reads probe within their own request.
  const remote = new RemoteDeployer({
    probeIntervalMs: config.healthIntervalMs,
    probeTimeoutMs: config.probeTimeoutMs,
    probeConcurrency: config.probeConcurrency,
    refuseUrl: ssrfPolicy(config).refuseUrl,
  });
  const health = passiveHealth(config);
  const app = await buildGatewayApp({
    config,
    store,
    secret,
    auth,
    inspector: createDeployerInspector({ deployers: [remote] }),
    replicas: health,
    io: createFetchIo(health.fetch),
    logger,
    version: packageJson.version,
    // A worker is reachable from the internet: the loopback-only Host check never applies.
    loopback: false,
    audit: auditLogFor(config, logger),
  });
  // No warm-up of the issuer's keys: a fetch left running when this request ends would be cancelled, so the
  // first request that needs them fetches them.
  logger.info({ registry: store.dialect, publicUrl: config.publicUrl, auth: auth.mode }, 'gateway ready');
  return app;
}

/** Parses the bindings and builds the gateway; throws {@link ConfigError} naming every bad binding. */
async function startGateway(env: WorkerEnv): Promise<Gateway> {
  const vars = stringBindings(env);
  const problems = edgeProblems(vars, env);
  let config: Config | undefined;
  try {
    config = parseConfig({ ...vars, MCP_GATEWAY_HOST: EDGE_HOST });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  if (problems.length > 0 || !config) throw new ConfigError(problems);
  const logger = createLogger({ level: config.logLevel });
  const app = await buildGateway(env, vars, config, logger);
  return { fetch: (request, ctx) => app.fetch(request, {}, ctx) };
}

let starting: Promise<Gateway> | undefined;
const bootLogger = createLogger({ level: 'info' });

function unavailable(): Response {
  // The reason is in the worker's log only: configuration details are nobody else's business.
  return Response.json(
    {
      error: {
        code: 'gateway_unavailable',
        message: 'The gateway could not start; the reason is in the worker log (`npx wrangler tail`).',
      },
    },
    { status: 503, headers: { 'retry-after': '10' } },
  );
}

/** The Workers module entry. */
export default {
  async fetch(request: Request, env: WorkerEnv, ctx: WorkerContext): Promise<Response> {
    starting ??= startGateway(env);
    let gateway: Gateway;
    try {
      gateway = await starting;
    } catch (err) {
      // Not cached: a D1 hiccup must not take the isolate down for good, and a bad binding is fixed by a deploy.
      starting = undefined;
      // A configuration problem is said in full by its message; anything else needs its stack.
      bootLogger.error({ err: err instanceof ConfigError ? err.message : err }, 'cannot start the gateway');
      return unavailable();
    }
    return gateway.fetch(request, ctx);
  },
};
