/**
 * The Tasks extension (SEP-2663, 2026-07-28) through `/mcp`: SDK 2.x upstreams that answer a task-capable
 * `tools/call` with a task handle; the router's own task ids (no collision between two upstreams minting the
 * same id), `tasks/get` and `tasks/cancel` routed to the upstream that holds the task, and a caller who is not
 * the task's owner refused and audited.
 *
 * The caller speaks JSON-RPC over HTTP itself: the SDK 2.x client (2.4) fails a `resultType: "task"` answer as an
 * unsupported result type and has no `tasks/*` methods on 2026-07-28.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CLIENT_CAPABILITIES_META_KEY, Server, createMcpHandler } from '@modelcontextprotocol/server';
import { localPrincipal } from '../auth/index.js';
import type { AuditLog } from '../observability/index.js';
import { startTestGateway } from '../../test/test-gateway.js';
import type { TestGateway } from '../../test/test-gateway.js';
import { TASKS_EXTENSION } from './tasks.js';
import { serveMcpFetch } from '../../test/http-fixture.js';

interface UpstreamTask {
  taskId: string;
  status: string;
  result?: unknown;
}

/** An SDK 2.x server with a `job` tool that becomes a task for callers taking tasks; ids `task-1`, `task-2`, … */
async function startTaskUpstream(name: string) {
  const tasks = new Map<string, UpstreamTask>();
  const seen: { method: string; taskId: string; inputResponses?: unknown; requestState?: unknown }[] = [];
  let counter = 0;
  const now = new Date().toISOString();
  const view = (task: UpstreamTask) => ({
    ...task,
    statusMessage: `held by ${name}`,
    createdAt: now,
    lastUpdatedAt: new Date().toISOString(),
    ttlSeconds: 600,
    pollIntervalMilliseconds: 100,
    requestState: `state-of-${task.taskId}`,
  });
  const handler = createMcpHandler(() => {
    const server = new Server(
      { name, version: '2.0.0' },
      { capabilities: { tools: {}, extensions: { [TASKS_EXTENSION]: {} } } },
    );
    server.setRequestHandler('tools/list', () => ({
      tools: [{ name: 'job', description: 'A long job', inputSchema: { type: 'object' } }],
    }));
    server.setRequestHandler('tools/call', (_request, ctx) => {
      const envelope = ctx.mcpReq.envelope as Record<string, { extensions?: object }> | undefined;
      const extensions = envelope?.[CLIENT_CAPABILITIES_META_KEY]?.extensions ?? {};
      if (!Object.hasOwn(extensions, TASKS_EXTENSION)) {
        return { content: [{ type: 'text', text: `done at once by ${name}` }] };
      }
      const task: UpstreamTask = { taskId: `task-${++counter}`, status: 'working' };
      tasks.set(task.taskId, task);
      // `content: []`: the SDK checks a tools/call answer as a CallToolResult (it adds none beside requestState).
      return { resultType: 'task', content: [], ...view(task) } as never;
    });
    const schemas = { params: z.looseObject({ taskId: z.string() }), result: z.looseObject({}) };
    server.setRequestHandler('tasks/get', schemas, (params, ctx) => {
      const requestState = ctx.mcpReq.requestState();
      seen.push({
        method: 'tasks/get',
        taskId: params.taskId,
        ...(requestState !== undefined && { requestState }),
      });
      const task = tasks.get(params.taskId);
      if (!task) throw new Error(`no task ${params.taskId}`);
      return view(task);
    });
    server.setRequestHandler('tasks/update', schemas, (params, ctx) => {
      // The SDK hands the retry fields over in the context, as for a tools/call retry.
      seen.push({ method: 'tasks/update', taskId: params.taskId, inputResponses: ctx.mcpReq.inputResponses });
      return {};
    });
    server.setRequestHandler('tasks/cancel', schemas, (params) => {
      seen.push({ method: 'tasks/cancel', taskId: params.taskId });
      const task = tasks.get(params.taskId);
      if (task && task.status === 'working') task.status = 'cancelled';
      return {};
    });
    return server;
  });
  const http = await serveMcpFetch((request) => handler.fetch(request));
  return {
    url: http.mcpUrl,
    tasks,
    seen,
    complete(taskId: string) {
      tasks.set(taskId, {
        taskId,
        status: 'completed',
        result: { content: [{ type: 'text', text: `finished by ${name}` }] },
      });
    },
    close: () => http.close(),
  };
}

type TaskUpstream = Awaited<ReturnType<typeof startTaskUpstream>>;

interface RpcAnswer {
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

describe('tasks through the tool router', () => {
  let a: TaskUpstream;
  let b: TaskUpstream;
  let gateway: TestGateway;
  const audit: Record<string, unknown>[] = [];
  const auditLog: AuditLog = { enabled: () => true, write: (entry) => audit.push({ ...entry }) };

  /** One 2026-07-28 request of `user` to `/mcp`, declaring the Tasks extension (unless `tasks: false`). */
  async function rpc(
    user: string,
    method: string,
    params: Record<string, unknown>,
    name?: string,
    tasks = true,
  ): Promise<RpcAnswer> {
    const res = await fetch(`${gateway.url}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': method,
        ...(name !== undefined && { 'mcp-name': name }),
        'x-test-user': user,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method,
        params: {
          ...params,
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientInfo': { name: 'tasks-test', version: '1.0.0' },
            [CLIENT_CAPABILITIES_META_KEY]: tasks ? { extensions: { [TASKS_EXTENSION]: {} } } : {},
          },
        },
      }),
    });
    const text = await res.text();
    const data = (res.headers.get('content-type') ?? '').includes('event-stream')
      ? text
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => JSON.parse(l.slice(5)) as RpcAnswer & { id?: unknown })
          .find((m) => m.id === 7)!
      : (JSON.parse(text) as RpcAnswer);
    return data;
  }

  const createTask = async (user: string, tool: string) => {
    const answer = await rpc(user, 'tools/call', { name: tool, arguments: {} }, tool);
    expect(answer.error).toBeUndefined();
    expect(answer.result?.['resultType']).toBe('task');
    return answer.result!['taskId'] as string;
  };
  const getTask = (user: string, taskId: string) => rpc(user, 'tasks/get', { taskId }, taskId);

  beforeAll(async () => {
    a = await startTaskUpstream('upstream-a');
    b = await startTaskUpstream('upstream-b');
    gateway = await startTestGateway({
      toolRouter: {},
      operations: { audit: auditLog },
      authenticate: (c, next) =>
        localPrincipal({
          principal: { userId: c.req.header('x-test-user') ?? 'admin', roles: ['mcp.admin'] },
        })(c, next),
    });
    for (const [name, upstream] of [
      ['jobs-a', a],
      ['jobs-b', b],
    ] as const) {
      const res = await fetch(`${gateway.url}/adapters`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, endpoints: [upstream.url], federate: true }),
      });
      expect(res.status).toBe(201);
    }
  });
  afterAll(async () => {
    await gateway?.close();
    await a?.close();
    await b?.close();
  });

  it('a task-augmented call, polled to completion and another cancelled, all at the upstream that holds them', async () => {
    const taskId = await createTask('alice', 'jobs-a__job');
    expect(taskId).toMatch(/^jobs-a\.v2\./);
    const upstreamId = [...a.tasks.keys()].at(-1)!;
    expect(taskId).not.toContain(upstreamId);

    const working = await getTask('alice', taskId);
    expect(working.result).toMatchObject({ taskId, status: 'working', statusMessage: 'held by upstream-a' });
    expect(a.seen.at(-1)).toEqual({ method: 'tasks/get', taskId: upstreamId });
    // The upstream's task state reaches the caller sealed, and goes back to the upstream as it was.
    const sealedState = working.result!['requestState'] as string;
    expect(sealedState).toMatch(/^v2\./);
    expect(sealedState).not.toContain(upstreamId);
    await rpc('alice', 'tasks/get', { taskId, requestState: sealedState }, taskId);
    expect(a.seen.at(-1)).toEqual({
      method: 'tasks/get',
      taskId: upstreamId,
      requestState: `state-of-${upstreamId}`,
    });
    const lines = audit.length;
    const forged = await rpc('alice', 'tasks/get', { taskId, requestState: `x${sealedState}` }, taskId);
    expect(forged.error?.message).toMatch(/Invalid or expired requestState/);
    expect(audit.slice(lines)).toContainEqual(
      expect.objectContaining({ stateKind: 'task', method: 'tasks/get' }),
    );

    const answers = { who: { action: 'accept', content: { name: 'Ada' } } };
    const updated = await rpc('alice', 'tasks/update', { taskId, inputResponses: answers }, taskId);
    expect(updated.error).toBeUndefined();
    expect(a.seen.at(-1)).toEqual({ method: 'tasks/update', taskId: upstreamId, inputResponses: answers });

    a.complete(upstreamId);
    const done = await getTask('alice', taskId);
    expect(done.result).toMatchObject({
      taskId,
      status: 'completed',
      result: { content: [{ type: 'text', text: 'finished by upstream-a' }] },
    });

    const second = await createTask('alice', 'jobs-a__job');
    const secondUpstream = [...a.tasks.keys()].at(-1)!;
    const cancelled = await rpc('alice', 'tasks/cancel', { taskId: second }, second);
    expect(cancelled.error).toBeUndefined();
    expect(a.tasks.get(secondUpstream)?.status).toBe('cancelled');
    expect((await getTask('alice', second)).result).toMatchObject({ taskId: second, status: 'cancelled' });
  });

  it('user B polling or cancelling user A’s task is refused, audited, and nothing reaches the upstream', async () => {
    const taskId = await createTask('alice', 'jobs-a__job');
    const upstreamId = [...a.tasks.keys()].at(-1)!;
    const seen = a.seen.length;
    const lines = audit.length;

    const polled = await getTask('bob', taskId);
    expect(polled.result).toBeUndefined();
    expect(polled.error?.message).toMatch(/Unknown task/);
    // The extension acknowledges a cancel of any id; this one is not carried out.
    const cancel = await rpc('bob', 'tasks/cancel', { taskId }, taskId);
    expect(cancel.error).toBeUndefined();
    expect(a.tasks.get(upstreamId)?.status).toBe('working');
    expect(a.seen.length).toBe(seen);

    const refusals = audit.slice(lines).filter((l) => l['action'] === 'routing-state/refused');
    expect(refusals).toEqual([
      expect.objectContaining({
        method: 'tasks/get',
        stateKind: 'task',
        adapter: 'jobs-a',
        principal: 'bob',
        reason: 'wrong-principal',
        outcome: 'denied',
      }),
      expect.objectContaining({ method: 'tasks/cancel', principal: 'bob', reason: 'wrong-principal' }),
    ]);
    // Alice still reaches her task.
    expect((await getTask('alice', taskId)).result).toMatchObject({ status: 'working' });
  });

  it('refuses a tampered task id and audits it', async () => {
    const taskId = await createTask('alice', 'jobs-b__job');
    const i = taskId.length - 8;
    const tampered = taskId.slice(0, i) + (taskId[i] === 'A' ? 'B' : 'A') + taskId.slice(i + 1);
    const lines = audit.length;
    expect((await getTask('alice', tampered)).error?.message).toMatch(/Unknown task/);
    expect(audit.slice(lines)).toContainEqual(
      expect.objectContaining({ action: 'routing-state/refused', reason: 'tampered', adapter: 'jobs-b' }),
    );
  });

  it('two upstreams minting the same task id give two tasks that never collide', async () => {
    const fresh = async () => {
      const upstreamA = await startTaskUpstream('twin-a');
      const upstreamB = await startTaskUpstream('twin-b');
      return [upstreamA, upstreamB] as const;
    };
    const [twinA, twinB] = await fresh();
    try {
      for (const [name, upstream] of [
        ['twin-a', twinA],
        ['twin-b', twinB],
      ] as const) {
        const res = await fetch(`${gateway.url}/adapters`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name, endpoints: [upstream.url], federate: true }),
        });
        expect(res.status).toBe(201);
      }
      const idA = await createTask('alice', 'twin-a__job');
      const idB = await createTask('alice', 'twin-b__job');
      // Both upstreams called their task `task-1`.
      expect([...twinA.tasks.keys()]).toEqual(['task-1']);
      expect([...twinB.tasks.keys()]).toEqual(['task-1']);
      expect(idA).not.toBe(idB);
      twinB.complete('task-1');
      expect((await getTask('alice', idA)).result).toMatchObject({
        status: 'working',
        statusMessage: 'held by twin-a',
      });
      expect((await getTask('alice', idB)).result).toMatchObject({
        status: 'completed',
        statusMessage: 'held by twin-b',
      });
      // A task id of one adapter is no key to the other's task.
      const forged = `twin-b.${idA.slice('twin-a.'.length)}`;
      expect((await getTask('alice', forged)).error?.message).toMatch(/Unknown task/);
    } finally {
      await twinA.close();
      await twinB.close();
    }
  });

  it('a caller that does not take tasks gets the result of the call itself', async () => {
    const answer = await rpc(
      'alice',
      'tools/call',
      { name: 'jobs-a__job', arguments: {} },
      'jobs-a__job',
      false,
    );
    expect(answer.result?.['resultType']).toBe('complete');
    expect(answer.result?.['content']).toEqual([{ type: 'text', text: 'done at once by upstream-a' }]);
  });
});
