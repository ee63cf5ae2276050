/**
 * @module toolrouter-settings: the tool router's tunables, their defaults and the rules of its name settings.
 * Here, not in the router, because configuration validates them at start and may not depend on a feature; free
 * of the MCP SDK, since the edge build loads configuration without the router.
 */

/** The MCP tool-name alphabet (2025-11-25 `server/tools`: `[A-Za-z0-9_.-]`, case-sensitive). */
export const TOOL_NAME_ALPHABET = /^[A-Za-z0-9_.-]+$/;
/** Default separator between the adapter name and the upstream tool name. */
export const DEFAULT_SEPARATOR = '__';
/**
 * Default longest exposed name. The specification allows 128 characters, but widely used model APIs refuse
 * function names over 64, so 64 keeps every client working.
 */
export const DEFAULT_MAX_NAME_LENGTH = 64;
/**
 * Why `separator` cannot be used, or undefined. It must be 1–8 characters of the alphabet and contain `_` or
 * `.`: adapter and registered tool names are DNS labels (letters, digits, `-`), so such a separator can never
 * appear inside an adapter name, and a federated name can never equal a registered tool's name.
 */
export function separatorProblem(separator: string): string | undefined {
  if (separator.length < 1 || separator.length > 8 || !TOOL_NAME_ALPHABET.test(separator)) {
    return 'must be 1–8 characters of A–Z, a–z, 0–9, "_", "." and "-"';
  }
  if (!/[_.]/.test(separator)) {
    return 'must contain "_" or "." so it cannot occur in an adapter name (e.g. "__")';
  }
  return undefined;
}

/**
 * How `/mcp` offers its tools: `list` lists every tool the caller may use; `search` lists just `search_tools` and
 * `call_tool`, for catalogs too large to put in a model's context (a direct `tools/call` by name still works).
 */
export const TOOL_DISCOVERY_MODES = ['list', 'search'] as const;
export type ToolDiscoveryMode = (typeof TOOL_DISCOVERY_MODES)[number];

/**
 * What the router does when a federated tool's definition differs from the one pinned on first sight (or last
 * approved): `off` pins nothing; `warn` audits and counts the change once and serves the new definition;
 * `enforce` hides the tool and refuses its calls until an admin approves the new definition.
 */
export const TOOL_PINNING_MODES = ['off', 'warn', 'enforce'] as const;
export type ToolPinningMode = (typeof TOOL_PINNING_MODES)[number];

/** Tunables of the router; every one has a default ({@link TOOL_ROUTER_DEFAULTS}). */
export interface ToolRouterSettings {
  /** `tools/list` lists every tool (`list`) or the two search tools (`search`). */
  readonly discovery: ToolDiscoveryMode;
  /** Tool-definition pinning of federated tools (`MCP_GATEWAY_TOOL_PINNING`). */
  readonly pinning: ToolPinningMode;
  /** Between adapter and tool in federated names; must contain `_` or `.`. */
  readonly separator: string;
  /** Longest exposed name; longer federated names become aliases. */
  readonly maxNameLength: number;
  /** Tools per `tools/list` page. */
  readonly pageSize: number;
  /** Default `tools/call` timeout (a registered tool's `toolDefinition.timeoutMs` overrides it). */
  readonly callTimeoutMs: number;
  /** Longest wait for a federated adapter's tool list; one that takes longer is left out. */
  readonly listTimeoutMs: number;
  /** Longest wait for a connection to a tool server or adapter replica. */
  readonly connectTimeoutMs: number;
  /** A failed federated adapter is listed again after 1 s, then twice as long after each failure, at most this long. */
  readonly retryMs: number;
  /** A federated adapter is listed again after this long even without `list_changed`. */
  readonly refreshMs: number;
  /** Registry reads are reused at most this long without a change notice. */
  readonly registryMaxAgeMs: number;
  /** Largest tool-server answer read. */
  readonly maxResultBytes: number;
  /** Largest MCP request body. */
  readonly maxBodyBytes: number;
  /**
   * Legacy GET streams end, and `subscriptions/listen` streams close gracefully, after this long (the client
   * reconnects and is authenticated again).
   */
  readonly streamMaxAgeMs: number;
  /**
   * Plain 2026-07-28 `tools/call` requests are answered without the SDK's per-request server, and federated calls
   * to 2026-07-28 upstreams made without the SDK client's layers (`toolrouter/fast-call.ts`,
   * `toolrouter/lean-federated-call.ts`); on unless `false`, which tests use to compare the two paths.
   */
  readonly fastPath?: boolean;
}

/** Defaults of {@link ToolRouterSettings}. */
export const TOOL_ROUTER_DEFAULTS: ToolRouterSettings = Object.freeze({
  discovery: 'list',
  pinning: 'warn',
  separator: DEFAULT_SEPARATOR,
  maxNameLength: DEFAULT_MAX_NAME_LENGTH,
  pageSize: 100,
  callTimeoutMs: 60_000,
  listTimeoutMs: 5_000,
  connectTimeoutMs: 5_000,
  retryMs: 15_000,
  refreshMs: 300_000,
  registryMaxAgeMs: 30_000,
  maxResultBytes: 4 * 1024 * 1024,
  maxBodyBytes: 4 * 1024 * 1024,
  streamMaxAgeMs: 600_000,
});
