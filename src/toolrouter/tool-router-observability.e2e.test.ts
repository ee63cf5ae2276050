/**
 * Operations of the tool router at `/mcp` through a real gateway: every `tools/call` is counted and timed by what
 * served it and written to the audit log (who, which tool, outcome, trace id — never the arguments); `/mcp`
 * requests appear in the HTTP request metrics.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SCORE_TOOL, startScoreServer } from '../../scripts/samples/score-server.js';
import { devAuth } from '../auth/index.js';
import { createAuditLog } from '../observability/audit-log.js';
import { createLogger } from '../observability/logger.js';
import { createPrometheusMetrics } from '../observability/prometheus/index.js';
import { modernToolCallBody, modernToolCallHeaders } from '../../test/modern-requests.js';
import { startTestGateway } from '../../test/test-gateway.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

const SECRET_TEXT = 'secret-argument-never-logged';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const call = (url: string, tool: string, user = 'alice') =>
  fetch(`${url}/mcp`, {
    method: 'POST',
    headers: modernToolCallHeaders(tool, {
      'x-dev-userid': user,
      traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01`,
    }),
    body: modernToolCallBody(tool, { text: SECRET_TEXT }),
  });

describe('tool router operations', () => {
  it('counts, times and audits each tools/call by what served it, never with its arguments', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      level: 'info',
      destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    });
    const metrics = createPrometheusMetrics();
    const gateway = await startTestGateway({
      logger,
      authenticate: devAuth(),
      toolRouter: {},
      operations: { metrics, audit: createAuditLog(logger) },
    });
    cleanups.push(() => gateway.close());
    const score = await startScoreServer();
    cleanups.push(() => score.close());
    for (const [name, url] of [
      ['score', score.url],
      ['down', `http://127.0.0.1:${await closedPort()}/score`],
    ]) {
      const res = await fetch(`${gateway.url}/tools`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-dev-userid': 'alice' },
        body: JSON.stringify({ name, endpoints: [url], toolDefinition: { tool: { ...SCORE_TOOL, name } } }),
      });
      expect(res.status).toBe(201);
    }

    expect((await (await call(gateway.url, 'score')).json()).result).toBeDefined();
    expect((await (await call(gateway.url, 'down')).json()).result?.isError ?? true).toBe(true);
    expect((await (await call(gateway.url, 'no-such-tool')).json()).error).toBeDefined();

    const audits = lines.filter((l) => l.audit === true && l.via === 'tool-router');
    expect(audits).toEqual([
      expect.objectContaining({
        tool: 'score',
        kind: 'tool',
        name: 'score',
        principal: 'alice',
        outcome: 'success',
        traceId: TRACE_ID,
      }),
      expect.objectContaining({ tool: 'down', kind: 'tool', name: 'down', outcome: 'failed' }),
      expect.objectContaining({ tool: 'no-such-tool', outcome: 'rejected' }),
    ]);
    expect(audits[2]).not.toHaveProperty('name');
    expect(JSON.stringify(lines)).not.toContain(SECRET_TEXT);

    const text = (await metrics.render()).body;
    expect(text).toContain(
      'mcp_gateway_tool_router_calls_total{kind="tool",resource="score",outcome="success"} 1',
    );
    expect(text).toContain(
      'mcp_gateway_tool_router_calls_total{kind="tool",resource="down",outcome="failed"} 1',
    );
    // An unknown name is not a label value: any caller could grow the series without bound.
    expect(text).toContain('mcp_gateway_tool_router_calls_total{kind="",resource="",outcome="rejected"} 1');
    expect(text).not.toContain('no-such-tool');
    expect(text).toMatch(
      /mcp_gateway_tool_router_call_duration_seconds_count\{kind="tool",resource="score"\} 1/,
    );
    expect(text).toMatch(/mcp_gateway_http_requests_total\{route="\/mcp",method="POST",status="200"\} 3/);
  });
});
