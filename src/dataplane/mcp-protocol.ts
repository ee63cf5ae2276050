/**
 * @module mcp-protocol: the protocol facts the data plane classifies by — the MCP revisions of each era, the
 * headers a Streamable HTTP request carries, the JSON-RPC error codes of a refusal, and which request parameter
 * `Mcp-Name` mirrors. Constants only; rules cited as `rules §x` refer to `reference/mcp-rules.md`.
 */

/** The 2025 revisions, served statefully with `initialize` and `Mcp-Session-Id` (oldest first). */
export const LEGACY_PROTOCOL_VERSIONS = ['2025-03-26', '2025-06-18', '2025-11-25'] as const;

/** The stateless revision: every POST carries `MCP-Protocol-Version`, `Mcp-Method` and (some) `Mcp-Name`. */
export const MODERN_PROTOCOL_VERSION = '2026-07-28';

/** Every `MCP-Protocol-Version` value the gateway accepts; any other value is answered with 400 (rules §1.5). */
export const SUPPORTED_PROTOCOL_VERSIONS = [...LEGACY_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSION] as const;

/** A legacy protocol revision. */
export type LegacyProtocolVersion = (typeof LEGACY_PROTOCOL_VERSIONS)[number];
/** The modern protocol revision. */
export type ModernProtocolVersion = typeof MODERN_PROTOCOL_VERSION;
/** Any protocol revision the gateway speaks. */
export type ProtocolVersion = (typeof SUPPORTED_PROTOCOL_VERSIONS)[number];

/** Assumed when a POST has no `MCP-Protocol-Version` and is not `initialize` (rules §1.5). */
export const DEFAULT_LEGACY_VERSION: LegacyProtocolVersion = '2025-03-26';

/** The newest legacy revision: what an up-to-date server counter-offers for an `initialize` it cannot honour. */
export const LATEST_LEGACY_VERSION: LegacyProtocolVersion = '2025-11-25';

/** True for a legacy revision (compared one by one: this runs on every request). */
export function isLegacyVersion(value: string): value is LegacyProtocolVersion {
  return value === '2025-03-26' || value === '2025-06-18' || value === '2025-11-25';
}

/** JSON-RPC error codes used in rejections. */
export const JSON_RPC_ERROR = {
  /** The body is not JSON. */
  parseError: -32700,
  /** The body is JSON but not a valid JSON-RPC message (or not one this transport accepts). */
  invalidRequest: -32600,
  /** The parameters of a known method are unusable (here: `initialize` without a protocol version). */
  invalidParams: -32602,
  /** Transport-level refusal (bad method, media type, protocol version); the code the MCP SDKs use for these. */
  transportError: -32000,
  /** 2026-07-28 `HeaderMismatch`: `Mcp-Method`/`Mcp-Name` missing or different from the body (rules §1.11). */
  headerMismatch: -32020,
} as const;

/** A JSON-RPC request id as MCP allows it: a string or a number, never null. */
export type JsonRpcId = string | number;

/** The request headers classification reads, lower case as `Headers` stores them. */
export const MCP_HEADER = {
  protocolVersion: 'mcp-protocol-version',
  sessionId: 'mcp-session-id',
  method: 'mcp-method',
  name: 'mcp-name',
  lastEventId: 'last-event-id',
} as const;

/** `Allow` of a legacy-capable endpoint, and of a modern request (which has no GET or DELETE). */
export const ALLOW_ALL = 'GET, POST, DELETE';
/** See {@link ALLOW_ALL}. */
export const ALLOW_MODERN = 'POST';

/**
 * The params member that `Mcp-Name` mirrors for `method`, or undefined when the method has no name header
 * (rules §1.11: tools/call and prompts/get mirror `params.name`, resources/read mirrors `params.uri`).
 */
export function nameMemberOf(method: string): 'name' | 'uri' | undefined {
  if (method === 'tools/call' || method === 'prompts/get') return 'name';
  if (method === 'resources/read') return 'uri';
  return undefined;
}
