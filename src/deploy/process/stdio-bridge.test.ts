/**
 * @module Tests of the stdio bridge through the process deployer, with the official SDK 1.x client as the
 * peer: one process per session, the session pool, DELETE, idle reaping, dead processes, message routing,
 * and the transport's refusals.
 */
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Registered } from '../../registry/index.js';
import { refOf } from '../resource-change.js';
import type { RuntimeStatus } from '../runtime-inspector.js';
import { legacyInitializeBody, mcpPostHeaders } from '../../../test/legacy-requests.js';
import { eventually, until } from '../../../test/polling.js';
import {
  STDIO_SERVER,
  fastDeployer,
  firstReplica,
  killAllMarked,
  marker,
  processResource,
} from '../../../test/process-fixtures.js';
import type { ProcessDeployer } from './process-deployer.js';

afterAll(() => killAllMarked());

const INIT = legacyInitializeBody({ protocolVersion: '2025-06-18' });

describe('stdio bridge', () => {
  let deployer: ProcessDeployer;
  const clients: Client[] = [];
  afterEach(async () => {
    await Promise.allSettled(clients.splice(0).map((c) => c.close()));
    await deployer?.close();
  });

  async function start(
    name: string,
    options: Parameters<typeof fastDeployer>[0] = {},
    args?: string[],
    adapterFields?: Record<string, unknown>,
  ) {
    deployer = fastDeployer(options);
    const resource = processResource(name, {
      transport: 'stdio',
      marker: marker(),
      ...(args && { args }),
      ...(adapterFields && { adapterFields }),
    });
    await deployer.apply(resource);
    await eventually(() => deployer.endpoints(refOf(resource)).length === 1, 'a ready bridge', 10_000);
    return { resource, url: deployer.endpoints(refOf(resource))[0]!.url };
  }

  async function connect(url: string, withSampling = false) {
    const client = new Client(
      { name: 'bridge-test', version: '1.0.0' },
      { capabilities: withSampling ? { sampling: {} } : {} },
    );
    clients.push(client);
    const transport = new StreamableHTTPClientTransport(new URL(url));
    await client.connect(transport);
    return { client, transport };
  }

  const textOf = (result: unknown) => (result as { content: { text: string }[] }).content[0]!.text;
  const instanceOf = async (client: Client) =>
    textOf(await client.callTool({ name: 'instance', arguments: {} }));
  /** Host pids of the session processes, as status shows them (a sandboxed server knows only its namespace's). */
  const sessionPids = async (resource: Registered) => {
    const detail = firstReplica((await deployer.status(resource)).replicas).detail!;
    return (/\(pids ([\d, ]+)\)/.exec(detail)?.[1] ?? '').split(', ').filter(Boolean).map(Number);
  };
  const gone = (pid: number) => !existsSync(`/proc/${pid}`) || /\) Z /.test(readStat(pid));
  const statusUntil = (resource: Registered, what: string, check: (s: RuntimeStatus) => boolean) =>
    until(() => deployer.status(resource), check, what, 10_000, 20);

  it('serves each session from its own process: initialize, list, call', async () => {
    const { resource, url } = await start('sessions');
    const a = await connect(url);
    const b = await connect(url);
    expect(a.transport.sessionId).toMatch(/^[\x21-\x7e]+$/);
    expect(a.transport.sessionId).not.toBe(b.transport.sessionId);
    expect((await a.client.listTools()).tools.map((t) => t.name)).toContain('echo');
    expect(textOf(await a.client.callTool({ name: 'echo', arguments: { message: 'hi' } }))).toBe('Echo: hi');
    expect(await instanceOf(a.client)).not.toBe(await instanceOf(b.client));
    // The spare handed to the second session is replaced at once; wait until the replacement answered.
    await statusUntil(resource, 'two sessions and a ready spare', (s) =>
      /^sessions 2\/16 \(pids \d+, \d+\); spare ready/.test(firstReplica(s.replicas).detail!),
    );
  });

  it('answers a full pool with 503, Retry-After and a JSON-RPC error', async () => {
    const { url } = await start('pool', { stdio: { maxSessions: 1 } });
    await connect(url);
    const res = await fetch(url, { method: 'POST', headers: mcpPostHeaders(), body: INIT });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    const body = (await res.json()) as { id: unknown; error: { code: number; message: string } };
    expect(body.id).toBe(1);
    expect(body.error.code).toBe(-32000);
    expect(body.error.message).toMatch(/already runs 1 MCP sessions/);
    await expect(connect(url)).rejects.toThrow();
  });

  it("takes the adapter's maxSessionsPerReplica as the pool's cap, and reports it on the endpoint and in status", async () => {
    const { resource, url } = await start('capped', {}, undefined, { maxSessionsPerReplica: 1 });
    expect(deployer.endpoints(refOf(resource))[0]!.maxSessions).toBe(1);
    expect(firstReplica((await deployer.status(resource)).replicas).detail).toMatch(/^sessions 0\/1\b/);
    await connect(url);
    const res = await fetch(url, { method: 'POST', headers: mcpPostHeaders(), body: INIT });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /already runs 1 MCP/,
    );
  });

  it('DELETE ends the session and its process; the id then gets 404', async () => {
    const { resource, url } = await start('delete');
    const { transport } = await connect(url);
    const [pid] = await sessionPids(resource);
    const sessionId = transport.sessionId!;
    await transport.terminateSession();
    await eventually(() => gone(pid!), 'the session process to exit', 5_000);
    const res = await fetch(url, {
      method: 'POST',
      headers: mcpPostHeaders({ 'mcp-session-id': sessionId }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32001);
    expect(firstReplica((await deployer.status(resource)).replicas).detail).toMatch(/^sessions 0\/16/);
  });

  it('a dead process ends its session: the call fails, the next request is 404, status counts it', async () => {
    const { resource, url } = await start('crash');
    const { client, transport } = await connect(url);
    await expect(client.callTool({ name: 'crash', arguments: {} })).rejects.toThrow();
    const res = await fetch(url, {
      method: 'POST',
      headers: mcpPostHeaders({ 'mcp-session-id': transport.sessionId! }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'ping' }),
    });
    expect(res.status).toBe(404);
    const status = await statusUntil(resource, 'the crash in status', (s) =>
      firstReplica(s.replicas).detail!.includes('restarts 1'),
    );
    expect(firstReplica(status.replicas).detail).toContain('last exit: exit code 3');
    expect(status.readyReplicas).toBe(1);
    const again = await connect(url);
    expect(textOf(await again.client.callTool({ name: 'echo', arguments: { message: 'x' } }))).toBe(
      'Echo: x',
    );
  });

  it('reaps a session abandoned without DELETE once idle, with its process', async () => {
    const { resource, url } = await start('idle', { stdio: { idleTimeoutMs: 150 } });
    const { client } = await connect(url);
    const [pid] = await sessionPids(resource);
    await client.close();
    await eventually(() => gone(pid!), 'the idle session process to be reaped', 5_000);
    expect(firstReplica((await deployer.status(resource)).replicas).detail).toMatch(/^sessions 0\/16/);
  });

  it('keeps a session with an open stream even when it sends nothing', async () => {
    // Long enough that a busy machine's pause between initialize and the next request does not idle it out.
    const { resource, url } = await start('busy', { stdio: { idleTimeoutMs: 1500 } });
    const { client } = await connect(url, true);
    const call = client.callTool({ name: 'slow', arguments: { ms: 4000 } });
    // The call's own answer, not an error result: the session and its process outlived the idle timeout.
    expect(textOf(await call)).toBe('slow done');
    expect(firstReplica((await deployer.status(resource)).replicas).detail).toMatch(/^sessions 1\/16/);
  });

  it("routes progress to its request's stream and a server request to the calling client", async () => {
    const { url } = await start('routing');
    const { client } = await connect(url, true);
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({
      model: 'test',
      role: 'assistant',
      content: { type: 'text', text: 'from the client' },
    }));
    const progress: number[] = [];
    await client.callTool({ name: 'slow', arguments: { ms: 20 } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    expect(progress).toEqual([1]);
    const sampled = textOf(await client.callTool({ name: 'sample', arguments: {} }));
    expect(sampled).toContain('from the client');
  });

  it('relays no message that is not JSON-RPC, and logs that it dropped it', async () => {
    const { resource, url } = await start('malformed');
    const { client, transport } = await connect(url);
    const errors: Error[] = [];
    transport.onerror = (err) => errors.push(err);
    expect(textOf(await client.callTool({ name: 'malformed', arguments: {} }))).toBe('after malformed');
    const logs = await deployer.logs(resource, { instance: 0, tail: 50 });
    const text = logs.ok && 'text' in logs ? logs.text : '';
    expect(
      text.match(/dropped a malformed JSON-RPC message \(\d+ characters\) from the server/g),
    ).toHaveLength(2);
    expect(text).not.toContain('an id');
    expect(errors).toEqual([]);
  });

  it('refuses what the transport refuses', async () => {
    const { url } = await start('refusals');
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(url, { method: 'POST', headers: mcpPostHeaders(headers), body });
    // A 2026-07-28 request whose Mcp-Method header says something else than its body (served otherwise: see
    // stdio-modern-pool.e2e.test.ts).
    const modern = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }), {
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
    });
    expect(modern.status).toBe(400);
    expect(((await modern.json()) as { error: { code: number } }).error.code).toBe(-32020);
    expect((await fetch(url, { headers: { accept: 'text/event-stream' } })).status).toBe(400);
    expect((await post('{not json')).status).toBe(400);
    expect((await fetch(url.replace(/\/mcp$/, '/other'), { method: 'POST' })).status).toBe(404);
    const put = await fetch(url, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, POST, DELETE');
    const unknown = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }), {
      'mcp-session-id': 'no-such-session',
    });
    expect(unknown.status).toBe(404);
    expect(await statusWithHost(url, 'evil.example')).toBe(403);
  });

  it('a server that never answers is not ready, and says so', async () => {
    deployer = fastDeployer({ startTimeoutMs: 100 });
    const resource = processResource('mute', {
      transport: 'stdio',
      marker: marker(),
      args: [STDIO_SERVER, '--mute'],
    });
    await deployer.apply(resource);
    const status = await statusUntil(
      resource,
      'a slow replica',
      (s) => firstReplica(s.replicas).state === 'NotReady',
    );
    expect(status.replicaStatus).toBe('Failed: not ready after 100 ms (still waiting)');
    expect(deployer.endpoints(refOf(resource))).toEqual([]);
  });

  it('stays ready (endpoint unchanged) while a killed spare is restarted', async () => {
    const { resource } = await start('spare');
    const heard: number[] = [];
    const unsubscribe = deployer.onEndpointsChange((_ref, endpoints) => heard.push(endpoints.length));
    try {
      const before = deployer.endpoints(refOf(resource));
      const detail = firstReplica((await deployer.status(resource)).replicas).detail!;
      const sparePid = Number(/spare ready \(pid (\d+)\)/.exec(detail)![1]);
      process.kill(sparePid, 'SIGKILL');
      const status = await statusUntil(
        resource,
        'a restarted spare',
        (s) =>
          /restarts 1/.test(firstReplica(s.replicas).detail!) &&
          /spare ready/.test(firstReplica(s.replicas).detail!),
      );
      expect(firstReplica(status.replicas).detail).toContain('last exit: killed by SIGKILL');
      expect(deployer.endpoints(refOf(resource))).toEqual(before);
      expect(heard).toEqual([]);
    } finally {
      unsubscribe();
    }
  });
});

function readStat(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return '';
  }
}

/** Sends a request with a chosen Host header (fetch does not let callers set it). */
function statusWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: mcpPostHeaders({ host }), agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(INIT);
  });
}
