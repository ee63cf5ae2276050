/**
 * @module settings: the tool router's tunables and their defaults. Free of the MCP SDK on purpose: the
 * configuration module reads them, and the edge build loads configuration without the router.
 */
import { DEFAULT_MAX_NAME_LENGTH, DEFAULT_SEPARATOR } from './tool-names.js';

/** Tunables of the router; every one has a default ({@link TOOL_ROUTER_DEFAULTS}). */
export interface ToolRouterSettings {
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
  /** Legacy GET streams end after this long (the client reconnects and is authenticated again). */
  readonly streamMaxAgeMs: number;
}

/** Defaults of {@link ToolRouterSettings}. */
export const TOOL_ROUTER_DEFAULTS: ToolRouterSettings = Object.freeze({
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
