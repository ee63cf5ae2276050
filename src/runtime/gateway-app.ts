/**
 * @module gateway-app: what every runtime assembles alike once it has a registry, a secret, authentication and
 * somewhere to send traffic — the signing key every replica shares, the adapter cache, the sealer and the app
 * with its data plane. Used by the Node runtime and the worker; it touches no Node API, so it runs on the edge.
 */
import type { JWK } from 'jose';
import { createApp } from './app.js';
import type { AppDeps, GatewayApp } from './app.js';
import {
  createTokenVault,
  createUpstreamCredentials,
  discoverIssuer,
  generateIdentityKey,
  isSecureKeyUrl,
  parseIdentityKey,
} from '../auth/index.js';
import type { Authenticator, TokenVault, UpstreamCredentials } from '../auth/index.js';
import type { Config } from '../config/index.js';
import { createAdapterCache, createSessionSealer } from '../dataplane/index.js';
import type { ProxyIo, ReplicaResolver, SseOutbound } from '../dataplane/index.js';
import { ssrfPolicy } from '../deploy/index.js';
import type { RuntimeInspector } from '../deploy/index.js';
import type { MetricsRouteOptions, RateLimiterStore } from '../http/index.js';
import { createAuditLog } from '../observability/index.js';
import type { AuditLog, GatewayMetrics, Logger, Tracing } from '../observability/index.js';
import {
  createSecretCipher,
  createSettingsCipher,
  getOrCreateSealedSetting,
  readSecretValue,
} from '../registry/index.js';
import type { RegistryStore, SecretCipher } from '../registry/index.js';
import { createRendezvous } from '../routing/index.js';
import type { ToolRouter } from '../toolrouter/index.js';

/** Registry key of the identity-JWT signing key (private JWK, sealed with the gateway secret). */
const IDENTITY_KEY_SETTING = 'identity-signing-key';

/**
 * The identity-JWT signing key when `config` asks for identity JWTs: kept in the registry sealed with the gateway
 * secret, so every replica (and every isolate) publishes and signs with one key, and a copy of the database alone
 * does not give it away. The first gateway to start generates it.
 */
export async function loadIdentityKey(
  store: RegistryStore,
  secret: string,
  config: Pick<Config, 'auth' | 'previousSecrets'>,
): Promise<JWK | undefined> {
  if (!config.auth.identityJwt) return undefined;
  // Opens under a previous secret too (a rotation under way); `secrets rekey` re-seals it under the current one.
  const sealed = await getOrCreateSealedSetting(
    store,
    await createSettingsCipher(secret, config.previousSecrets),
    IDENTITY_KEY_SETTING,
    async () => JSON.stringify(await generateIdentityKey()),
  );
  return parseIdentityKey(sealed);
}

/** The audit log `MCP_GATEWAY_AUDIT_LOG` asks for: lines on the gateway's log, or none. */
export function auditLogFor(config: Pick<Config, 'ops'>, logger: Logger): AuditLog | undefined {
  return config.ops.auditLog ? createAuditLog(logger) : undefined;
}

/**
 * Adapters' and tools' credentials for their upstreams, read from the secret store through `cipher` and reused
 * for the registry cache's TTL (`MCP_GATEWAY_REGISTRY_CACHE_MS`), as adapters are; OAuth tokens until shortly
 * before they expire.
 */
export function upstreamCredentialsFor(
  store: RegistryStore,
  cipher: SecretCipher,
  logger: Logger,
  config: Pick<Config, 'registryCacheMs' | 'allowLinkLocal' | 'auth'>,
  vault?: TokenVault,
): UpstreamCredentials {
  const issuerTokenEndpoint = issuerTokenEndpointOf(config.auth);
  return createUpstreamCredentials({
    readSecret: (name) => readSecretValue(store, cipher, name),
    logger,
    ttlMs: config.registryCacheMs,
    // Token endpoints (oauth-client-credentials, token-exchange) get the endpoints' SSRF guard.
    refuseUrl: ssrfPolicy(config).refuseUrl,
    vault,
    ...(issuerTokenEndpoint && { issuerTokenEndpoint }),
  });
}

/**
 * In `oidc` mode, the issuer's `token_endpoint` (its discovery document, read once when first needed and again
 * after a failure): where a `token-exchange` without `tokenUrl` sends the caller's token.
 */
function issuerTokenEndpointOf(auth: Config['auth']): (() => Promise<string>) | undefined {
  if (auth.mode !== 'oidc') return undefined;
  const { issuer } = auth;
  let found: Promise<string> | undefined;
  return () => {
    if (found) return found;
    const pending = discoverIssuer(issuer).then(({ metadata }) => {
      const url = metadata['token_endpoint'];
      // The caller's token and the client secret travel there: https, or http to a loopback host.
      if (typeof url !== 'string' || !isSecureKeyUrl(url))
        throw new Error("the issuer's metadata names no https token_endpoint");
      return url;
    });
    found = pending;
    pending.catch(() => {
      if (found === pending) found = undefined;
    });
    return pending;
  };
}

/** What `upstreamAuth` `token-exchange` may do in this authentication mode (absent: refused). */
export function tokenExchangeOf(auth: Config['auth']): AppDeps['tokenExchange'] {
  if (auth.mode !== 'oidc' && auth.mode !== 'jwt') return undefined;
  return { issuerTokenEndpoint: auth.mode === 'oidc' };
}

/**
 * The token vault of `oauth-user` adapters: grants sealed with the secrets' key in the registry, dynamically
 * registered clients as sealed settings, every request to an authorization server under the SSRF guard.
 */
export async function tokenVaultFor(
  store: RegistryStore,
  secret: string,
  logger: Logger,
  config: Pick<Config, 'publicUrl' | 'allowLinkLocal' | 'previousSecrets'>,
): Promise<TokenVault> {
  const cipher = await createSecretCipher(secret, config.previousSecrets);
  return createTokenVault({
    store,
    cipher,
    settings: await createSettingsCipher(secret, config.previousSecrets),
    readSecret: (name) => readSecretValue(store, cipher, name),
    publicUrl: config.publicUrl,
    logger,
    refuseUrl: ssrfPolicy(config).refuseUrl,
  });
}

/** What a runtime hands {@link buildGatewayApp}. */
export interface GatewayAppParts {
  readonly config: Config;
  readonly store: RegistryStore;
  /** The gateway secret: session ids are sealed with it, and the key of stored secrets derived from it. */
  readonly secret: string;
  readonly auth: Authenticator;
  readonly inspector: RuntimeInspector;
  readonly replicas: ReplicaResolver;
  /** How the data plane sends requests upstream (Node's pools, or Fetch on the edge). */
  readonly io: ProxyIo;
  /** How the data plane reaches `sse` adapters (Node's guarded pools); the platform's `fetch` when absent. */
  readonly sseOutbound?: SseOutbound;
  readonly logger: Logger;
  readonly version: string;
  /** Whether the listen address is loopback: turns on the Host check against DNS rebinding. */
  readonly loopback: boolean;
  readonly metrics?: GatewayMetrics;
  readonly metricsRoute?: MetricsRouteOptions | false;
  readonly tracing?: Tracing;
  readonly audit?: AuditLog;
  readonly toolRouter?: ToolRouter;
  readonly draining?: () => boolean;
  /** The bundled Swagger UI for `/docs` (Node); absent on the edge. */
  readonly swaggerUi?: AppDeps['swaggerUi'];
  /** The built web console for `/ui/` (Node); absent on the edge. */
  readonly consoleUi?: AppDeps['consoleUi'];
  /** The gateway host's check for a `command` with whitespace (Node); absent on the edge. */
  readonly isProgramFile?: AppDeps['isProgramFile'];
  /** Told after every control-plane write, after the adapter cache and the tool router have been. */
  readonly onResourceChange?: AppDeps['onResourceChange'];
  /** The data plane's source of `upstreamAuth` credentials; built from `store` and `secret` when absent. */
  readonly upstreamCredentials?: UpstreamCredentials;
  /** The per-user grants behind `/connect` and `oauth-user`; built from `store` and `secret` when absent. */
  readonly vault?: TokenVault;
  /** Where rate-limit buckets are kept (Redis on Node with `MCP_GATEWAY_REDIS_URL`); this instance's memory when absent. */
  readonly rateLimitStore?: RateLimiterStore;
}

/**
 * How the console identifies its user: under `dev` auth (the default) it sends nothing and is the default dev
 * user; with a token mode and `MCP_GATEWAY_UI_CLIENT_ID` it signs in at the first authorization server the
 * gateway advertises, for tokens whose audience is the gateway (its public URL).
 */
function consoleAccess(config: GatewayAppParts['config']): AppDeps['consoleAccess'] {
  const { auth, uiClientId } = config;
  if (auth.mode !== 'oidc' && auth.mode !== 'jwt') return {};
  if (!uiClientId) return {};
  const issuer = auth.authorizationServers[0] ?? auth.issuer;
  return {
    signIn: {
      issuer,
      clientId: uiClientId,
      scopes: ['openid', ...auth.scopesSupported],
      resource: config.publicUrl,
    },
  };
}

/** The gateway's app: control plane, data plane at `/adapters/{name}/mcp`, and the tool router when given. */
export async function buildGatewayApp(parts: GatewayAppParts): Promise<GatewayApp> {
  const { config, auth, toolRouter } = parts;
  const cipher = await createSecretCipher(parts.secret, config.previousSecrets);
  const vault = parts.vault ?? (await tokenVaultFor(parts.store, parts.secret, parts.logger, config));
  const upstreamCredentials =
    parts.upstreamCredentials ?? upstreamCredentialsFor(parts.store, cipher, parts.logger, config, vault);
  // A write drops this instance's copy; other replicas (and isolates) keep theirs for at most the TTL.
  const adapters = createAdapterCache({ store: parts.store, ttlMs: config.registryCacheMs });
  // One policy for every route: the Host check (on a loopback bind) and the allowed browser origins.
  const origins = {
    publicUrl: config.publicUrl,
    allowedOrigins: config.allowedOrigins,
    loopback: parts.loopback,
  };
  return createApp({
    store: parts.store,
    inspector: toolRouter ? toolRouter.withFederationStatus(parts.inspector) : parts.inspector,
    logger: parts.logger,
    bodyLimitBytes: config.bodyLimitBytes,
    origins,
    version: parts.version,
    authenticate: auth.authenticate,
    authorize: auth.authorizeCreate,
    commandGate: auth.commandGate,
    secretReferenceGate: auth.secretReferenceGate,
    // A write here drops this instance's copy of the value at once; other replicas keep theirs for the TTL.
    secrets: {
      cipher,
      settings: await createSettingsCipher(parts.secret, config.previousSecrets),
      authorize: auth.authorizeSecrets,
      onChange: (name) => upstreamCredentials.forget(name),
    },
    isProgramFile: parts.isProgramFile,
    tokenExchange: tokenExchangeOf(config.auth),
    vault,
    swaggerUi: parts.swaggerUi,
    consoleUi: parts.consoleUi,
    consoleAccess: parts.consoleUi && consoleAccess(config),
    wellKnownRoutes: auth.wellKnownRoutes,
    ssrf: ssrfPolicy(config),
    metrics: parts.metrics,
    metricsRoute: parts.metricsRoute,
    tracing: parts.tracing,
    audit: parts.audit,
    rateLimits: {
      perPrincipal: config.ops.perPrincipal,
      perAdapter: config.ops.perAdapter,
      perTool: config.ops.perTool,
      ...(parts.rateLimitStore && { store: parts.rateLimitStore }),
    },
    draining: parts.draining,
    onResourceChange: (ref) => {
      if (ref.kind === 'adapter') adapters.invalidate(ref.name);
      toolRouter?.invalidate();
      parts.onResourceChange?.(ref);
    },
    dataPlane: {
      lookup: (name) => adapters.get(name),
      replicas: parts.replicas,
      sealer: await createSessionSealer({
        secret: parts.secret,
        previousSecrets: config.previousSecrets,
        maxAgeMs: config.sessionMaxAgeMs,
      }),
      rendezvous: await createRendezvous(),
      io: parts.io,
      logger: parts.logger,
      ...origins,
      connectTimeoutMs: config.upstreamConnectTimeoutMs,
      idleTimeoutMs: config.upstreamIdleTimeoutMs,
      maxBodyBytes: config.mcpBodyLimitBytes,
      loadEpsilon: config.loadEpsilon,
      identityHeaders: (principal, adapter) =>
        auth.upstreamIdentity.headersFor(principal, `${config.publicUrl}/adapters/${adapter.name}/mcp`),
      upstreamCredentials,
      sse: { outbound: parts.sseOutbound, refuseUrl: ssrfPolicy(config).refuseUrl },
    },
    toolRouter: toolRouter && { router: toolRouter, guard: origins },
  });
}
