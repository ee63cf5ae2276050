/**
 * `@modelcontextprotocol/inspector --cli` against `/mcp`: a third, independent MCP client. The Inspector needs
 * Node ≥ 22.19 and is not a project dependency, so it lives in its own prefix like the conformance CLI's Node:
 *
 *   npm install --no-save --no-package-lock --ignore-scripts --prefix .tools/inspector @modelcontextprotocol/inspector@2.12.0
 *
 * with Node 22 from `.tools/node22` (see `.ci/run`). Without either, the suite is skipped and says why.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCORE_TOOL, startScoreServer } from '../../scripts/samples/score-server.js';
import type { ScoreServer } from '../../scripts/samples/score-server.js';
import { locateConformanceNode } from '../../test/conformance/index.js';
import { startLegacyMcpServer } from '../../test/mcp-servers.js';
import type { RunningMcpServer } from '../../test/mcp-servers.js';
import { startTestGateway } from '../../test/test-gateway.js';
import type { TestGateway } from '../../test/test-gateway.js';

const run = promisify(execFile);
const INSPECTOR = join(
  fileURLToPath(new URL('../../', import.meta.url)),
  '.tools/inspector/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js',
);
const node = locateConformanceNode();
const skipReason = !node.available
  ? node.reason
  : !existsSync(INSPECTOR)
    ? 'the MCP Inspector is not installed in .tools/inspector (see this file’s header)'
    : undefined;
if (skipReason) process.stderr.write(`inspector tests skipped: ${skipReason}\n`);

describe.skipIf(skipReason !== undefined)(
  `MCP Inspector CLI against /mcp${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let gateway: TestGateway;
    let score: ScoreServer;
    let upstream: RunningMcpServer;

    beforeAll(async () => {
      score = await startScoreServer();
      upstream = await startLegacyMcpServer({ name: 'inspected' });
      gateway = await startTestGateway({ toolRouter: {} });
      await gateway.registerRemoteTool('score', [score.url], { toolDefinition: { tool: SCORE_TOOL } });
      await gateway.registerRemoteAdapter('legacy', [upstream.url], { federate: true });
    });
    afterAll(async () => {
      await gateway?.close();
      await score?.close();
      await upstream?.close();
    });

    async function inspector(...args: string[]): Promise<unknown> {
      const binary = node.available ? node.path : 'node';
      const { stdout } = await run(binary, [INSPECTOR, '--cli', `${gateway.url}/mcp`, ...args], {
        timeout: 60_000,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NO_COLOR: '1' },
      });
      return JSON.parse(stdout);
    }

    it('lists the merged tools', async () => {
      const listed = (await inspector('--method', 'tools/list')) as { tools: { name: string }[] };
      expect(listed.tools.map((t) => t.name)).toEqual(expect.arrayContaining(['score', 'legacy__echo']));
    });

    it('calls a registered tool and a federated one', async () => {
      const scored = (await inspector(
        '--method',
        'tools/call',
        '--tool-name',
        'score',
        '--tool-arg',
        'text=wonderful',
      )) as {
        structuredContent: { label: string };
      };
      expect(scored.structuredContent.label).toBe('positive');
      const echoed = (await inspector(
        '--method',
        'tools/call',
        '--tool-name',
        'legacy__echo',
        '--tool-arg',
        'text=hello',
      )) as {
        content: { text: string }[];
      };
      expect(echoed.content[0]?.text).toBe('hello');
    });
  },
);
