/**
 * Tests of registered-tool calls against real HTTP servers on loopback, once with the Fetch outbound and once
 * with the Node one (the same behaviour is required of both): result shapes, errors as `isError` results,
 * timeouts, failover only while nothing was sent, rendezvous affinity.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_UPSTREAM_CREDENTIALS } from '../auth/index.js';
import type { ReplicaEndpoint } from '../deploy/index.js';
import { createSilentLogger } from '../observability/index.js';
import type { Registered } from '../registry/index.js';
import { createRendezvous } from '../routing/index.js';
import type { Rendezvous } from '../routing/index.js';
import { closedPort, startHttpServer } from '../../test/http-fixture.js';
import type { RunningServer } from '../../test/http-fixture.js';
import { createHttpToolExecutor } from './http-tool-executor.js';
import type { HttpToolExecutor } from './http-tool-executor.js';
import { createNodeOutbound } from './node/node-outbound.js';
import { OutboundError, fetchOutbound } from './outbound.js';
import type { Outbound } from './outbound.js';
import { createToolSchemas } from './tool-schemas.js';

const PNG = Buffer.from('89504e470d0a1a0a', 'hex');

/** One server that answers by path, recording what it received. */
async function startToolServer() {
  const received: { path: string; headers: IncomingMessage['headers']; body: string; replica: string }[] = [];
  const waiting: { path: string; arrived: () => void }[] = [];
  /** Resolves once the next request for `path` has fully arrived. */
  const arrival = (path: string) => new Promise<void>((arrived) => waiting.push({ path, arrived }));
  const start = (replica: string) =>
    startHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '';
        received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString(), replica });
        for (const waiter of waiting.filter((w) => w.path === path)) {
          waiting.splice(waiting.indexOf(waiter), 1);
          waiter.arrived();
        }
        const json = (status: number, body: unknown) =>
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        if (path === '/object') return json(200, { answer: 42, replica });
        if (path === '/array') return json(200, [1, 2, 3]);
        if (path === '/typed') return json(200, { score: 0.5 });
        if (path === '/image') return res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
        if (path === '/error')
          return res.writeHead(422, { 'content-type': 'text/plain' }).end('text is required');
        if (path === '/slow') return setTimeout(() => json(200, { late: true }), 1500);
        if (path === '/big')
          return res.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(5000));
        if (path === '/empty') return res.writeHead(204).end();
        if (path === '/hangup') return req.socket.destroy();
        json(404, { error: 'no such path' });
      });
    });
  return { received, arrival, start };
}

function toolResource(
  name: string,
  extra: { outputSchema?: object; timeoutMs?: number } = {},
): Registered<'tool'> {
  return {
    kind: 'tool',
    name,
    uid: `uid-${name}`,
    version: 1,
    createdBy: 'alice',
    createdAt: new Date(0),
    lastUpdatedAt: new Date(0),
    spec: {
      environmentVariables: {},
      replicaCount: 1,
      description: '',
      useWorkloadIdentity: false,
      requiredRoles: [],
      endpoints: ['http://unused'],
      toolDefinition: {
        tool: {
          name,
          inputSchema: { type: 'object' },
          ...(extra.outputSchema && { outputSchema: extra.outputSchema as { type: 'object' } }),
        },
        ...(extra.timeoutMs !== undefined && { timeoutMs: extra.timeoutMs }),
      },
    },
  };
}

const outbounds: [string, () => Outbound][] = [
  ['fetch', () => fetchOutbound()],
  [
    'node',
    () =>
      createNodeOutbound({
        http: new HttpAgent({ keepAlive: true }),
        https: new HttpsAgent({ keepAlive: true }),
        refuseAddress: (address) => (address === '127.0.0.2' ? 'blocked for the test' : undefined),
      }),
  ],
];

describe.each(outbounds)('registered tool calls (%s outbound)', (_name, makeOutbound) => {
  let servers: Awaited<ReturnType<typeof startToolServer>>;
  let a: RunningServer;
  let b: RunningServer;
  let refused: string;
  let rendezvous: Rendezvous;
  const unreachable: string[] = [];
  let replicasOf: (name: string) => ReplicaEndpoint[];
  let executor: HttpToolExecutor;
  const alice = { userId: 'alice', roles: ['r1'] };

  beforeAll(async () => {
    servers = await startToolServer();
    a = await servers.start('a');
    b = await servers.start('b');
    refused = `http://127.0.0.1:${await closedPort()}`;
    rendezvous = await createRendezvous();
    replicasOf = (name) => [{ id: `${name}-a`, url: `${a.url}/${name}`, weight: 1 }];
    const replicas = {
      ready: (resource: Registered) => replicasOf(resource.name),
      reportUnreachable: (_resource: Registered, replica: ReplicaEndpoint) =>
        void unreachable.push(replica.id),
    };
    executor = createHttpToolExecutor({
      outbound: makeOutbound(),
      replicas,
      rendezvous,
      identityHeaders: (principal) => ({ 'x-mcp-userid': principal.userId }),
      upstreamCredentials: NO_UPSTREAM_CREDENTIALS,
      logger: createSilentLogger(),
      connectTimeoutMs: 1000,
      defaultTimeoutMs: 800,
      maxResultBytes: 4096,
      outputSchemas: createToolSchemas(createSilentLogger(), 'structuredContent'),
    });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  const call = (
    tool: Registered<'tool'>,
    args?: Record<string, unknown>,
    signal = new AbortController().signal,
  ) => executor.call(tool, args, alice, signal);
  const text = (result: { content: unknown[] }) => (result.content[0] as { text?: string } | undefined)?.text;

  it('POSTs the arguments as JSON with identity headers; a JSON object answer is structured content plus text', async () => {
    const result = await call(toolResource('object'), { q: 'hello', n: 2 });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ answer: 42, replica: 'a' });
    expect(JSON.parse(text(result) ?? '')).toEqual(result.structuredContent);
    const last = servers.received.at(-1)!;
    expect(JSON.parse(last.body)).toEqual({ q: 'hello', n: 2 });
    expect(last.headers['content-type']).toBe('application/json');
    expect(last.headers['x-mcp-userid']).toBe('alice');
    // No arguments: an empty object, which is still valid JSON for the server.
    await call(toolResource('object'));
    expect(servers.received.at(-1)!.body).toBe('{}');
  });

  it('a JSON array answer is text only; an image is image content; 204 is an empty result', async () => {
    const array = await call(toolResource('array'));
    expect(array.structuredContent).toBeUndefined();
    expect(text(array)).toBe('[1,2,3]');
    const image = await call(toolResource('image'));
    expect(image.content).toEqual([{ type: 'image', mimeType: 'image/png', data: PNG.toString('base64') }]);
    expect(await call(toolResource('empty'))).toEqual({ content: [] });
  });

  it('validates against a declared outputSchema', async () => {
    const schema = { type: 'object', properties: { score: { type: 'number' } }, required: ['score'] };
    const ok = await call(toolResource('typed', { outputSchema: schema }));
    expect(ok).toMatchObject({ structuredContent: { score: 0.5 } });
    const strict = { type: 'object', properties: { score: { type: 'string' } }, required: ['score'] };
    const bad = await call(toolResource('typed', { outputSchema: strict }));
    expect(bad.isError).toBe(true);
    expect(text(bad)).toBe(
      'Tool \'typed\' returned a result that does not match its outputSchema: structuredContent/score: Instance type "number" is invalid. Expected "string". (type)',
    );
    const notJson = await call(toolResource('image', { outputSchema: schema }));
    expect(notJson.isError).toBe(true);
    expect(text(notJson)).toMatch(/declares an outputSchema but answered non-JSON content \(image\/png\)/);
  });

  it('a non-2xx answer is an isError result quoting the status and body', async () => {
    const result = await call(toolResource('error'));
    expect(result).toEqual({
      isError: true,
      content: [
        {
          type: 'text',
          text: "Tool 'error' failed: its server answered HTTP 422 Unprocessable Entity: text is required",
        },
      ],
    });
  });

  it('times out per tool (toolDefinition.timeoutMs) or at the default', async () => {
    // The message names the limit that fired: the tool's own, then the default.
    const quick = await call(toolResource('slow', { timeoutMs: 200 }));
    expect(text(quick)).toBe("Tool 'slow' did not answer within 200 ms.");
    const byDefault = await call(toolResource('slow'));
    expect(text(byDefault)).toBe("Tool 'slow' did not answer within 800 ms.");
  });

  it('drops an answer over the size limit', async () => {
    const result = await call(toolResource('big'));
    expect(text(result)).toBe("Tool 'big' answered more than 4096 bytes; the result was dropped.");
  });

  it('fails over to the next replica while nothing was sent, and reports the refusing one', async () => {
    replicasOf = (name) => [
      { id: 'dead', url: `${refused}/${name}`, weight: 1 },
      { id: 'blocked', url: `http://127.0.0.2:1/${name}`, weight: 1 },
      { id: 'alive', url: `${b.url}/${name}`, weight: 1 },
    ];
    try {
      const result = await call(toolResource('object'));
      expect(result.structuredContent).toEqual({ answer: 42, replica: 'b' });
      // Replicas ranked before the live one were tried and failed; a refusing one is reported to its deployer.
      const order = rendezvous.rank(replicasOf('object'), 'alice').map((r) => r.id);
      expect(unreachable.includes('dead')).toBe(order.indexOf('dead') < order.indexOf('alive'));
    } finally {
      replicasOf = (name) => [{ id: `${name}-a`, url: `${a.url}/${name}`, weight: 1 }];
    }
  });

  it('does not repeat a call that may have reached a server; says so when none can be reached', async () => {
    replicasOf = (name) => [
      { id: 'hangs-up', url: `${a.url}/${name}`, weight: 1 },
      { id: 'second', url: `${b.url}/${name}`, weight: 1 },
    ];
    try {
      const before = servers.received.filter((r) => r.path === '/hangup').length;
      const result = await call(toolResource('hangup'));
      expect(result.isError).toBe(true);
      expect(text(result)).toMatch(/^Tool 'hangup' failed: the connection to its server broke/);
      // Exactly one replica saw the call, whichever rendezvous ranked first.
      expect(servers.received.filter((r) => r.path === '/hangup').length - before).toBe(1);

      replicasOf = (name) => [{ id: 'dead', url: `${refused}/${name}`, weight: 1 }];
      expect(text(await call(toolResource('object')))).toMatch(
        /^Tool 'object' is unreachable \(.+\); tried 1 replica\(s\)\.$/,
      );
      replicasOf = () => [];
      expect(text(await call(toolResource('object')))).toBe(
        "Tool 'object' has no ready replica; try again shortly.",
      );
    } finally {
      replicasOf = (name) => [{ id: `${name}-a`, url: `${a.url}/${name}`, weight: 1 }];
    }
  });

  it('keeps a principal on one replica and spreads principals over replicas (rendezvous)', async () => {
    replicasOf = (name) => [
      { id: 'r-a', url: `${a.url}/${name}`, weight: 1 },
      { id: 'r-b', url: `${b.url}/${name}`, weight: 1 },
    ];
    try {
      const replicaFor = async (userId: string) =>
        (
          (
            await executor.call(
              toolResource('object'),
              {},
              { userId, roles: [] },
              new AbortController().signal,
            )
          ).structuredContent as { replica: string }
        ).replica;
      const first = await replicaFor('user-1');
      for (let i = 0; i < 5; i++) expect(await replicaFor('user-1')).toBe(first);
      const seen = new Set<string>();
      for (let i = 0; i < 20; i++) seen.add(await replicaFor(`user-${i}`));
      expect(seen).toEqual(new Set(['a', 'b']));
    } finally {
      replicasOf = (name) => [{ id: `${name}-a`, url: `${a.url}/${name}`, weight: 1 }];
    }
  });

  it('a cancelled call rejects with the abort instead of producing a result', async () => {
    const controller = new AbortController();
    const arrived = servers.arrival('/slow');
    const pending = call(toolResource('slow', { timeoutMs: 5000 }), {}, controller.signal);
    // Cancelled while the server holds the call, as a client's notifications/cancelled arrives.
    await arrived;
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(OutboundError);
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
