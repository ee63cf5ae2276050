/** @module test-app: builds the real app on an in-memory SQLite registry for tests. */
import type { MiddlewareHandler } from 'hono';
import { createApp } from '../src/runtime/app.js';
import type { AppDeps } from '../src/runtime/app.js';
import type { ConsoleAccess, ConsoleAssets } from '../src/runtime/console-routes.js';
import type { SwaggerUiAssets } from '../src/runtime/docs-routes.js';
import type {
  CommandGate,
  IdentifyingMiddleware,
  Principal,
  SecretReferenceGate,
} from '../src/auth/index.js';
import { LOCAL_PRINCIPAL, createTokenVault, identifyingMiddleware } from '../src/auth/index.js';
import type { TokenVault } from '../src/auth/index.js';
import type { ResourceChangeListener } from '../src/control/index.js';
import { createRuntimeInspector } from '../src/deploy/index.js';
import type { RuntimeInspector } from '../src/deploy/index.js';
import type { AppEnv, OriginPolicy } from '../src/http/index.js';
import { createSilentLogger } from '../src/observability/index.js';
import type { AuditLog, Logger } from '../src/observability/index.js';
import {
  createSecretCipher,
  createSettingsCipher,
  openRegistryStore,
  readSecretValue,
} from '../src/registry/index.js';
import type { RegistryStore } from '../src/registry/index.js';

/** Options for {@link createTestApp}. */
export interface TestAppOptions {
  readonly store?: RegistryStore;
  readonly inspector?: RuntimeInspector;
  readonly logger?: Logger;
  readonly bodyLimitBytes?: number;
  readonly authenticate?: MiddlewareHandler<AppEnv>;
  /** The creation gate (an authenticator's `authorizeCreate`); everyone may create by default. */
  readonly authorize?: MiddlewareHandler<AppEnv>;
  /** Who may register `command`; only `mcp.admin` by default, as in `createApp`. */
  readonly commandGate?: CommandGate;
  /** Whether a `command` with whitespace is a file on the host; absent, such a command is refused. */
  readonly isProgramFile?: (command: string) => Promise<boolean>;
  readonly tokenExchange?: AppDeps['tokenExchange'];
  /** The vault's Client ID Metadata Document URL (an http one for a loopback test authorization server). */
  readonly clientMetadataUrl?: string;
  readonly version?: string;
  /** The Swagger UI files `/docs` serves; absent, `/docs` links the OpenAPI document (as on the edge). */
  readonly swaggerUi?: SwaggerUiAssets;
  /** The built console `/ui/` serves; absent, no `/ui/` (as on the edge). */
  readonly consoleUi?: ConsoleAssets;
  /** How the console identifies its user; absent, it sends nothing. */
  readonly consoleAccess?: ConsoleAccess;
  /** Default: {@link LOOPBACK_ORIGINS}. */
  readonly origins?: OriginPolicy;
  readonly audit?: AuditLog;
  /** Who may call `/secrets` (an authenticator's `authorizeSecrets`); only `mcp.admin` by default. */
  readonly authorizeSecrets?: MiddlewareHandler<AppEnv>;
  /** Who may name secrets in adapters and tools; only `mcp.admin` by default, as in `createApp`. */
  readonly secretReferenceGate?: SecretReferenceGate;
  /** Told after every control-plane write (and of every user of a rotated secret). */
  readonly onResourceChange?: ResourceChangeListener;
  /** The gateway secret the secret store's key comes from; default {@link TEST_GATEWAY_SECRET}. */
  readonly gatewaySecret?: string;
  /** Previous gateway secrets (a rotation under way): values sealed under them still open. */
  readonly previousSecrets?: readonly string[];
}

/** The gateway secret of test apps. */
export const TEST_GATEWAY_SECRET = 'test-gateway-secret-0123456789abcdefghijklmnop';

/** The origin policy of a gateway on 127.0.0.1:3000 with nothing else allowed, as `npm start` runs by default. */
export const LOOPBACK_ORIGINS: OriginPolicy = {
  publicUrl: 'http://127.0.0.1:3000',
  allowedOrigins: [],
  loopback: true,
};

/** The app plus what a test needs to inspect and clean up. */
export async function createTestApp(options: TestAppOptions = {}) {
  const store = options.store ?? (await openRegistryStore(':memory:'));
  const secret = options.gatewaySecret ?? TEST_GATEWAY_SECRET;
  const cipher = await createSecretCipher(secret, options.previousSecrets);
  const settings = await createSettingsCipher(secret, options.previousSecrets);
  const logger = options.logger ?? createSilentLogger();
  let vault: TokenVault;
  const app = createApp({
    store,
    inspector: options.inspector ?? createRuntimeInspector({ probeTimeoutMs: 1000 }),
    logger,
    bodyLimitBytes: options.bodyLimitBytes ?? 1024 * 1024,
    origins: options.origins ?? LOOPBACK_ORIGINS,
    audit: options.audit,
    authenticate: options.authenticate,
    authorize: options.authorize,
    commandGate: options.commandGate,
    secretReferenceGate: options.secretReferenceGate,
    onResourceChange: options.onResourceChange,
    secrets: { cipher, settings, authorize: options.authorizeSecrets },
    vault: (vault = createTokenVault({
      store,
      cipher,
      settings,
      readSecret: (name) => readSecretValue(store, cipher, name),
      publicUrl: (options.origins ?? LOOPBACK_ORIGINS).publicUrl,
      logger,
      ...(options.clientMetadataUrl && { clientMetadataUrl: options.clientMetadataUrl }),
    })),
    isProgramFile: options.isProgramFile,
    tokenExchange: options.tokenExchange,
    swaggerUi: options.swaggerUi,
    consoleUi: options.consoleUi,
    consoleAccess: options.consoleAccess,
    version: options.version,
  });
  return { app, store, vault, close: () => store.close() };
}

/**
 * Acts as the principal named by `X-Test-User` / `X-Test-Roles` (comma-separated); tests use it to play
 * several users until real authentication exists.
 */
export function headerPrincipal(): IdentifyingMiddleware {
  return identifyingMiddleware((request): Principal => {
    const userId = request.header('x-test-user');
    if (!userId) return LOCAL_PRINCIPAL;
    return { userId, roles: (request.header('x-test-roles') ?? '').split(',').filter(Boolean) };
  });
}

/** A JSON request init for `app.request`. */
export function json(method: string, body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/** A minimal valid adapter body on the image runtime. */
export function imageAdapter(name: string, extra: Record<string, unknown> = {}) {
  return { name, imageName: 'team/server', imageVersion: '1.0.0', ...extra };
}

/** A minimal valid tool body on the image runtime. */
export function imageTool(name: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    imageName: 'team/tool',
    imageVersion: '1.0.0',
    toolDefinition: { tool: { name, description: 'Scores text', inputSchema: { type: 'object' } } },
    ...extra,
  };
}
