/**
 * @module protected-resource: the gateway's protected resources (RFC 9728) — which paths are MCP endpoints,
 * their canonical URLs (the RFC 8707 `resource`), where their metadata lives, and the metadata itself.
 */

/** Path of the root metadata document; endpoint documents append the endpoint path (RFC 9728 §3.1). */
export const PROTECTED_RESOURCE_METADATA_PATH = '/.well-known/oauth-protected-resource';

/** The metadata document (RFC 9728 §2), with the fields the gateway fills. */
export interface ProtectedResourceMetadata {
  readonly resource: string;
  readonly authorization_servers: readonly string[];
  readonly scopes_supported?: readonly string[];
  readonly bearer_methods_supported: readonly string[];
  readonly resource_name: string;
}

/** Options for {@link createProtectedResources}. */
export interface ProtectedResourcesOptions {
  /** The gateway's public URL (no trailing slash); may have a path when it sits under a prefix. */
  readonly publicUrl: string;
  /** At least one, as MCP requires. */
  readonly authorizationServers: readonly string[];
  readonly scopesSupported?: readonly string[];
  /** Shown by clients when they ask the user to sign in. */
  readonly resourceName?: string;
}

/** URL arithmetic and metadata for every protected resource of the gateway. */
export interface ProtectedResources {
  /** True for `/mcp`, `/toolsets/{name}/mcp` and `/adapters/{name}/mcp`. */
  isMcpEndpoint(path: string): boolean;
  /** Canonical URL of the resource a request path belongs to: the endpoint URL, or the gateway URL. */
  resourceFor(path: string): string;
  /** Where the metadata of that resource is (path-suffixed for MCP endpoints, the root document otherwise). */
  metadataUrlFor(path: string): string;
  /** The metadata document for a path below the well-known prefix (`''` = root), or undefined (404). */
  metadataFor(suffix: string): ProtectedResourceMetadata | undefined;
  /** Space-separated `scopes_supported`, for challenges; empty when none are configured. */
  readonly scope: string;
}

// DNS-1123 label, as adapter and toolset names are; anything else cannot be one and gets no metadata.
const ADAPTER_MCP = /^\/adapters\/[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\/mcp$/;
const TOOLSET_MCP = /^\/toolsets\/[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\/mcp$/;

/** True for the tool router, toolset and adapter data-plane paths. */
export function isMcpEndpointPath(path: string): boolean {
  return path === '/mcp' || ADAPTER_MCP.test(path) || TOOLSET_MCP.test(path);
}

/** Builds the {@link ProtectedResources} of a gateway; validates the options. */
export function createProtectedResources(options: ProtectedResourcesOptions): ProtectedResources {
  const base = new URL(options.publicUrl);
  if (options.authorizationServers.length === 0) {
    throw new TypeError(
      'createProtectedResources: at least one authorization server is required (RFC 9728, MCP)',
    );
  }
  const origin = base.origin;
  // A public URL with a path (a gateway behind a prefix) keeps it in front of every route path.
  const prefix = base.pathname.replace(/\/+$/, '');
  const gatewayUrl = origin + prefix;
  const scopes = options.scopesSupported ?? [];
  const resourceName = options.resourceName ?? 'MCP Gateway';

  const resourceFor = (path: string) => (isMcpEndpointPath(path) ? gatewayUrl + path : gatewayUrl);
  const document = (resource: string): ProtectedResourceMetadata => ({
    resource,
    authorization_servers: [...options.authorizationServers],
    ...(scopes.length > 0 && { scopes_supported: [...scopes] }),
    bearer_methods_supported: ['header'],
    resource_name: resourceName,
  });

  return {
    isMcpEndpoint: isMcpEndpointPath,
    resourceFor,
    // RFC 9728 §3.1 inserts the well-known segment between the host and the resource's path.
    metadataUrlFor: (path) =>
      isMcpEndpointPath(path)
        ? `${origin}${PROTECTED_RESOURCE_METADATA_PATH}${prefix}${path}`
        : `${origin}${PROTECTED_RESOURCE_METADATA_PATH}${prefix}`,
    metadataFor: (suffix) => {
      if (suffix === '' || suffix === '/' || suffix === prefix) return document(gatewayUrl);
      const path = prefix && suffix.startsWith(`${prefix}/`) ? suffix.slice(prefix.length) : suffix;
      return isMcpEndpointPath(path) ? document(gatewayUrl + path) : undefined;
    },
    scope: scopes.join(' '),
  };
}
