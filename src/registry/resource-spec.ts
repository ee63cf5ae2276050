/**
 * @module resource-spec: the stored shape of adapters and tools that every bounded context reads
 * (control plane, deployers, data plane, tool router). The control plane validates; this module only types.
 */
import type { ResourceKind, StoredResource } from './registry-store.js';

/** How a resource runs: a container image, a local process, or URLs of a server that already runs. */
export type RuntimeKind = 'image' | 'command' | 'endpoints';

/**
 * Wire protocol of an adapter: any of them for the process runtime; endpoints and images speak Streamable HTTP
 * unless they say `sse` (the 2024-11-05 HTTP+SSE transport, bridged by the data plane).
 */
export type ProcessTransport = 'streamable-http' | 'stdio' | 'sse';

/** An MCP tool definition, as the MCP specification defines it (unknown fields kept). */
export interface McpToolDefinition {
  name: string;
  title?: string;
  description?: string;
  inputSchema: { type: 'object'; [key: string]: unknown };
  outputSchema?: { type: 'object'; [key: string]: unknown };
  annotations?: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * A credential the gateway adds to its requests to a resource's upstream (`upstreamAuth`): a header whose value
 * is a stored secret (`/secrets`), named here and read when a request is sent — never the value itself.
 */
export type UpstreamAuthSpec =
  /** `Authorization: Bearer <value of secret>`. */
  | { type: 'bearer'; secret: string }
  /** `<name>: <prefix><value of secret>`; `name` as the user wrote it (header names are case-insensitive). */
  | { type: 'header'; name: string; secret: string; prefix?: string }
  /**
   * `Authorization: Bearer <access token>` from the OAuth 2.0 client credentials grant (RFC 6749 §4.4) at
   * `tokenUrl`, the client authenticated with `clientId` and the value of secret `clientSecret`.
   */
  | {
      type: 'oauth-client-credentials';
      tokenUrl: string;
      clientId: string;
      clientSecret: string;
      scopes?: string[];
    }
  /**
   * `Authorization: Bearer <the caller's access token>`: a per-user grant obtained through `/connect/{adapter}`
   * (the token vault), from `clientId` (or a registered client) at the upstream's authorization server.
   */
  | { type: 'oauth-user'; clientId?: string; clientSecret?: string; scopes?: string[] }
  /**
   * `Authorization: Bearer <exchanged token>`: the caller's own verified bearer token exchanged (RFC 8693) at
   * `tokenUrl` (absent: the gateway's OIDC issuer's token endpoint) for one meant for the upstream, the client
   * authenticated with `clientId` and the value of secret `clientSecret`. Neither `audience` nor `resource`
   * given, `resource` is the adapter's or tool's first endpoint URL.
   */
  | {
      type: 'token-exchange';
      tokenUrl?: string;
      clientId: string;
      clientSecret: string;
      audience?: string;
      resource?: string;
      scopes?: string[];
      subjectTokenType?: string;
      requestedTokenType?: string;
    };

/** Fields adapters and tools share. */
export interface CommonSpec {
  imageName?: string;
  imageVersion?: string;
  environmentVariables: Record<string, string>;
  /**
   * Variable name → name of a stored secret, resolved when a replica starts; absent when there are none (rows
   * written before references existed have none either).
   */
  secretEnvironmentVariables?: Record<string, string>;
  replicaCount: number;
  description: string;
  useWorkloadIdentity: boolean;
  requiredRoles: string[];
  endpoints?: string[];
  command?: string;
  args?: string[];
  /** The credential the gateway sends upstream (the data plane, federation, the tool router's HTTP calls). */
  upstreamAuth?: UpstreamAuthSpec;
}

/**
 * The name of the secret a spec's `upstreamAuth` refers to, or undefined when it has none: what the control
 * plane checks exists on a write and counts as a use of the secret.
 */
export function upstreamAuthSecretName(spec: Pick<CommonSpec, 'upstreamAuth'>): string | undefined {
  const auth = spec.upstreamAuth;
  if (!auth) return undefined;
  if (
    auth.type === 'oauth-client-credentials' ||
    auth.type === 'oauth-user' ||
    auth.type === 'token-exchange'
  )
    return auth.clientSecret;
  return auth.secret;
}

/**
 * Where stateless requests of an adapter go: `none` (two choices on in-flight load), `principal` (HRW on the
 * caller, bounded load) or `header:<name>` (HRW on that request header, name in lower case).
 */
export type Affinity = 'none' | 'principal' | `header:${string}`;

/** A stored adapter's spec. `port`/`path` are set for the image and command runtimes only. */
export interface AdapterSpec extends CommonSpec {
  transport?: ProcessTransport;
  /** Process runtime, stdio only: `none` gives the server no network at all (default `host`). */
  network?: 'host' | 'none';
  port?: number;
  path?: string;
  /** Per-adapter overrides of the gateway's upstream timeouts. */
  connectTimeoutMs?: number;
  idleTimeoutMs?: number;
  /** Placement of stateless requests (default `none`); legacy sessions are placed on a fresh key regardless. */
  affinity?: Affinity;
  /** Most legacy sessions per replica (this instance's count); a full replica is skipped at placement. */
  maxSessionsPerReplica?: number;
  /** A legacy session without requests for this long ends (default 900). */
  sessionIdleTimeoutSeconds?: number;
  /** Stdio adapters of the command runtime: server processes kept started ahead of their session (default 1). */
  warmSessions?: number;
  /** Process runtime: replicas kept while idle (default `replicaCount`); fewer scale up on the first request. */
  minReplicas?: number;
  /** Process runtime, with `minReplicas` below `replicaCount`: seconds without activity before scaling down (default 300). */
  idleSeconds?: number;
  /** List the adapter's tools on the tool router (`/mcp`), named `{adapter}{separator}{tool}`. */
  federate?: boolean;
}

/** A stored tool's spec. `toolDefinition.port`/`path` are set for the image and command runtimes only. */
export interface ToolSpec extends CommonSpec {
  toolDefinition: {
    tool: McpToolDefinition;
    port?: number;
    path?: string;
    /** Longest wait for the tool server's answer through the tool router; the router's default when absent. */
    timeoutMs?: number;
  };
}

/** Spec type by kind. */
export interface SpecByKind {
  adapter: AdapterSpec;
  tool: ToolSpec;
}

/** A stored resource with its spec typed by kind. */
export type Registered<K extends ResourceKind = ResourceKind> = Omit<StoredResource, 'spec' | 'kind'> & {
  readonly kind: K;
  readonly spec: SpecByKind[K];
};

/**
 * Types a stored row. The spec was validated by the control plane before it was written, so this is a
 * cast, not a parse; it lives in one place so every reader agrees.
 */
export function asRegistered<K extends ResourceKind>(row: StoredResource & { kind: K }): Registered<K> {
  return row as unknown as Registered<K>;
}

/** Whether a row read from the store is of `kind` (so its spec is that kind's). */
export function isOfKind<K extends ResourceKind>(
  row: StoredResource,
  kind: K,
): row is StoredResource & { kind: K } {
  return row.kind === kind;
}

/**
 * Types a row the store returned for a read of `kind`. A row of another kind is a store bug, thrown rather
 * than typed wrongly.
 */
export function registeredOf<K extends ResourceKind>(kind: K, row: StoredResource): Registered<K> {
  if (!isOfKind(row, kind))
    throw new Error(`registry: a read of ${kind} resources returned a ${row.kind} row`);
  return asRegistered(row);
}

/** Which runtime a spec uses; exactly one of its runtime fields is set (the control plane enforces it). */
export function runtimeOf(spec: CommonSpec): RuntimeKind {
  if (spec.endpoints) return 'endpoints';
  if (spec.command !== undefined) return 'command';
  return 'image';
}
