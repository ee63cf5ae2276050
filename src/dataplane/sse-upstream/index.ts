/** @module sse-upstream: the data plane's client of the 2024-11-05 HTTP+SSE transport, for `sse` adapters. */
export { SseUpstreams } from './sse-upstreams.js';
export type { SseForwardRequest, SseUpstreamsOptions } from './sse-upstreams.js';
export { fetchSseOutbound } from './sse-outbound.js';
export type { SseOutbound, SseOutboundRequest } from './sse-outbound.js';
export { judgeAnnouncedEndpoint } from './announced-endpoint.js';
export type { AnnouncedEndpoint } from './announced-endpoint.js';
