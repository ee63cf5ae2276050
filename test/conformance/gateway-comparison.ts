/**
 * @module gateway-comparison: one upstream, several conformance runs — straight at the upstream and through
 * `/adapters/{name}/mcp` of one or more running gateways — and the check-by-check comparison of each gateway
 * run with the direct one.
 */
import { compareConformance, runConformanceServer } from './conformance-runner.js';
import type { ConformanceComparison, ConformanceRun, ConformanceRunOptions } from './conformance-runner.js';

/** A gateway to run through: any that can register an `endpoints` adapter. */
export interface ComparisonGateway {
  readonly url: string;
  registerRemoteAdapter(name: string, endpoints: readonly string[]): Promise<void>;
}

/** Options for {@link compareThroughGateways}. */
export interface GatewayComparisonOptions extends Pick<
  ConformanceRunOptions,
  'node' | 'suite' | 'scenario' | 'timeoutMs'
> {
  /** The gateways by label (e.g. `node`, `fetch` for the two forwarders). */
  readonly gateways: Readonly<Record<string, ComparisonGateway>>;
  /** The adapter name to register the upstream under, in every gateway. */
  readonly adapter: string;
  /** The upstream's MCP endpoint. */
  readonly upstreamUrl: string;
  /** Keep the CLI's result files under `{outputDir}/direct` and `{outputDir}/{label}`. */
  readonly outputDir?: string;
}

/** One run through one gateway, compared with the direct run. */
export interface GatewayRun {
  readonly label: string;
  readonly run: ConformanceRun;
  readonly comparison: ConformanceComparison;
}

/** The direct run and every gateway run. */
export interface GatewayComparison {
  readonly direct: ConformanceRun;
  readonly throughGateways: readonly GatewayRun[];
}

/**
 * Registers the upstream as an adapter in each gateway and runs the scenarios against every URL at once: the
 * runs use separate sessions, and running them side by side divides the wall time.
 */
export async function compareThroughGateways(options: GatewayComparisonOptions): Promise<GatewayComparison> {
  const labels = Object.keys(options.gateways);
  for (const label of labels) {
    await options.gateways[label]!.registerRemoteAdapter(options.adapter, [options.upstreamUrl]);
  }
  const run = (url: string, side: string) =>
    runConformanceServer({
      node: options.node,
      url,
      suite: options.suite,
      scenario: options.scenario,
      timeoutMs: options.timeoutMs,
      outputDir: options.outputDir ? `${options.outputDir}/${side}` : undefined,
    });
  const [direct, ...runs] = await Promise.all([
    run(options.upstreamUrl, 'direct'),
    ...labels.map((label) => run(`${options.gateways[label]!.url}/adapters/${options.adapter}/mcp`, label)),
  ]);
  return {
    direct: direct!,
    throughGateways: runs.map((r, i) => ({
      label: labels[i]!,
      run: r,
      comparison: compareConformance(direct!, r),
    })),
  };
}
