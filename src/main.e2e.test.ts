import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openRegistryStore } from './registry/index.js';
import { runGatewayToExit, startGatewayProcess } from '../test/gateway-process.js';
import { until } from '../test/polling.js';
import { FIXTURE_READ_PATHS, STDIO_SERVER } from '../test/process-fixtures.js';
import {
  MARKER_VARIABLE,
  canScanProcesses,
  killMarked,
  markedProcesses,
  newMarker,
} from '../test/process-tree.js';
import type { GatewayProcess } from '../test/gateway-process.js';

const dir = mkdtempSync(join(tmpdir(), 'mcp-gateway-main-'));
const running: GatewayProcess[] = [];
afterEach(async () => {
  // Reap anything a failed test left running.
  await Promise.all(running.splice(0).map((g) => (g.child.exitCode === null ? g.stop('SIGKILL') : null)));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function start(env: Record<string, string>) {
  const gateway = await startGatewayProcess(env);
  running.push(gateway);
  return gateway;
}

describe('the gateway process', () => {
  it('keeps every resource and its generated secret across a SIGTERM restart', async () => {
    const databaseUrl = join(dir, 'nested', 'registry.db');
    const first = await start({ DATABASE_URL: databaseUrl });
    const created = await fetch(`${first.url}/adapters`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'kept',
        endpoints: ['http://127.0.0.1:9/mcp'],
        environmentVariables: { K: 'v' },
      }),
    });
    expect(created.status).toBe(201);
    const tool = await fetch(`${first.url}/tools`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'score',
        imageName: 'team/score',
        imageVersion: '1',
        toolDefinition: { tool: { name: 'score', inputSchema: { type: 'object' } } },
      }),
    });
    expect(tool.status).toBe(201);
    expect(await first.stop('SIGTERM')).toBe(0);
    expect(first.logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down', 'stopped']));

    // The generated secret is in its own 0600 file beside the database, not in the registry.
    const secretFile = join(dir, 'nested', 'secret');
    const secret = readFileSync(secretFile, 'utf8');
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    expect(statSync(databaseUrl).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'nested')).mode & 0o777).toBe(0o700);
    const store = await openRegistryStore(databaseUrl);
    expect(await store.getSetting('gateway-secret')).toBeUndefined();
    await store.close();

    const second = await start({ DATABASE_URL: databaseUrl });
    const adapter = await fetch(`${second.url}/adapters/kept`);
    expect(adapter.status).toBe(200);
    expect(await adapter.json()).toMatchObject({ name: 'kept', environmentVariables: { K: 'v' } });
    expect((await (await fetch(`${second.url}/tools`)).json()) as unknown[]).toHaveLength(1);
    expect(await second.stop('SIGINT')).toBe(0);

    expect(readFileSync(secretFile, 'utf8')).toBe(secret);
    // The secret never reaches the log.
    expect(JSON.stringify([...first.logs, ...second.logs])).not.toContain(secret);
  });

  it('answers /readyz and logs JSON at the configured level', async () => {
    const gateway = await start({ DATABASE_URL: join(dir, 'ready.db'), MCP_GATEWAY_LOG_LEVEL: 'debug' });
    expect(await (await fetch(`${gateway.url}/readyz`)).json()).toEqual({
      status: 'ready',
      registry: 'sqlite',
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(gateway.logs.some((l) => l.msg === 'request' && l.path === '/readyz' && l.level === 20)).toBe(
      true,
    );
    expect(await gateway.stop()).toBe(0);
  });

  it('fails fast with a message naming a bad variable', async () => {
    const result = await runGatewayToExit({ PORT: 'eighty', DATABASE_URL: join(dir, 'never.db') });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('PORT must be an integer from 0 to 65535 (got "eighty")');
  });

  it('refuses a registry migrated by a newer gateway, saying what to do', async () => {
    const databaseUrl = join(dir, 'newer.db');
    await (await openRegistryStore(databaseUrl)).close();
    const raw = new Database(databaseUrl);
    raw
      .prepare('insert into __drizzle_migrations (hash, created_at) values (?, ?)')
      .run('from-the-future', Date.now() + 86_400_000);
    raw.close();
    const result = await runGatewayToExit({ DATABASE_URL: databaseUrl });
    expect(result.code).toBe(1);
    const fatal = result.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.level === 60);
    expect(fatal?.msg).toBe('cannot open the registry');
    expect(JSON.stringify(fatal)).toMatch(/newer MCP Gateway.*upgrade the gateway/);
  });

  it('runs a command whose path contains a space, as it is given', async () => {
    // Outside the registry's folder: the sandbox refuses a read path there.
    const programs = mkdtempSync(join(tmpdir(), 'mcp-gateway-spaced-'));
    try {
      const folder = join(programs, 'My Tools');
      mkdirSync(folder);
      const node = join(folder, 'node runtime');
      symlinkSync(process.execPath, node);
      const gateway = await start({
        DATABASE_URL: join(dir, 'spaced.db'),
        MCP_GATEWAY_PROCESS_READ_PATHS: [...FIXTURE_READ_PATHS, programs].join(','),
      });
      const created = await fetch(`${gateway.url}/adapters`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'spaced', command: node, args: [STDIO_SERVER] }),
      });
      expect(created.status).toBe(201);
      const ready = await until(
        async () =>
          (
            (await (await fetch(`${gateway.url}/adapters/spaced/status`)).json()) as {
              readyReplicas?: number;
            }
          ).readyReplicas ?? 0,
        (n) => n >= 1,
        'a ready replica',
        20_000,
        100,
      );
      expect(ready).toBe(1);
      expect(await gateway.stop('SIGTERM')).toBe(0);
    } finally {
      rmSync(programs, { recursive: true, force: true });
    }
  });

  it.runIf(canScanProcesses)('reaps every local process of a command adapter when it stops', async () => {
    const marker = newMarker();
    const gateway = await start({ DATABASE_URL: join(dir, 'processes.db') });
    try {
      const created = await fetch(`${gateway.url}/adapters`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'local',
          command: process.execPath,
          args: [STDIO_SERVER],
          replicaCount: 2,
          environmentVariables: { [MARKER_VARIABLE]: marker },
        }),
      });
      expect(created.status).toBe(201);
      const ready = await until(
        async () =>
          ((await (await fetch(`${gateway.url}/adapters/local/status`)).json()) as { readyReplicas?: number })
            .readyReplicas ?? 0,
        (n) => n >= 2,
        'two ready replicas',
        20_000,
        100,
      );
      expect(ready).toBe(2);
      expect(markedProcesses(marker).length).toBeGreaterThanOrEqual(2);
      expect(await gateway.stop('SIGTERM')).toBe(0);
      expect(markedProcesses(marker)).toEqual([]);
    } finally {
      killMarked(marker);
    }
  });
});

describe('the gateway process: an address it cannot bind', () => {
  /** A port this test holds on loopback for as long as the test runs. */
  async function holdPort(): Promise<{ port: number; release: () => Promise<void> }> {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    return {
      port: (holder.address() as AddressInfo).port,
      release: () => new Promise((resolve) => holder.close(() => resolve())),
    };
  }

  const stderrLines = (stderr: string) => stderr.split('\n').filter(Boolean);

  it('says in one line that PORT is in use, exits 2, and closes the registry it had opened', async () => {
    const held = await holdPort();
    try {
      const databaseUrl = join(dir, 'busy-port.db');
      const result = await runGatewayToExit({ PORT: String(held.port), DATABASE_URL: databaseUrl });
      expect(result.code).toBe(2);
      expect(stderrLines(result.stderr)).toEqual([
        `cannot listen on 127.0.0.1:${held.port}: the port is in use by another process; set PORT to a free port, or stop what holds it`,
      ]);
      // A registry closed cleanly leaves no write-ahead log: the runtime (deployers first) was closed, not abandoned.
      expect(existsSync(databaseUrl)).toBe(true);
      expect(existsSync(`${databaseUrl}-wal`)).toBe(false);
    } finally {
      await held.release();
    }
  });

  it('names MCP_GATEWAY_METRICS_PORT when the metrics listener cannot bind', async () => {
    const held = await holdPort();
    try {
      const result = await runGatewayToExit({
        MCP_GATEWAY_METRICS_PORT: String(held.port),
        DATABASE_URL: join(dir, 'busy-metrics-port.db'),
      });
      expect(result.code).toBe(2);
      expect(stderrLines(result.stderr)).toEqual([
        `cannot listen on 127.0.0.1:${held.port}: the port is in use by another process; set MCP_GATEWAY_METRICS_PORT to a free port, or stop what holds it`,
      ]);
    } finally {
      await held.release();
    }
  });

  it('names MCP_GATEWAY_HOST for an address that is not one of this host', async () => {
    // 192.0.2.1 is reserved for documentation (RFC 5737): no interface has it, so the bind fails at once.
    const result = await runGatewayToExit({
      MCP_GATEWAY_HOST: '192.0.2.1',
      MCP_GATEWAY_AUTH: 'dev-insecure',
      DATABASE_URL: join(dir, 'no-such-address.db'),
    });
    expect(result.code).toBe(2);
    expect(stderrLines(result.stderr)).toEqual([
      'cannot listen on 192.0.2.1:0: no network interface of this host has that address; set MCP_GATEWAY_HOST to one it has (127.0.0.1: this machine only, 0.0.0.0: every interface)',
    ]);
  });
});

/** A GET with the Host header exactly as given (fetch sets its own). */
function getWithHost(
  url: string,
  host: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { ...headers, host, connection: 'close' } }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the gateway process: host safety and who reads /metrics', () => {
  const TOKEN = 'metrics-token-0123456789abcdef-0123456789';

  it('refuses dev mode with a public URL that is not loopback, exit 2, pointing at dev-insecure and token modes', async () => {
    const modes: Record<string, string>[] = [{}, { MCP_GATEWAY_AUTH: 'dev' }];
    for (const auth of modes) {
      const result = await runGatewayToExit({
        ...auth,
        MCP_GATEWAY_PUBLIC_URL: 'https://gw.example.com',
        DATABASE_URL: join(dir, 'never.db'),
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        'MCP_GATEWAY_PUBLIC_URL ("https://gw.example.com") is not a loopback URL, and dev mode',
      );
      expect(result.stderr).toContain('Use MCP_GATEWAY_AUTH=oidc or jwt, or dev-insecure');
    }
  });

  it('starts dev-insecure behind a public URL: its host is served, a foreign one refused, /metrics needs the token', async () => {
    const gateway = await start({
      MCP_GATEWAY_AUTH: 'dev-insecure',
      MCP_GATEWAY_PUBLIC_URL: 'https://gw.example.com',
      MCP_GATEWAY_METRICS_TOKEN: TOKEN,
      DATABASE_URL: join(dir, 'proxied.db'),
    });
    expect((await getWithHost(`${gateway.url}/healthz`, 'gw.example.com')).status).toBe(200);
    const foreign = await getWithHost(`${gateway.url}/adapters`, 'evil.example:3000');
    expect(foreign.status).toBe(403);
    expect(JSON.parse(foreign.body)).toMatchObject({ error: { code: 'host_not_allowed' } });
    expect((await fetch(`${gateway.url}/metrics`)).status).toBe(401);
    const scraped = await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('mcp_gateway_http_requests_total');
    expect(await gateway.stop()).toBe(0);
    expect(JSON.stringify(gateway.logs)).not.toContain(TOKEN);
  });

  it('serves /metrics and /healthz on MCP_GATEWAY_METRICS_PORT, and /metrics no longer on the main port', async () => {
    const gateway = await start({
      MCP_GATEWAY_METRICS_PORT: '0',
      MCP_GATEWAY_METRICS_TOKEN: TOKEN,
      DATABASE_URL: join(dir, 'metrics-port.db'),
    });
    const line = gateway.logs.find((l) => l.msg === 'metrics listening');
    expect(line).toMatchObject({ address: '127.0.0.1', token: true });
    const metricsUrl = `http://127.0.0.1:${String(line?.port)}`;
    expect(
      (await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status,
    ).toBe(404);
    expect((await fetch(`${metricsUrl}/metrics`)).status).toBe(401);
    const scraped = await fetch(`${metricsUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('process_cpu_seconds_total');
    expect(await (await fetch(`${metricsUrl}/healthz`)).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${metricsUrl}/adapters`)).status).toBe(404);
    expect((await getWithHost(`${metricsUrl}/healthz`, 'evil.example')).status).toBe(403);
    expect(await gateway.stop()).toBe(0);
    expect(JSON.stringify(gateway.logs)).not.toContain(TOKEN);
  });
});

describe('the gateway process with OpenTelemetry configured', () => {
  it('exports its spans to the OTLP endpoint over HTTP, the last ones on SIGTERM', async () => {
    const received: { path: string; authorization: string | undefined; body: string }[] = [];
    const collector = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push({ path: req.url ?? '', authorization: req.headers.authorization, body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = collector.address() as AddressInfo;
      const gateway = await start({
        DATABASE_URL: ':memory:',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20collector-token',
        OTEL_SERVICE_NAME: 'gateway-under-test',
      });
      const traceId = '0af7651916cd43dd8448eb211c80319c';
      const listed = await fetch(`${gateway.url}/adapters`, {
        headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` },
      });
      expect(listed.status).toBe(200);
      expect(await gateway.stop('SIGTERM')).toBe(0);

      const traces = received.filter((r) => r.path === '/v1/traces');
      expect(traces.length).toBeGreaterThan(0);
      expect(traces[0]!.authorization).toBe('Bearer collector-token');
      const all = traces.map((t) => t.body).join('\n');
      expect(all).toContain('gateway-under-test');
      expect(all).toContain('GET /adapters');
      expect(all).toContain(traceId);
      // The header value is a secret: it is sent, never logged.
      expect(JSON.stringify(gateway.logs)).not.toContain('collector-token');
    } finally {
      await new Promise((resolve) => collector.close(resolve));
    }
  });
});
