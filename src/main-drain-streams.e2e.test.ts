/**
 * Drain on SIGTERM with SDK 1.x clients, against the real `main.ts` in a child process: an idle standalone GET
 * stream is ended at once between two events (so the client resumes elsewhere with `Last-Event-ID`) instead of
 * holding the process for `MCP_GATEWAY_DRAIN_SECONDS`, while a tool call in flight still completes before the exit.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startGatewayProcess } from '../test/gateway-process.js';
import type { GatewayProcess } from '../test/gateway-process.js';
import { startLegacyMcpServer } from '../test/mcp-servers.js';
import type { RunningMcpServer } from '../test/mcp-servers.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** The exit code, once the process has exited and its output has been read to the end. */
const exitOf = (g: GatewayProcess) =>
  new Promise<number | null>((resolve) => g.child.once('close', (code) => resolve(code)));

/**
 * A gateway process whose drain period is far longer than the test may take (so only ending the idle stream
 * early lets it exit in time), with an SDK 1.x server in this process registered as the `endpoints` adapter `up`.
 */
async function gatewayWithUpstream(): Promise<{ gateway: GatewayProcess; upstream: RunningMcpServer }> {
  const upstream = await startLegacyMcpServer({ name: 'up' });
  cleanups.push(() => upstream.close());
  const gateway = await startGatewayProcess({ DATABASE_URL: ':memory:', MCP_GATEWAY_DRAIN_SECONDS: '120' });
  cleanups.push(() => (gateway.child.exitCode === null ? gateway.stop('SIGKILL') : Promise.resolve()));
  const created = await fetch(`${gateway.url}/adapters`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'up', endpoints: [upstream.url] }),
  });
  expect(created.status).toBe(201);
  return { gateway, upstream };
}

/** An SDK 1.x client of `up`, and what it did: its GET requests (with their Last-Event-ID) and transport errors. */
async function connectClient(gateway: GatewayProcess) {
  const gets: (string | null)[] = [];
  const errors: string[] = [];
  const recordingFetch: typeof fetch = (input, init) => {
    if ((init?.method ?? 'GET') === 'GET') gets.push(new Headers(init?.headers).get('last-event-id'));
    return fetch(input, init);
  };
  const client = new Client({ name: 'drain-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${gateway.url}/adapters/up/mcp`), {
    fetch: recordingFetch,
  });
  const logged: unknown[] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logged.push(n.params.data));
  await client.connect(transport);
  transport.onerror = (err) => errors.push(err.message);
  cleanups.push(() => client.close());
  return { client, gets, errors, logged };
}

describe('draining the gateway process: GET streams do not hold it', () => {
  it('ends an idle SDK 1.x GET stream at once and exits; the client resumes from its last event id', async () => {
    const { gateway, upstream } = await gatewayWithUpstream();
    const { client, gets, errors, logged } = await connectClient(gateway);
    // The standalone GET stream is open through the gateway to the upstream.
    await vi.waitFor(() => expect(upstream.targets).toContain('GET /mcp'));
    // One event (with an id from the upstream's event store) came down that stream; then it is idle.
    await client.callTool({ name: 'broadcast', arguments: { n: 1, ms: 1 } });
    await vi.waitFor(() => expect(logged).toEqual(['message 1']));
    const resumesBefore = gets.filter((id) => id !== null).length;

    const exited = exitOf(gateway);
    gateway.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const messages = gateway.logs.map((l) => l.msg);
    expect(messages).toContain('stopped');
    expect(messages).not.toContain('drain deadline: cutting open connections');
    // Ended cleanly between two events, not cut: the client tries to resume with the priming event's id.
    await vi.waitFor(() => expect(gets.filter((id) => id !== null).length).toBeGreaterThan(resumesBefore), {
      timeout: 5000,
    });
    expect(gets.filter((id) => id !== null).at(-1)).toMatch(/^_GET_stream:/);
    expect(errors.filter((e) => e.startsWith('SSE stream disconnected'))).toEqual([]);
  }, 30_000);

  it('lets a tool call in flight complete before the exit, while the idle GET stream is ended', async () => {
    const { gateway, upstream } = await gatewayWithUpstream();
    const { client } = await connectClient(gateway);
    await vi.waitFor(() => expect(upstream.targets).toContain('GET /mcp'));

    const events: string[] = [];
    const exited = exitOf(gateway).then((code) => {
      events.push('exit');
      return code;
    });
    const signalled = new Promise<void>((resolve) => {
      const call = client.request(
        { method: 'tools/call', params: { name: 'slow', arguments: { ms: 1500 } } },
        CallToolResultSchema,
        {
          // The call reached the upstream and is running: now the gateway is told to stop.
          onprogress: () => {
            gateway.child.kill('SIGTERM');
            resolve();
          },
        },
      );
      void call.then((result) => {
        events.push('result');
        expect(result.content).toEqual([{ type: 'text', text: 'slept 1500 ms' }]);
      });
    });
    await signalled;
    expect(await exited).toBe(0);
    expect(events).toEqual(['result', 'exit']);
    expect(gateway.logs.map((l) => l.msg)).not.toContain('drain deadline: cutting open connections');
  }, 30_000);
});
