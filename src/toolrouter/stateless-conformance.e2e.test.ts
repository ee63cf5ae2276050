/**
 * The conformance CLI's `server-stateless` scenario (SEP-2575, protocol 2026-07-28) against the tool router: run
 * against a 2026-07-28 SDK 2.x server directly, against `/mcp` of a gateway that federates it beside an HTTP
 * tool (the score sample), and against a toolset that gives the federated tools back their own names (the
 * scenario calls its diagnostic tools by name; on `/mcp` they are `{adapter}__{tool}`). Every check that passes
 * directly must pass through both; `server/discover` and the list-change subscription must pass there.
 *
 * The scenario is in conformance releases from 0.2.0 on (pre-releases so far); the devDependency stays at the
 * 0.1 line the data plane's suite runs, so the CLI is the one at `$MCP_CONFORMANCE_CLI`, else the one `.ci/run`
 * installs (`npm install --no-save --no-package-lock --prefix .tools/conformance-next
 * @modelcontextprotocol/conformance@0.2.0-alpha.12`), else the installed one when it has the scenario. It needs a Node 22 binary too (see `conformance.e2e.test.ts`). Without either it is skipped.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCORE_TOOL, startScoreServer } from '../../scripts/samples/score-server.js';
import type { ScoreServer } from '../../scripts/samples/score-server.js';
import {
  compareConformance,
  conformanceCliPath,
  describeChecks,
  formatComparison,
  locateConformanceNode,
  runConformanceServer,
} from '../../test/conformance/index.js';
import type { ConformanceRun } from '../../test/conformance/index.js';
import { startStatelessFixture } from '../../test/conformance/stateless-fixture.js';
import type { StatelessFixture } from '../../test/conformance/stateless-fixture.js';
import { startTestGateway } from '../../test/test-gateway.js';
import type { TestGateway } from '../../test/test-gateway.js';

const SCENARIO = 'server-stateless';
/** Where `.ci/run` installs the newer release, in its own prefix beside Node 22. */
const NEXT_CLI = '.tools/conformance-next/node_modules/@modelcontextprotocol/conformance/dist/index.js';

/** A conformance CLI that has the scenario, or why there is none. */
function locateCli(node: string): { path: string } | { reason: string } {
  const candidate =
    process.env.MCP_CONFORMANCE_CLI || (existsSync(NEXT_CLI) ? NEXT_CLI : conformanceCliPath());
  if (!existsSync(candidate)) return { reason: `$MCP_CONFORMANCE_CLI=${candidate} does not exist` };
  let listing: string;
  try {
    listing = execFileSync(node, [candidate, 'list'], { encoding: 'utf8', timeout: 30_000 });
  } catch (error) {
    return { reason: `${candidate} list failed: ${String(error)}` };
  }
  if (!listing.includes(SCENARIO)) {
    return {
      reason: `${candidate} has no ${SCENARIO} scenario (conformance ≥ 0.2.0 has it; set $MCP_CONFORMANCE_CLI)`,
    };
  }
  return { path: candidate };
}

const node = locateConformanceNode();
const cli = node.available ? locateCli(node.path) : { reason: node.reason };
const skipReason = 'reason' in cli ? cli.reason : undefined;
if (skipReason) process.stderr.write(`stateless-conformance.e2e: skipped, ${skipReason}\n`);

const TITLE = `conformance ${SCENARIO}: directly and through /mcp and a toolset`;

/**
 * Checks that call a diagnostic hook by its bare name: on `/mcp` it is `fx__…`, so the CLI's call is refused as
 * an unknown tool and it sees no change (the toolset, which renames the hook back, must pass them).
 */
const BY_BARE_NAME = new Set(['sep-2575-server-sends-tools-list-changed-on-subscription']);

function statusOf(run: ConformanceRun, check: string): string | undefined {
  return run.scenarios.flatMap((s) => s.checks).find((c) => c.id === check)?.status;
}

describe.skipIf(skipReason !== undefined)(skipReason ? `${TITLE} (skipped: ${skipReason})` : TITLE, () => {
  let fixture: StatelessFixture;
  let score: ScoreServer;
  let gateway: TestGateway;

  beforeAll(async () => {
    fixture = await startStatelessFixture();
    score = await startScoreServer();
    gateway = await startTestGateway({ toolRouter: {} });
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${gateway.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
    };
    await post('/tools', {
      name: 'score',
      endpoints: [score.url],
      toolDefinition: { tool: { ...SCORE_TOOL, name: 'score' } },
    });
    await post('/adapters', { name: 'fx', endpoints: [fixture.url], federate: true });
    await post('/toolsets', {
      name: 'stateless',
      tools: [
        'score',
        { name: 'fx__echo', rename: 'echo' },
        { name: 'fx__test_trigger_tool_change', rename: 'test_trigger_tool_change' },
        'fx__*',
      ],
    });
    const deadline = Date.now() + 60_000;
    while (gateway.toolRouter?.federationStatus('fx')?.state !== 'listed') {
      if (Date.now() > deadline) throw new Error(JSON.stringify(gateway.toolRouter?.federationStatus('fx')));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }, 120_000);

  afterAll(async () => {
    await gateway?.close();
    await Promise.all([fixture?.close(), score?.close()]);
  });

  it('every check that passes directly passes on /mcp and on the toolset', async () => {
    const run = (url: string) =>
      runConformanceServer({
        node: node.available ? node.path : '',
        cli: 'path' in cli ? cli.path : undefined,
        url,
        scenario: SCENARIO,
        timeoutMs: 180_000,
      });
    // One after the other: the subscription check mutates the fixture's list.
    const direct = await run(fixture.url);
    const throughMcp = await run(`${gateway.url}/mcp`);
    const throughToolset = await run(`${gateway.url}/toolsets/stateless/mcp`);

    expect(statusOf(direct, 'sep-2575-server-implements-discover'), direct.output).toBe('SUCCESS');
    for (const [label, through] of [
      ['/mcp', throughMcp],
      ['toolset', throughToolset],
    ] as const) {
      const comparison = compareConformance(direct, through);
      const regressions = comparison.regressions.filter(
        (r) => label !== '/mcp' || !BY_BARE_NAME.has(r.check),
      );
      expect(
        regressions,
        `${formatComparison(label, comparison)}\n\npassed directly, not through ${label}:\n${describeChecks(through, regressions)}`,
      ).toEqual([]);
      expect(statusOf(through, 'sep-2575-server-implements-discover'), label).toBe('SUCCESS');
      expect(statusOf(through, 'sep-2575-discover-capabilities-match-handlers'), label).toBe('SUCCESS');
    }
    // The diagnostic hook is found under its own name on the toolset: the router relays the upstream's change.
    expect(statusOf(throughToolset, 'sep-2575-server-sends-tools-list-changed-on-subscription')).toBe(
      'SUCCESS',
    );
  }, 600_000);
});
