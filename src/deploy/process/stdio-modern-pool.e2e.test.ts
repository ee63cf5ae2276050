/**
 * @module Tests of what a stdio replica serves besides 2025 sessions, through the process deployer with real
 * peers: 2026-07-28 requests from the SDK 2.x client served by the pool of initialised processes (tools/list,
 * tools/call, server/discover, one request per process at a time), the SDK 1.x client still on sessions, warm
 * spares started before the first `initialize` (counted by the fixture's start lines and pids, not by timing),
 * and `npx` resolved once per replica to the package's bin, with the fallback to the command as given.
 */
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
} from '@modelcontextprotocol/client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Registered } from '../../registry/index.js';
import { refOf } from '../resource-change.js';
import { mcpPostHeaders } from '../../../test/legacy-requests.js';
import { eventually } from '../../../test/polling.js';
import {
  fastDeployer,
  firstReplica,
  killAllMarked,
  marker,
  npxFromRepository,
  processResource,
  runningCommands,
} from '../../../test/process-fixtures.js';
import { commandLineOf } from '../../../test/process-tree.js';
import { resolveCommand } from './command-resolution.js';
import type { ProcessDeployer } from './process-deployer.js';

afterAll(() => killAllMarked());

const textOf = (result: unknown) => (result as { content: { text: string }[] }).content[0]!.text;
const everything = npxFromRepository('@modelcontextprotocol/server-everything');

describe('stdio replicas: 2026-07-28 pool, warm spares, resolved npx', () => {
  let deployer: ProcessDeployer | undefined;
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    await Promise.allSettled(closers.splice(0).map((close) => close()));
    await deployer?.close();
    deployer = undefined;
  });

  async function start(resource: Registered, options: Parameters<typeof fastDeployer>[0] = {}) {
    deployer = fastDeployer(options);
    await deployer.apply(resource);
    await eventually(() => deployer!.endpoints(refOf(resource)).length === 1, 'a ready bridge', 60_000);
    return deployer.endpoints(refOf(resource))[0]!.url;
  }

  async function modern(url: string) {
    const client = new ModernClient(
      { name: 'pool-test', version: '2.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    closers.push(() => client.close());
    await client.connect(new ModernTransport(new URL(url)));
    return client;
  }

  async function legacy(url: string) {
    const client = new LegacyClient({ name: 'pool-test-legacy', version: '1.0.0' });
    const transport = new LegacyTransport(new URL(url));
    closers.push(() => client.close());
    await client.connect(transport);
    return { client, transport };
  }

  const logText = async (resource: Registered) => {
    const logs = await deployer!.logs(resource, { instance: 0, tail: 500 });
    return logs.ok && 'text' in logs ? logs.text : '';
  };
  const detail = async (resource: Registered) =>
    firstReplica((await deployer!.status(resource)).replicas).detail ?? '';

  it('serves an SDK 2.x client in 2026-07-28 mode from the pool, and an SDK 1.x client on its own session', async () => {
    const resource = processResource('modern', { transport: 'stdio', marker: marker() });
    const url = await start(resource);
    const client = await modern(url);
    // The connect probe was server/discover, answered from the initialize result of a pool process.
    expect(client.getServerVersion()?.name).toBe('stdio-echo-server');
    expect(client.getServerCapabilities()?.tools).toBeDefined();
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('echo');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'modern' } }))).toBe(
      'Echo: modern',
    );
    // Sequential requests reuse the one initialised process.
    const first = textOf(await client.callTool({ name: 'instance', arguments: {} }));
    expect(textOf(await client.callTool({ name: 'instance', arguments: {} }))).toBe(first);
    expect(await detail(resource)).toMatch(/2026 pool 1 \(pids \d+\)/);

    const old = await legacy(url);
    expect(old.transport.sessionId).toMatch(/^[\x21-\x7e]+$/);
    expect(textOf(await old.client.callTool({ name: 'echo', arguments: { message: 'legacy' } }))).toBe(
      'Echo: legacy',
    );
    // The session has a process of its own, not the pool's.
    expect(textOf(await old.client.callTool({ name: 'instance', arguments: {} }))).not.toBe(first);
    expect(await detail(resource)).toMatch(/^sessions 1\/16 \(pids \d+\); 2026 pool 1/);
  });

  it('serves concurrent 2026 requests one per process, growing the pool, and relays progress', async () => {
    const resource = processResource('concurrent', { transport: 'stdio', marker: marker() });
    const url = await start(resource);
    const client = await modern(url);
    const progress: number[] = [];
    const slow = client.callTool(
      { name: 'slow', arguments: { ms: 1500 } },
      { onprogress: (p: { progress: number }) => progress.push(p.progress) },
    );
    // While the slow call holds its process, another request is served by a second one.
    await eventually(async () => /2026 pool 1/.test(await detail(resource)), 'the slow call running', 10_000);
    const during = textOf(await client.callTool({ name: 'instance', arguments: {} }));
    expect(textOf(await slow)).toBe('slow done');
    expect(progress).toEqual([1]);
    expect(await detail(resource)).toMatch(/2026 pool 2 \(pids \d+, \d+\)/);
    expect(during).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers a request whose pool process dies with an error, and serves the next one from a new process', async () => {
    const resource = processResource('crashing', { transport: 'stdio', marker: marker() });
    const url = await start(resource);
    const client = await modern(url);
    const before = textOf(await client.callTool({ name: 'instance', arguments: {} }));
    await expect(client.callTool({ name: 'crash', arguments: {} })).rejects.toThrow(/ended/);
    const after = textOf(await client.callTool({ name: 'instance', arguments: {} }));
    expect(after).not.toBe(before);
    expect(await detail(resource)).toMatch(/restarts [1-9]/);
  });

  it("shares the replica's process cap with sessions: an idle pool process gives way, a full replica is 503", async () => {
    const resource = processResource('shared-cap', {
      transport: 'stdio',
      marker: marker(),
      adapterFields: { maxSessionsPerReplica: 1 },
    });
    const url = await start(resource);
    const client = await modern(url);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'a' } }))).toBe('Echo: a');
    expect(await detail(resource)).toMatch(/^sessions 0\/1; 2026 pool 1/);
    // The one process the cap allows is the pool's, idle: it ends so the session can have one.
    const old = await legacy(url);
    expect(textOf(await old.client.callTool({ name: 'echo', arguments: { message: 'b' } }))).toBe('Echo: b');
    expect(await detail(resource)).toMatch(/^sessions 1\/1 \(pids \d+\); spare/);
    const refused = await fetch(url, {
      method: 'POST',
      headers: mcpPostHeaders({
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/list',
      }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(((await refused.json()) as { id: number }).id).toBe(9);
  });

  it('keeps warmSessions processes started before the first initialize, and hands one to the session', async () => {
    const resource = processResource('warm', {
      transport: 'stdio',
      marker: marker(),
      adapterFields: { warmSessions: 2 },
    });
    const url = await start(resource);
    // Both spares started and answered their ping before any client came: the fixture logs each start.
    await eventually(async () => /spares 2\/2 ready/.test(await detail(resource)), 'two warm spares', 20_000);
    const before = await logText(resource);
    expect(before.match(/stdio-echo-server started pid/g)).toHaveLength(2);
    const warmPids = [...before.matchAll(/\[mcp-gateway\] started pid (\d+)$/gm)].map((m) => Number(m[1]));
    expect(warmPids).toHaveLength(2);
    await legacy(url);
    const sessionPid = Number(/^sessions 1\/16 \(pids (\d+)\)/.exec(await detail(resource))?.[1]);
    expect(warmPids).toContain(sessionPid);
    expect(await logText(resource)).not.toContain('no warm spare was ready');
  });

  it('with warmSessions 0, proves the command once and keeps no process until a session starts one', async () => {
    const resource = processResource('cold', {
      transport: 'stdio',
      marker: marker(),
      adapterFields: { warmSessions: 0 },
    });
    const url = await start(resource);
    await eventually(async () => /no warm spare/.test(await detail(resource)), 'the prover stopped', 20_000);
    const { client } = await legacy(url);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'cold' } }))).toBe(
      'Echo: cold',
    );
    const text = await logText(resource);
    expect(text.match(/stdio-echo-server started pid/g)).toHaveLength(2);
    expect(text).toContain('no warm spare was ready');
  });

  it('resolves npx server-everything once to its bin and serves both eras from it', async () => {
    const mark = marker();
    const resource = processResource('everything', {
      transport: 'stdio',
      marker: mark,
      command: everything.command,
      args: everything.args,
      environmentVariables: everything.environmentVariables,
    });
    const url = await start(resource);
    const text = await logText(resource);
    expect(text).toMatch(
      /resolved npx package @modelcontextprotocol\/server-everything to `\S+node \S+\/server-everything\/\S+\.js`/,
    );
    const client = await modern(url);
    expect(client.getServerVersion()?.name).toMatch(/everything/);
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('echo');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'resolved' } }))).toContain(
      'resolved',
    );
    const old = await legacy(url);
    expect(textOf(await old.client.callTool({ name: 'echo', arguments: { message: 'legacy' } }))).toContain(
      'legacy',
    );
    // Spare, pool process and session process: each is node running the bin, with no npm exec or shell above it.
    const commands = runningCommands(mark).map(commandLineOf);
    expect(commands.length).toBeGreaterThanOrEqual(3);
    for (const line of commands) expect(line).toMatch(/^\S*node \S+\/server-everything\/dist\/index\.js$/);
  });

  it('runs the command as given when the resolution fails, or when the resolved program does not start', async () => {
    const failing = processResource('unresolved', {
      transport: 'stdio',
      marker: marker(),
      command: everything.command,
      args: everything.args,
      environmentVariables: everything.environmentVariables,
    });
    const url = await start(failing, {
      commandResolver: (original) => resolveCommand(original, async () => ({ code: 1, stdout: '' })),
    });
    expect(await logText(failing)).toMatch(
      /could not resolve npx package @modelcontextprotocol\/server-everything \(the probe exited with code 1\); running `npx --prefix \S+ -y @modelcontextprotocol\/server-everything` as given/,
    );
    const { client } = await legacy(url);
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('echo');
    await Promise.allSettled(closers.splice(0).map((close) => close()));
    await deployer!.close();

    const broken = processResource('broken-resolution', {
      transport: 'stdio',
      marker: marker(),
      command: everything.command,
      args: everything.args,
      environmentVariables: everything.environmentVariables,
    });
    const answer = JSON.stringify({ file: '/nonexistent/bin.js', node: process.execPath });
    const url2 = await start(broken, {
      commandResolver: (original) =>
        resolveCommand(original, async () => ({ code: 0, stdout: `MCP_GATEWAY_RESOLVED ${answer}\n` })),
    });
    expect(await logText(broken)).toContain('the resolved program exited before it was ready');
    const second = await legacy(url2);
    expect((await second.client.listTools()).tools.map((t) => t.name)).toContain('echo');
  });
});
