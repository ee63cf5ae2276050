/**
 * Drain on SIGTERM, against the real `main.ts` in a child process with an SSE stream open through it to a local
 * process adapter that streams slowly: readiness turns 503, new connections are refused, the open stream
 * finishes (or is cut at `MCP_GATEWAY_DRAIN_SECONDS`), the adapter's processes are reaped, and the exit code is 0.
 */
import { request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startGatewayProcess } from '../test/gateway-process.js';
import type { GatewayProcess } from '../test/gateway-process.js';
import { modernToolCallBody, modernToolCallHeaders } from '../test/modern-requests.js';
import { until } from '../test/polling.js';
import {
  MARKER_VARIABLE,
  canScanProcesses,
  killMarked,
  markedProcesses,
  newMarker,
} from '../test/process-tree.js';

const SLOW_SERVER = fileURLToPath(new URL('../test/slow-sse-server.mjs', import.meta.url));
const markers: string[] = [];
const running: GatewayProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => (g.child.exitCode === null ? g.stop('SIGKILL') : null)));
});
afterAll(() => markers.forEach(killMarked));

/** The exit code, once the process has exited and its output has been read to the end. */
const exitOf = (g: GatewayProcess) =>
  new Promise<number | null>((resolve) => g.child.once('close', (code) => resolve(code)));

/** Connects once on a fresh socket: `refused` when nothing accepts connections any more. */
function tryConnect(port: number): Promise<'accepted' | 'refused' | 'error'> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('accepted');
    });
    socket.once('error', (err: NodeJS.ErrnoException) =>
      resolve(err.code === 'ECONNREFUSED' ? 'refused' : 'error'),
    );
  });
}

/** GET /readyz on a fresh connection. */
function readyz(
  url: string,
): Promise<{ status: number; body: string; connection: string | undefined } | 'refused'> {
  return new Promise((resolve) => {
    const req = request(`${url}/readyz`, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }));
    });
    req.once('error', () => resolve('refused'));
    req.end();
  });
}

interface OpenStream {
  readonly events: () => number;
  /** Resolves when the response ends: `complete` false means the connection was cut mid-stream. */
  readonly ended: Promise<{ complete: boolean; at: number }>;
}

/** Starts a gateway, registers the slow SSE server as a process adapter and opens one stream through it. */
async function gatewayWithStream(
  env: Record<string, string>,
  slowArgs: string[],
): Promise<{ gateway: GatewayProcess; port: number; stream: OpenStream; marker: string }> {
  const gateway = await startGatewayProcess({ DATABASE_URL: ':memory:', ...env });
  running.push(gateway);
  const marker = newMarker();
  markers.push(marker);
  const created = await fetch(`${gateway.url}/adapters`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'slow',
      command: process.execPath,
      args: [SLOW_SERVER, ...slowArgs],
      transport: 'streamable-http',
      path: '/mcp',
      environmentVariables: { [MARKER_VARIABLE]: marker },
    }),
  });
  expect(created.status).toBe(201);
  await until(
    async () =>
      (await (await fetch(`${gateway.url}/adapters/slow/status`)).json()) as { readyReplicas: number },
    (s) => s.readyReplicas === 1,
    'a ready replica',
    20_000,
    20,
  );

  const stream = await new Promise<OpenStream>((resolve, reject) => {
    const req = request(`${gateway.url}/adapters/slow/mcp`, {
      method: 'POST',
      agent: false,
      headers: modernToolCallHeaders('wait'),
    });
    req.once('error', reject);
    req.once('response', (res: IncomingMessage) => {
      if (res.statusCode !== 200) reject(new Error(`stream answered ${res.statusCode}`));
      let text = '';
      res.setEncoding('utf8');
      const ended = new Promise<{ complete: boolean; at: number }>((done) => {
        res.once('end', () => done({ complete: res.complete, at: Date.now() }));
        res.once('error', () => done({ complete: false, at: Date.now() }));
        res.once('aborted', () => done({ complete: false, at: Date.now() }));
      });
      const events = () => text.split('\n\n').filter((e) => e.includes('data:')).length;
      res.on('data', (chunk: string) => {
        const first = text === '';
        text += chunk;
        if (first) resolve({ events, ended });
      });
    });
    req.end(modernToolCallBody('wait'));
  });
  const port = Number(new URL(gateway.url).port);
  expect(markedProcesses(marker).length).toBeGreaterThan(0);
  return { gateway, port, stream, marker };
}

describe.runIf(canScanProcesses)('draining the gateway process on SIGTERM', () => {
  it('turns readiness 503, then refuses new connections, lets the open stream finish, reaps and exits 0', async () => {
    // 8 events 300 ms apart: the stream outlives the 1 s accept window by more than a second.
    const { gateway, port, stream, marker } = await gatewayWithStream(
      { MCP_GATEWAY_DRAIN_SECONDS: '20', MCP_GATEWAY_DRAIN_ACCEPT_SECONDS: '1' },
      ['--events=8', '--interval=300'],
    );
    const exited = exitOf(gateway);
    const signalledAt = Date.now();
    gateway.child.kill('SIGTERM');

    // Still accepting for a moment, so load balancers can read the 503 and stop sending.
    const notReady = await until(
      () => readyz(gateway.url),
      (r) => r !== 'refused' && r.status === 503,
      'a draining 503 from /readyz',
      900,
      20,
    );
    expect(notReady).toMatchObject({ status: 503, connection: 'close' });
    expect(JSON.parse((notReady as { body: string }).body)).toMatchObject({ reason: 'draining' });

    // Then nothing accepts new connections, while the stream is still running.
    await until(
      () => tryConnect(port),
      (r) => r === 'refused',
      'new connections refused',
      3000,
      20,
    );
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(900);
    expect(stream.events()).toBeLessThan(8);

    const ended = await stream.ended;
    expect(ended.complete).toBe(true);
    expect(stream.events()).toBe(8);
    expect(await exited).toBe(0);
    expect(markedProcesses(marker)).toEqual([]);
    const messages = gateway.logs.map((l) => l.msg);
    expect(messages).toEqual(
      expect.arrayContaining(['shutting down', 'draining: listener closed', 'stopped']),
    );
    expect(messages).not.toContain('drain deadline: cutting open connections');
  });

  it('refuses new connections at once and cuts a stream still open at the drain deadline, then exits 0', async () => {
    // A stream that never ends by itself.
    const { gateway, port, stream, marker } = await gatewayWithStream({ MCP_GATEWAY_DRAIN_SECONDS: '1' }, [
      '--events=0',
      '--interval=100',
    ]);
    const exited = exitOf(gateway);
    const signalledAt = Date.now();
    gateway.child.kill('SIGTERM');

    await until(
      () => tryConnect(port),
      (r) => r === 'refused',
      'new connections refused',
      800,
      20,
    );
    const eventsWhenRefused = stream.events();
    const ended = await stream.ended;
    expect(ended.complete).toBe(false);
    // It kept streaming during the drain, and was cut at the deadline, not before.
    expect(stream.events()).toBeGreaterThan(eventsWhenRefused);
    expect(ended.at - signalledAt).toBeGreaterThanOrEqual(900);
    expect(await exited).toBe(0);
    expect(markedProcesses(marker)).toEqual([]);
    expect(gateway.logs.map((l) => l.msg)).toEqual(
      expect.arrayContaining(['drain deadline: cutting open connections', 'stopped']),
    );
  });
});
