/** @module auth: principals, how a request gets one, what it may do, and what upstreams learn about it. */
export { ADMIN_ROLE } from '../core/index.js';
export type { Principal } from '../core/index.js';
export { LOCAL_PRINCIPAL, localPrincipal } from './local-principal.js';
export type { LocalPrincipalOptions } from './local-principal.js';
export { canCreate, canManageSecrets, canRead, canRunCommands, canWrite, isAdmin } from './permissions.js';
export type { OwnedResource } from './permissions.js';
export { MASKED_VALUE, maskForReader, maskedCommandLine } from './mask.js';
export { ClaimMappingError, principalFromClaims, readClaim, scopesOf } from './claims.js';
export type { ClaimMappingOptions } from './claims.js';
export { InvalidTokenError, TokenVerifierUnavailableError } from './token-verifier.js';
export type { TokenVerifier, VerifiedToken, VerifyTokenOptions } from './token-verifier.js';
export { createJoseTokenVerifier, MAX_TOKEN_LENGTH } from './jose-token-verifier.js';
export type { JoseTokenVerifierOptions } from './jose-token-verifier.js';
export {
  discoveryKeySource,
  localJwksKeySource,
  parsePublicJwks,
  pemKeySource,
  remoteJwksKeySource,
} from './key-sources.js';
export type { KeySource, RemoteKeyOptions } from './key-sources.js';
export { discoverIssuer, discoveryUrls, isSecureKeyUrl } from './oidc-discovery.js';
export type { DiscoveredIssuer, DiscoverIssuerOptions } from './oidc-discovery.js';
export { formatBearerChallenge, insufficientRole, unauthorized } from './challenge.js';
export type { BearerChallenge, InsufficientRoleOptions } from './challenge.js';
export {
  PROTECTED_RESOURCE_METADATA_PATH,
  createProtectedResources,
  isMcpEndpointPath,
} from './protected-resource.js';
export type {
  ProtectedResourceMetadata,
  ProtectedResources,
  ProtectedResourcesOptions,
} from './protected-resource.js';
export { bearerAuth, bearerIdentify } from './bearer-auth.js';
export { callerTokenDigest } from './caller-token.js';
export { identifyOf, identifyingMiddleware } from './identify.js';
export type { Identify, IdentifyRequest, IdentifyingMiddleware } from './identify.js';
export type { BearerAuthOptions } from './bearer-auth.js';
export {
  DEFAULT_DEV_ROLE,
  DEFAULT_DEV_USER,
  DEV_ROLES_HEADER,
  DEV_USER_HEADER,
  devAuth,
  devIdentify,
} from './dev-auth.js';
export type { DevAuthOptions } from './dev-auth.js';
export { creationGate } from './creation-gate.js';
export type { CreationGateOptions } from './creation-gate.js';
export { COMMAND_FIELDS, commandAllowRefusal, commandGate } from './command-gate.js';
export { secretGate, secretReferenceGate } from './secret-gate.js';
export type { SecretGateOptions, SecretReferenceGate } from './secret-gate.js';
export type { CommandFields, CommandGate, CommandGateOptions } from './command-gate.js';
export { IDENTITY_JWKS_PATH, createWellKnownRoutes } from './well-known-routes.js';
export type { WellKnownRoutesOptions } from './well-known-routes.js';
export {
  HEADERS_ONLY_IDENTITY,
  IDENTITY_JWT_ALGORITHM,
  IDENTITY_JWT_TYPE,
  UPSTREAM_IDENTITY_HEADER,
  UPSTREAM_ROLES_HEADER,
  UPSTREAM_USER_HEADER,
  createIdentitySigner,
  generateIdentityKey,
  identityHeaders,
  parseIdentityKey,
  signedUpstreamIdentity,
} from './upstream-identity.js';
export type { IdentitySigner, IdentitySignerOptions, UpstreamIdentity } from './upstream-identity.js';
export { DEV_INSECURE_WARNING, createAuthenticator, createTokenVerifier } from './authenticator.js';
export type { Authenticator, AuthenticatorDeps } from './authenticator.js';
export {
  NO_UPSTREAM_CREDENTIALS,
  RENEWED_TOKEN_MIN_AGE_MS,
  UpstreamCredentialError,
  createUpstreamCredentials,
} from './upstream-credentials.js';
export type {
  CredentialCaller,
  CredentialedResource,
  OAuthUserAdapter,
  PerUserTokens,
  UpstreamCredential,
  UpstreamCredentialProblem,
  UpstreamCredentials,
  UpstreamCredentialsOptions,
} from './upstream-credentials.js';
export {
  CLIENT_METADATA_PATH,
  ConnectFlowError,
  ConnectionRequiredError,
  createTokenVault,
  grantSealName,
} from './token-vault.js';
export type { ConnectStart, TokenVault, TokenVaultOptions } from './token-vault.js';
