/**
 * @module authenticator: builds everything authentication needs for one {@link AuthConfig} — the middleware
 * for the mode, the creation gate, the well-known routes, and the upstream identity — so the entry point
 * wires one object.
 */
import type { Hono, MiddlewareHandler } from 'hono';
import type { JWK } from 'jose';
import type { AuthConfig, AuthMode, TokenAuthConfig } from '../config/auth-config.js';
import type { AppEnv } from '../http/index.js';
import type { Logger } from '../observability/index.js';
import { createSilentLogger } from '../observability/index.js';
import { bearerAuth } from './bearer-auth.js';
import { commandGate } from './command-gate.js';
import type { CommandGate } from './command-gate.js';
import { creationGate } from './creation-gate.js';
import { DEFAULT_DEV_ROLE, devAuth } from './dev-auth.js';
import type { IdentifyingMiddleware } from './identify.js';
import { createJoseTokenVerifier } from './jose-token-verifier.js';
import {
  discoveryKeySource,
  localJwksKeySource,
  parsePublicJwks,
  pemKeySource,
  remoteJwksKeySource,
} from './key-sources.js';
import type { KeySource } from './key-sources.js';
import { createProtectedResources } from './protected-resource.js';
import type { ProtectedResources } from './protected-resource.js';
import type { TokenVerifier } from './token-verifier.js';
import {
  HEADERS_ONLY_IDENTITY,
  createIdentitySigner,
  generateIdentityKey,
  signedUpstreamIdentity,
} from './upstream-identity.js';
import type { UpstreamIdentity } from './upstream-identity.js';
import { secretGate, secretReferenceGate } from './secret-gate.js';
import type { SecretReferenceGate } from './secret-gate.js';
import { createWellKnownRoutes } from './well-known-routes.js';

/** What {@link createAuthenticator} needs besides the configuration. */
export interface AuthenticatorDeps {
  readonly logger?: Logger;
  readonly fetch?: typeof fetch;
  /** Reads `MCP_GATEWAY_JWKS_FILE` (core code does no file I/O); required in that mode. */
  readonly readFile?: (path: string) => Promise<string>;
  readonly clock?: () => Date;
  /**
   * Private ES256 JWK for `X-Mcp-Identity`. Give the same key to every replica (e.g. kept in the registry),
   * or upstreams fetching the JWKS through a load balancer may see another replica's key. Generated when
   * absent, which suits a single process.
   */
  readonly identityKey?: JWK;
  /** JWKS refetch cooldown after an unknown `kid`; default 30 s. */
  readonly jwksCooldownMs?: number;
}

/** Everything authentication contributes to the app. */
export interface Authenticator {
  readonly mode: AuthMode;
  /** Sets `principal`, or answers 401/400. Mount on every protected path. */
  readonly authenticate: IdentifyingMiddleware;
  /** Enforces `MCP_GATEWAY_CREATOR_ROLES` on `POST /adapters` and `POST /tools`; mount after authenticate. */
  readonly authorizeCreate: MiddlewareHandler<AppEnv>;
  /**
   * Enforces `MCP_GATEWAY_COMMAND_ROLES` and `MCP_GATEWAY_COMMAND_ALLOW` on create and replace bodies; in the
   * dev modes the default dev role (`mcp.dev`) qualifies too, so the local user runs commands without headers.
   */
  readonly commandGate: CommandGate;
  /**
   * Enforces `MCP_GATEWAY_SECRET_ROLES` on every `/secrets` route; mount after authenticate. In the dev modes the
   * default dev role qualifies too, as for the command gate.
   */
  readonly authorizeSecrets: MiddlewareHandler<AppEnv>;
  /** Who may name secrets in adapters and tools (`secretEnvironmentVariables`): the same roles as `/secrets`. */
  readonly secretReferenceGate: SecretReferenceGate;
  /** `/.well-known/oauth-protected-resource[/…]` and `/.well-known/jwks.json`; mount unauthenticated. */
  readonly wellKnownRoutes: Hono<AppEnv>;
  /** Identity headers for upstream requests. */
  readonly upstreamIdentity: UpstreamIdentity;
  /** Resource URLs and metadata; undefined in dev modes. */
  readonly resources: ProtectedResources | undefined;
  /** Log each at warn on every start. */
  readonly warnings: readonly string[];
  /** Loads issuer metadata and keys now; a rejection is worth a warning, not a failed start. */
  warmUp(): Promise<void>;
}

/** The warning logged on every start in `dev-insecure` mode. */
export const DEV_INSECURE_WARNING =
  'MCP_GATEWAY_AUTH=dev-insecure: authentication is OFF. Every caller that can reach the gateway is trusted to name itself with X-Dev-UserId / X-Dev-Roles, including as mcp.admin. Use MCP_GATEWAY_AUTH=oidc or jwt for anything but a trusted network.';

async function keySourceFor(config: TokenAuthConfig, deps: AuthenticatorDeps): Promise<KeySource> {
  const remote = { fetch: deps.fetch, cooldownMs: deps.jwksCooldownMs };
  const keys = config.keys;
  switch (keys.kind) {
    case 'discovery':
      return discoveryKeySource(config.issuer, remote);
    case 'jwks-url':
      return remoteJwksKeySource(keys.url, remote);
    case 'jwks-file': {
      if (!deps.readFile)
        throw new TypeError('createAuthenticator: readFile is required for MCP_GATEWAY_JWKS_FILE');
      let text: string;
      try {
        text = await deps.readFile(keys.path);
      } catch (err) {
        throw new Error(`MCP_GATEWAY_JWKS_FILE: cannot read ${keys.path}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      try {
        return localJwksKeySource(parsePublicJwks(text));
      } catch (err) {
        throw new Error(`MCP_GATEWAY_JWKS_FILE (${keys.path}): ${(err as Error).message}`, { cause: err });
      }
    }
    case 'pem':
      try {
        return await pemKeySource(keys.pem, config.algorithms);
      } catch (err) {
        throw new Error(`MCP_GATEWAY_JWT_PUBLIC_KEY: ${(err as Error).message}`, { cause: err });
      }
  }
}

/** Builds the verifier for a token mode (exported for tests and tools that verify outside HTTP). */
export async function createTokenVerifier(
  config: TokenAuthConfig,
  deps: AuthenticatorDeps = {},
): Promise<TokenVerifier> {
  return createJoseTokenVerifier({
    issuer: config.issuer,
    keys: await keySourceFor(config, deps),
    audiences: config.audiences,
    algorithms: config.algorithms,
    clockToleranceSeconds: config.clockToleranceSeconds,
    userClaim: config.userClaim,
    rolesClaim: config.rolesClaim,
    ...(deps.clock && { clock: deps.clock }),
  });
}

/**
 * Builds the {@link Authenticator} for the configured mode. Rejects (with a message naming the variable) when
 * key material given in the configuration is unusable; an unreachable issuer is not an error here.
 */
export async function createAuthenticator(
  config: AuthConfig,
  deps: AuthenticatorDeps = {},
): Promise<Authenticator> {
  const logger = deps.logger ?? createSilentLogger();
  const identityKey = config.identityJwt ? (deps.identityKey ?? (await generateIdentityKey())) : undefined;
  const upstreamIdentity = identityKey
    ? signedUpstreamIdentity(
        await createIdentitySigner({
          issuer: config.publicUrl,
          privateJwk: identityKey,
          ...(deps.clock && { clock: deps.clock }),
        }),
      )
    : HEADERS_ONLY_IDENTITY;

  if (config.mode === 'oidc' || config.mode === 'jwt') {
    const resources = createProtectedResources({
      publicUrl: config.publicUrl,
      authorizationServers: config.authorizationServers,
      scopesSupported: config.scopesSupported,
    });
    const verifier = await createTokenVerifier(config, deps);
    return {
      mode: config.mode,
      authenticate: bearerAuth({ verifier, resources, logger }),
      authorizeCreate: creationGate({
        creatorRoles: config.creatorRoles,
        metadataUrlFor: resources.metadataUrlFor,
      }),
      commandGate: commandGate({
        commandRoles: config.commandRoles,
        allow: config.commandAllow,
        metadataUrlFor: resources.metadataUrlFor,
      }),
      authorizeSecrets: secretGate({
        secretRoles: config.secretRoles,
        metadataUrlFor: resources.metadataUrlFor,
      }),
      secretReferenceGate: secretReferenceGate({
        secretRoles: config.secretRoles,
        metadataUrlFor: resources.metadataUrlFor,
      }),
      wellKnownRoutes: createWellKnownRoutes({ resources, identityJwks: upstreamIdentity.jwks }),
      upstreamIdentity,
      resources,
      warnings: [],
      warmUp: () => verifier.warmUp(),
    };
  }

  return {
    mode: config.mode,
    authenticate: devAuth(),
    authorizeCreate: creationGate({ creatorRoles: config.creatorRoles }),
    // Every caller here may name itself mcp.admin by header anyway; the default identity is the local user.
    commandGate: commandGate({
      commandRoles: [...config.commandRoles, DEFAULT_DEV_ROLE],
      allow: config.commandAllow,
    }),
    authorizeSecrets: secretGate({ secretRoles: [...config.secretRoles, DEFAULT_DEV_ROLE] }),
    secretReferenceGate: secretReferenceGate({ secretRoles: [...config.secretRoles, DEFAULT_DEV_ROLE] }),
    wellKnownRoutes: createWellKnownRoutes({ identityJwks: upstreamIdentity.jwks }),
    upstreamIdentity,
    resources: undefined,
    warnings: config.mode === 'dev-insecure' ? [DEV_INSECURE_WARNING] : [],
    warmUp: async () => undefined,
  };
}
