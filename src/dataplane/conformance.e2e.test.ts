/**
 * MCP conformance through the data plane: the server scenarios of `@modelcontextprotocol/conformance` (its
 * CLI, on the Node 22 binary from `.tools/node22` or `$MCP_CONFORMANCE_NODE`) run against the project's fixture
 * and against server-everything, each directly and through `/adapters/{name}/mcp` of a gateway with the Node
 * forwarder and of one with the Fetch forwarder. Every check that passes directly must pass through both.
 * Without a Node 22 binary the suite is skipped, and says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compareThroughGateways,
  describeChecks,
  formatComparison,
  locateConformanceNode,
  startConformanceFixture,
  startServerEverything,
} from '../../test/conformance/index.js';
import type { ConformanceRun, GatewayComparison } from '../../test/conformance/index.js';
import { startTestGateway } from '../../test/test-gateway.js';
import type { TestGateway } from '../../test/test-gateway.js';

const node = locateConformanceNode();
if (!node.available) process.stderr.write(`conformance.e2e: skipped, ${node.reason}\n`);

const TITLE = 'MCP conformance, directly and through the gateway';
const RUN_TIMEOUT_MS = 180_000;
const TEST_TIMEOUT_MS = 300_000;

/** Checks a run did not pass, with the CLI's messages. */
function unpassed(run: ConformanceRun): string[] {
  return run.scenarios.flatMap(({ scenario, checks }) =>
    checks
      .filter((c) => c.status === 'FAILURE' || c.status === 'WARNING')
      .map((c) => `${scenario} / ${c.id}: ${c.status} ${c.errorMessage ?? ''}`.trim()),
  );
}

function passes(run: ConformanceRun, scenario: string): boolean {
  const checks = run.scenarios.find((s) => s.scenario === scenario)?.checks ?? [];
  return checks.some((c) => c.status === 'SUCCESS') && checks.every((c) => c.status !== 'FAILURE');
}

/** The assertion of this file: nothing that passes directly fails through a gateway. */
function expectNoRegressions(adapter: string, result: GatewayComparison): void {
  for (const { label, run, comparison } of result.throughGateways) {
    expect(
      comparison.regressions,
      `${formatComparison(`${adapter}, ${label} forwarder`, comparison)}\n\n` +
        `passed directly, not through the gateway:\n${describeChecks(run, comparison.regressions)}`,
    ).toEqual([]);
    // The gateway's own Host/Origin guard answers the rebinding scenario whatever the upstream does.
    expect(passes(run, 'dns-rebinding-protection'), `${adapter}, ${label}: dns-rebinding-protection`).toBe(
      true,
    );
  }
}

describe.skipIf(!node.available)(node.available ? TITLE : `${TITLE} (skipped: ${node.reason})`, () => {
  const nodePath = node.available ? node.path : '';
  let gateways: { node: TestGateway; fetch: TestGateway };
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    const viaNode = await startTestGateway();
    cleanups.push(() => viaNode.close());
    const viaFetch = await startTestGateway({ io: 'fetch' });
    cleanups.push(() => viaFetch.close());
    gateways = { node: viaNode, fetch: viaFetch };
  });

  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  it(
    'the project fixture passes every scenario directly, and every one through the gateway',
    async () => {
      const fixture = await startConformanceFixture();
      cleanups.push(() => fixture.close());

      const result = await compareThroughGateways({
        node: nodePath,
        gateways,
        adapter: 'conformance-fixture',
        upstreamUrl: fixture.url,
        suite: 'all',
        timeoutMs: RUN_TIMEOUT_MS,
      });

      // The fixture is built to serve every scenario; a gap here means the comparison lost coverage.
      expect(unpassed(result.direct), 'the fixture reached directly').toEqual([]);
      expect(result.direct.scenarios.length).toBeGreaterThanOrEqual(30);
      expectNoRegressions('fixture', result);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'server-everything: every check that passes directly passes through the gateway',
    async () => {
      const everything = await startServerEverything();
      cleanups.push(() => everything.close());

      const result = await compareThroughGateways({
        node: nodePath,
        gateways,
        adapter: 'server-everything',
        upstreamUrl: everything.url,
        suite: 'all',
        timeoutMs: RUN_TIMEOUT_MS,
      });

      // server-everything names its tools differently, so most tool scenarios fail both ways; it must at least
      // talk MCP directly, or there is nothing to compare.
      expect(passes(result.direct, 'server-initialize'), result.direct.output).toBe(true);
      expectNoRegressions('server-everything', result);
    },
    TEST_TIMEOUT_MS,
  );
});
