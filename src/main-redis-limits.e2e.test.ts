/**
 * Rate limits across instances: two real gateway processes (`main.ts`) share one Redis (`TEST_REDIS_URL`) and a
 * limit on (caller, tool) of burst 3. Three calls spread over both instances pass — through SDK 2.x and 1.x
 * clients, on the data plane and on the tool router — and the next one, on either instance, is a 429 with
 * `Retry-After`. With the Redis URL pointing at a closed loopback port, a gateway still starts, warns, enforces the
 * limit per instance and answers at once. Keys go under a prefix of this file's own, deleted at the end.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayProcess } from '../test/gateway-process.js';
import type { GatewayProcess } from '../test/gateway-process.js';
import { connectLegacyClient, connectModernClient } from '../test/mcp-clients.js';
import type { TestMcpClient } from '../test/mcp-clients.js';
import { startModernMcpServer } from '../test/mcp-servers.js';
import type { RunningMcpServer } from '../test/mcp-servers.js';
import { modernToolCallBody, modernToolCallHeaders } from '../test/modern-requests.js';
import {
  REDIS_SKIP_REASON,
  TEST_REDIS_URL,
  deleteKeysUnder,
  keysUnder,
  testRedisClient,
  uniqueKeyPrefix,
} from '../test/redis-test-keys.js';

if (!TEST_REDIS_URL) process.stderr.write(`limits across instances skipped: ${REDIS_SKIP_REASON}\n`);

const BURST = 3;
/** One token per 1000 s: nothing refills while the test runs, whatever the machine's speed. */
const LIMIT_ENV = {
  DATABASE_URL: ':memory:',
  MCP_GATEWAY_RATE_LIMIT_PER_TOOL: '0.001',
  MCP_GATEWAY_RATE_LIMIT_PER_TOOL_BURST: String(BURST),
};
const dev = (user: string) => ({ 'x-dev-userid': user, 'x-dev-roles': 'mcp.admin' });

const running: GatewayProcess[] = [];
const clients: TestMcpClient[] = [];
let upstream: RunningMcpServer;

/** Resolves with the first log line of `gateway` that `matches`, as the gateway writes it. */
function logLine(
  gateway: GatewayProcess,
  matches: (line: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const stdout = gateway.child.stdout!;
    const timer = setTimeout(() => {
      stdout.off('data', check);
      reject(
        new Error(`no such log line within 20 s; got: ${gateway.logs.map((l) => String(l.msg)).join(' | ')}`),
      );
    }, 20_000);
    function check() {
      const found = gateway.logs.find(matches);
      if (!found) return;
      clearTimeout(timer);
      stdout.off('data', check);
      resolve(found);
    }
    stdout.on('data', check);
    check();
  });
}

async function start(env: Record<string, string>): Promise<GatewayProcess> {
  const gateway = await startGatewayProcess({ ...LIMIT_ENV, ...env });
  running.push(gateway);
  for (const body of [
    { name: 'up', endpoints: [upstream.url] },
    { name: 'fed', endpoints: [upstream.url], federate: true },
  ]) {
    const res = await fetch(`${gateway.url}/adapters`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...dev('admin') },
      body: JSON.stringify(body),
    });
    expect(res.status, await res.text()).toBe(201);
  }
  return gateway;
}

const rawCall = (gateway: GatewayProcess, path: string, tool: string, user = 'alice') =>
  fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: modernToolCallHeaders(tool, dev(user)),
    body: modernToolCallBody(tool, { text: 'hi' }),
  });

async function connect(era: 'legacy' | 'modern', url: string, user = 'alice') {
  const client = await (era === 'legacy' ? connectLegacyClient : connectModernClient)(url, {
    headers: dev(user),
  });
  clients.push(client);
  return client;
}

const metricsOf = async (gateway: GatewayProcess) => (await fetch(`${gateway.url}/metrics`)).text();

beforeAll(async () => {
  upstream = await startModernMcpServer({ name: 'shared-up' });
});

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  await Promise.all(running.map((g) => g.stop()));
  await upstream.close();
});

describe.skipIf(!TEST_REDIS_URL)('a limit on (caller, tool) across two instances sharing Redis', () => {
  const prefix = uniqueKeyPrefix();
  let a: GatewayProcess;
  let b: GatewayProcess;

  beforeAll(async () => {
    const env = {
      MCP_GATEWAY_REDIS_URL: TEST_REDIS_URL!,
      MCP_GATEWAY_REDIS_KEY_PREFIX: prefix,
      // Generous: on a busy machine a check past the default 50 ms would be answered locally, and this test is
      // about the shared buckets (the fallback has its own test below).
      MCP_GATEWAY_REDIS_TIMEOUT_MS: '2000',
    };
    [a, b] = await Promise.all([start(env), start(env)]);
    // "Back" when the first connect was slower than its timeout on a busy machine (a warning came first).
    const shared = (l: Record<string, unknown>) =>
      l.msg === 'rate limits: kept in Redis, shared by every instance' ||
      l.msg === 'rate limits: Redis is back; limits hold across instances again';
    await Promise.all([logLine(a, shared), logLine(b, shared)]);
  }, 120_000);

  afterAll(async () => {
    const admin = testRedisClient();
    await deleteKeysUnder(admin, prefix);
    await admin.quit();
  });

  it('data plane: N calls over both instances pass, the next gets 429 with Retry-After on either', async () => {
    const onA = await connect('modern', `${a.url}/adapters/up/mcp`);
    const onB = await connect('modern', `${b.url}/adapters/up/mcp`);
    for (const client of [onA, onB, onA]) {
      expect(await client.call('echo', { text: 'hi' })).toMatchObject({ content: [{ text: 'hi' }] });
    }
    for (const gateway of [b, a]) {
      const limited = await rawCall(gateway, '/adapters/up/mcp', 'echo');
      expect(limited.status).toBe(429);
      const retryAfter = limited.headers.get('retry-after')!;
      expect(retryAfter).toMatch(/^\d+$/);
      expect(Number(retryAfter)).toBeGreaterThan(500);
      expect(Number(retryAfter)).toBeLessThanOrEqual(1000);
      expect(((await limited.json()) as { error: { message: string } }).error.message).toBe(
        `Too many calls of tool 'echo' from 'alice'; retry in ${retryAfter} s.`,
      );
    }
    // The SDK client sees the refusal too; another tool and another caller are not limited.
    await expect(onB.call('echo', { text: 'hi' })).rejects.toThrow();
    expect((await rawCall(b, '/adapters/up/mcp', 'whoami')).status).toBe(200);
    expect((await rawCall(a, '/adapters/up/mcp', 'echo', 'bob')).status).toBe(200);

    const metrics = await metricsOf(a);
    expect(metrics).toContain('mcp_gateway_rate_limit_backend{backend="redis"} 1');
    expect(metrics).toContain('mcp_gateway_rate_limited_total{scope="tool"}');
    // The buckets are in Redis under the prefix, named without the caller's id or the tool's name.
    const admin = testRedisClient();
    const keys = await keysUnder(admin, prefix);
    await admin.quit();
    expect(keys.length).toBeGreaterThanOrEqual(3);
    expect(keys.join(' ')).not.toMatch(/alice|bob|echo/);
  });

  it('tool router: N calls over both instances (SDK 1.x and 2.x) pass, the next gets 429', async () => {
    const legacyOnA = await connect('legacy', `${a.url}/mcp`, 'carol');
    const modernOnB = await connect('modern', `${b.url}/mcp`, 'carol');
    for (const client of [legacyOnA, modernOnB, legacyOnA]) {
      expect(await client.call('fed__echo', { text: 'hi' })).toMatchObject({ content: [{ text: 'hi' }] });
    }
    const limited = await rawCall(b, '/mcp', 'fed__echo', 'carol');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(500);
    await expect(legacyOnA.call('fed__echo', { text: 'hi' })).rejects.toThrow(/429|Too many calls/);
    // The data plane's bucket for the same caller is another: (caller, adapter, tool).
    expect((await rawCall(a, '/adapters/fed/mcp', 'echo', 'carol')).status).toBe(200);
  });
});

describe('a Redis URL pointing at a closed port', () => {
  it('still starts, warns once, limits per instance and answers at once', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));

    const gateway = await start({ MCP_GATEWAY_REDIS_URL: `redis://127.0.0.1:${port}` });
    const warning = await logLine(gateway, (l) => l.level === 40 && String(l.msg).startsWith('rate limits:'));
    expect(warning.msg).toBe('rate limits: Redis unreachable; limits hold per instance until it is back');
    for (let i = 0; i < BURST; i++) {
      expect((await rawCall(gateway, '/adapters/up/mcp', 'echo', 'dave')).status).toBe(200);
    }
    const limited = await rawCall(gateway, '/adapters/up/mcp', 'echo', 'dave');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(500);
    expect(await metricsOf(gateway)).toContain('mcp_gateway_rate_limit_backend{backend="local"} 1');
    // One warning for the outage, however many reconnects failed meanwhile.
    expect(gateway.logs.filter((l) => l.msg === warning.msg)).toHaveLength(1);
  }, 120_000);
});
