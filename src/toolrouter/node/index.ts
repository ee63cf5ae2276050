/** @module toolrouter/node: the Node-only parts of the tool router (imported by the Node entry points only). */
export { createNodeOutbound } from './node-outbound.js';
export type { NodeOutboundOptions } from './node-outbound.js';
export { startToolRouter } from './start-tool-router.js';
export type { StartToolRouterOptions } from './start-tool-router.js';
export { readToolPolicyFile } from './read-tool-policy-file.js';
