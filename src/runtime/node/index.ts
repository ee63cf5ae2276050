/** @module The Node runtime: the composition root of `mcp-gateway serve` and `mcp-gateway stdio`, and its shutdown. */
export { buildGatewayRuntime, buildStdioRuntime } from './node-runtime.js';
export type { GatewayRuntime, RuntimeOptions, StdioRuntime } from './node-runtime.js';
export { listenForMetrics } from './metrics-listener.js';
export type { MetricsListenerOptions } from './metrics-listener.js';
export { packageVersion } from './package-version.js';
export { runUntilSignal } from './run-until-signal.js';
export type { RunUntilSignalOptions, Stoppable } from './run-until-signal.js';
export { StartupError } from './startup-error.js';
