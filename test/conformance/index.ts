/**
 * @module conformance: the `@modelcontextprotocol/conformance` server scenarios run against an upstream
 * directly and through the gateway — the fixture server, server-everything as a loopback child, the CLI
 * runner and the comparison.
 */
export { startConformanceFixture } from './fixture-server.js';
export type { ConformanceFixture, ConformanceFixtureOptions } from './fixture-server.js';
export { startServerEverything } from './server-everything.js';
export type { RunningServerEverything, ServerEverythingOptions } from './server-everything.js';
export {
  CONFORMANCE_NODE_ENV,
  DEFAULT_CONFORMANCE_NODE,
  checkStatuses,
  compareConformance,
  conformanceCliPath,
  describeChecks,
  formatComparison,
  locateConformanceNode,
  runConformanceServer,
} from './conformance-runner.js';
export type {
  CheckStatus,
  ComparisonRow,
  ConformanceCheck,
  ConformanceComparison,
  ConformanceNode,
  ConformanceRun,
  ConformanceRunOptions,
  ScenarioResult,
} from './conformance-runner.js';
export { compareThroughGateways } from './gateway-comparison.js';
export type {
  ComparisonGateway,
  GatewayComparison,
  GatewayComparisonOptions,
  GatewayRun,
} from './gateway-comparison.js';
