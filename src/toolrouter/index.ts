/** @module toolrouter: the MCP server at `/mcp` (and over stdio) and its tool executors. The only public entry. */
export { createToolRouter } from './tool-router.js';
export type { ToolDefinitionPins, ToolRouter, ToolRouterOptions } from './tool-router.js';
export type { ApprovalRefusal, PinnedToolDefinition, ToolDefinitionEvent } from './pinning-gate.js';
export { PINNED_FIELDS } from './tool-definition-hash.js';
export type { DefinitionFieldChange, ToolFingerprint } from './tool-definition-hash.js';
export {
  DEFAULT_MAX_NAME_LENGTH,
  DEFAULT_SEPARATOR,
  TOOL_NAME_ALPHABET,
  TOOL_ROUTER_DEFAULTS,
  separatorProblem,
} from '../config/index.js';
export type { ToolRouterSettings } from '../config/index.js';
export { TOOL_ROUTER_PATH, TOOLSET_MCP_PATH, mountToolRouter } from './mount.js';
export { toolRouterTraceContext } from './meta-trace.js';
export type { ToolRouterMount } from './mount.js';
export { LISTING_PRINCIPAL } from './federation.js';
export type { IdentityHeadersFor, ToolRouterReplicas } from './federation.js';
export type { CatalogEntry, CatalogSnapshot, FederationState } from './catalog.js';
export { OutboundError, fetchOutbound } from './outbound.js';
export type { Outbound, OutboundRequest } from './outbound.js';
export { createToolNamer } from './tool-names.js';
export type { ToolNamer, ToolNamerOptions } from './tool-names.js';
export { decodeCursor, encodeCursor } from './cursor.js';
export {
  routingRefusalObserver,
  toolDefinitionObserver,
  toolRouterObserver,
} from './tool-router-observer.js';
export type { RoutingRefusal } from './mrtr.js';
export type { ToolRouterObserverOptions } from './tool-router-observer.js';
