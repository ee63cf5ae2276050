/**
 * @module The host-safety suite (issue #12): every attack of that review replayed against a real gateway
 * process (`src/main.ts`, as `npm start` runs it) in each auth mode, so none can come back. The unit and e2e tests
 * beside each guard go deeper; this file proves the assembled gateway holds. README "Security model" lists each
 * attack next to the test here that replays it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGatewayToExit, startGatewayProcess } from '../../test/gateway-process.js';
import type { GatewayProcess } from '../../test/gateway-process.js';
import { legacyInitialize } from '../../test/legacy-requests.js';
import { startLegacyMcpServer } from '../../test/mcp-servers.js';
import type { RunningMcpServer } from '../../test/mcp-servers.js';
import { until } from '../../test/polling.js';
import { SANDBOX_WORKS, STDIO_SERVER } from '../../test/process-fixtures.js';
import {
  MARKER_VARIABLE,
  canScanProcesses,
  killMarked,
  markedProcesses,
  newMarker,
  processesRunning,
  uniqueSleep,
} from '../../test/process-tree.js';
import { startTokenIssuer } from '../../test/token-issuer.js';
import type { TokenIssuer } from '../../test/token-issuer.js';

const dir = mkdtempSync(join(tmpdir(), 'mcp-gateway-security-'));
/** A value only the gateway's own environment holds: no child may ever print it. */
const CANARY = `canary-${randomBytes(12).toString('hex')}`;
const METRICS_TOKEN = randomBytes(24).toString('base64url');
const AUDIENCE = 'https://gateway.test';
const markers: string[] = [];

let issuer: TokenIssuer;
let upstream: RunningMcpServer;

beforeAll(async () => {
  issuer = await startTokenIssuer({ audience: AUDIENCE });
  upstream = await startLegacyMcpServer({ name: 'upstream' });
});
afterAll(async () => {
  for (const marker of markers) killMarked(marker);
  await upstream?.close();
  await issuer?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Who a request claims to be; each mode says how that is sent. */
type Caller = { readonly userId: string; readonly roles: readonly string[] };
const ADMIN: Caller = { userId: 'root', roles: ['mcp.admin'] };
/** Authenticated, holding a role, but not one that may run programs. */
const ROLELESS: Caller = { userId: 'eve', roles: ['mcp.viewer'] };

interface Mode {
  readonly auth: 'dev' | 'dev-insecure' | 'jwt';
  readonly env: () => Record<string, string>;
  readonly credentials: (caller: Caller) => Promise<Record<string, string>>;
}

const devCredentials = async (caller: Caller) => ({
  'x-dev-userid': caller.userId,
  'x-dev-roles': caller.roles.join(','),
});

const MODES: readonly Mode[] = [
  { auth: 'dev', env: () => ({}), credentials: devCredentials },
  { auth: 'dev-insecure', env: () => ({ MCP_GATEWAY_AUTH: 'dev-insecure' }), credentials: devCredentials },
  {
    auth: 'jwt',
    env: () => ({
      MCP_GATEWAY_AUTH: 'jwt',
      MCP_GATEWAY_JWKS_URL: issuer.jwksUri,
      MCP_GATEWAY_JWT_ISSUER: issuer.issuer,
      MCP_GATEWAY_AUDIENCE: AUDIENCE,
      MCP_GATEWAY_METRICS_TOKEN: METRICS_TOKEN,
    }),
    credentials: async (caller) => ({
      authorization: `Bearer ${await issuer.mint({ sub: caller.userId, roles: [...caller.roles] })}`,
    }),
  },
];

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

/** One request through `node:http`, which (unlike `fetch`) sends whatever `Host` a rebinding page would. */
function send(
  gateway: GatewayProcess,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: unknown } = {},
): Promise<Answer> {
  const url = new URL(gateway.url);
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: url.port,
        method,
        path,
        headers: {
          host: url.host,
          ...(body !== undefined && { 'content-type': 'application/json' }),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const MCP_HEADERS = { accept: 'application/json, text/event-stream' };
const initialize = legacyInitialize({ clientName: 'attacker' });

describe.each(MODES)('in $auth mode', (mode) => {
  const data = join(dir, mode.auth);
  const database = join(data, 'mcp-gateway.db');
  let gateway: GatewayProcess;
  let admin: Record<string, string>;
  let roleless: Record<string, string>;

  beforeAll(async () => {
    gateway = await startGatewayProcess({ DATABASE_URL: database, CANARY_SECRET: CANARY, ...mode.env() });
    admin = await mode.credentials(ADMIN);
    roleless = await mode.credentials(ROLELESS);
  });
  afterAll(async () => {
    if (gateway && gateway.child.exitCode === null && gateway.child.signalCode === null) await gateway.stop();
  });

  const exists = async (name: string) =>
    (await send(gateway, 'GET', `/adapters/${name}`, { headers: admin })).status === 200;

  it('a caller without a command role cannot run a program on the host (403, nothing stored)', async () => {
    const pwned = join(dir, `pwned-${mode.auth}`);
    const refused = await send(gateway, 'POST', '/adapters', {
      headers: roleless,
      body: { name: 'x', command: 'sh', args: ['-c', `id > ${pwned}`] },
    });
    expect(refused.status).toBe(403);
    expect(refused.headers['www-authenticate']).toMatch(/error="insufficient_scope"/);
    expect(refused.text).toContain('MCP_GATEWAY_COMMAND_ROLES');
    expect(await exists('x')).toBe(false);

    // Nor by turning a resource the caller may write into one that runs a program.
    const own = { name: 'own', endpoints: [upstream.url] };
    expect((await send(gateway, 'POST', '/adapters', { headers: roleless, body: own })).status).toBe(201);
    const replaced = await send(gateway, 'PUT', '/adapters/own', {
      headers: roleless,
      body: { name: 'own', command: 'sh', args: ['-c', `id > ${pwned}`] },
    });
    expect(replaced.status).toBe(403);
    const stored = JSON.parse((await send(gateway, 'GET', '/adapters/own', { headers: admin })).text) as {
      endpoints?: string[];
      command?: string;
    };
    expect(stored).toMatchObject({ endpoints: [upstream.url] });
    expect(stored.command).toBeUndefined();
    expect(existsSync(pwned)).toBe(false);
  });

  it('a rebinding page cannot reach any route (foreign Host: 403, nothing created)', async () => {
    const evil = { host: `evil.example:${new URL(gateway.url).port}`, origin: 'http://evil.example' };
    const attempts: [string, string, unknown?][] = [
      ['POST', '/adapters', { name: 'rebound', command: 'sh', args: ['-c', 'true'] }],
      ['GET', '/adapters'],
      ['GET', '/healthz'],
      ['GET', '/metrics'],
      ['GET', '/openapi.json'],
      ['GET', '/.well-known/oauth-protected-resource'],
      ['POST', '/adapters/own/mcp', initialize],
      ['POST', '/mcp', initialize],
      ['GET', '/no/such/route'],
    ];
    for (const [method, path, body] of attempts) {
      const answer = await send(gateway, method, path, {
        headers: { ...admin, ...MCP_HEADERS, ...evil },
        body,
      });
      expect({ method, path, status: answer.status }).toEqual({ method, path, status: 403 });
      expect(answer.text).toContain("Host 'evil.example' is not allowed");
    }
    expect(await exists('rebound')).toBe(false);
  });

  it('a foreign web page cannot write even under a loopback Host (foreign Origin: 403), and may still read', async () => {
    const foreign = { origin: 'https://evil.example' };
    const write = await send(gateway, 'POST', '/adapters', {
      headers: { ...admin, ...foreign },
      body: { name: 'drive-by', endpoints: [upstream.url] },
    });
    expect(write.status).toBe(403);
    expect(JSON.parse(write.text)).toMatchObject({ error: { code: 'origin_not_allowed' } });
    expect(
      (await send(gateway, 'DELETE', '/adapters/own', { headers: { ...admin, ...foreign } })).status,
    ).toBe(403);
    expect(await exists('drive-by')).toBe(false);
    expect(await exists('own')).toBe(true);
    expect((await send(gateway, 'GET', '/adapters/own', { headers: { ...admin, ...foreign } })).status).toBe(
      200,
    );
  });

  it('input that can never run is refused at registration, naming the field', async () => {
    for (const [field, body] of [
      ['args', { name: 'nul', command: 'node', args: ['a\u0000b'] }],
      ['command', { name: 'spaces', command: 'npx -y @modelcontextprotocol/server-everything' }],
      ['environmentVariables', { name: 'nulenv', command: 'node', environmentVariables: { A: 'x\u0000y' } }],
    ] as const) {
      const answer = await send(gateway, 'POST', '/adapters', { headers: admin, body });
      expect(answer.status).toBe(400);
      expect(answer.text).toContain(field);
    }
  });

  it('endpoints on metadata addresses are refused in every IPv6 form that embeds them', async () => {
    for (const address of ['[::a9fe:a9fe]', '[::ffff:0:a9fe:a9fe]', '[64:ff9b::a9fe:a9fe]', '[fec0::1]']) {
      const answer = await send(gateway, 'POST', '/adapters', {
        headers: admin,
        body: { name: 'metadata', endpoints: [`http://${address}/mcp`] },
      });
      expect({ address, status: answer.status }).toEqual({ address, status: 400 });
    }
    expect(await exists('metadata')).toBe(false);
  });

  it('a session of a deleted adapter never reaches the adapter re-created under its name', async () => {
    const adapter = { name: 'reborn', endpoints: [upstream.url] };
    const created = await send(gateway, 'POST', '/adapters', { headers: admin, body: adapter });
    expect(created.status).toBe(201);
    const opened = await send(gateway, 'POST', '/adapters/reborn/mcp', {
      headers: { ...admin, ...MCP_HEADERS },
      body: initialize,
    });
    expect(opened.status).toBe(200);
    const sessionId = opened.headers['mcp-session-id'] as string;
    expect(sessionId).toMatch(/^[\x21-\x7e]+$/);
    const ping = () =>
      send(gateway, 'POST', '/adapters/reborn/mcp', {
        headers: {
          ...admin,
          ...MCP_HEADERS,
          'mcp-session-id': sessionId,
          'mcp-protocol-version': '2025-11-25',
        },
        body: { jsonrpc: '2.0', id: 2, method: 'ping' },
      });
    expect((await ping()).status).toBe(200);

    expect((await send(gateway, 'DELETE', '/adapters/reborn', { headers: admin })).status).toBe(204);
    const again = await send(gateway, 'POST', '/adapters', { headers: admin, body: adapter });
    expect(again.status).toBe(201);
    // The same name, the same upstream, the same caller: still a new adapter, so the old session is gone.
    expect(again.headers.etag).not.toBe(created.headers.etag);
    expect((await ping()).status).toBe(404);
  });

  it('the registry, its journal and the gateway secret are private files', async () => {
    expect(statSync(data).mode & 0o777).toBe(0o700);
    for (const file of readdirSync(data).filter((f) => f.startsWith('mcp-gateway.db') || f === 'secret')) {
      expect({ file, mode: statSync(join(data, file)).mode & 0o777 }).toEqual({ file, mode: 0o600 });
    }
    const secret = readFileSync(join(data, 'secret'), 'utf8').trim();
    expect(secret.length).toBeGreaterThanOrEqual(32);
    // Not also beside the data it protects.
    expect(readFileSync(database).includes(Buffer.from(secret))).toBe(false);
  });

  describe.runIf(canScanProcesses)('what a registered program can do', () => {
    const marker = newMarker();
    markers.push(marker);
    const daemon = uniqueSleep();

    /** Registers an adapter whose program first starts a double-forked daemon; resolves once it runs. */
    async function registerWithDaemon(name: string): Promise<void> {
      const created = await send(gateway, 'POST', '/adapters', {
        headers: admin,
        body: {
          name,
          command: 'sh',
          args: ['-c', `(setsid ${daemon} &); exec ${process.execPath} ${STDIO_SERVER}`],
          environmentVariables: { [MARKER_VARIABLE]: marker },
        },
      });
      expect(created.status).toBe(201);
      await until(
        () => processesRunning(daemon),
        (pids) => pids.length > 0,
        'the daemon to start',
        30_000,
      );
    }

    /** Resolves once the daemon and every process the adapters marked are gone. */
    async function allGone(): Promise<void> {
      await until(
        () => processesRunning(daemon),
        (pids) => pids.length === 0,
        'the daemon to be gone',
        30_000,
      );
      await until(
        () => markedProcesses(marker),
        (pids) => pids.length === 0,
        'every marked process gone',
        30_000,
      );
    }

    it.runIf(SANDBOX_WORKS)(
      "a child sees neither the gateway's environment, nor its files, nor other processes",
      async () => {
        const probe = [
          'echo "PARENT:$(tr "\\0" " " < /proc/$PPID/environ 2>&1)"',
          'echo "INIT:$(tr "\\0" " " < /proc/1/environ 2>&1)"',
          `echo "DB:$(head -c 64 ${database} 2>&1 | tr -dc "[:print:]")"`,
          `echo "SECRET:$(cat ${join(data, 'secret')} 2>&1)"`,
          'echo "PROCS:$(ls /proc | grep -E "^[0-9]+$" | tr "\\n" " ")"',
          'echo "UID:$(id -u)"',
          'echo PROBED',
          `exec ${process.execPath} ${STDIO_SERVER}`,
        ].join('; ');
        const created = await send(gateway, 'POST', '/adapters', {
          headers: admin,
          body: { name: 'nosy', command: 'sh', args: ['-c', probe] },
        });
        expect(created.status).toBe(201);
        const logs = await until(
          async () => (await send(gateway, 'GET', '/adapters/nosy/logs?tail=100', { headers: admin })).text,
          (text) => text.includes('PROBED'),
          'the probe to run',
          30_000,
        );
        const secret = readFileSync(join(data, 'secret'), 'utf8').trim();
        expect(logs).not.toContain(CANARY);
        expect(logs).not.toContain(secret);
        expect(logs).not.toContain('SQLite format');
        expect(logs).toMatch(/DB:.*No such file or directory/);
        // Its own PID namespace: bubblewrap's init and the child's own few processes, never the gateway.
        const procs = /PROCS:([\d ]*)/.exec(logs)![1]!.trim().split(' ').map(Number);
        expect(procs.every((pid) => pid < 100)).toBe(true);
        expect(procs).not.toContain(gateway.child.pid);
        if (process.getuid?.() === 0) expect(logs).toContain('UID:65534');
        expect((await send(gateway, 'DELETE', '/adapters/nosy', { headers: admin })).status).toBe(204);
      },
    );

    it('nothing a program starts outlives its adapter: a double-forked daemon is gone after DELETE', async () => {
      await registerWithDaemon('daemons');
      expect((await send(gateway, 'DELETE', '/adapters/daemons', { headers: admin })).status).toBe(204);
      await allGone();
    });

    it.runIf(SANDBOX_WORKS)('nor the gateway: a SIGKILL takes every child with it at once', async () => {
      await registerWithDaemon('orphans');
      expect(await gateway.stop('SIGKILL')).toBeNull();
      await allGone();
    });
  });
});

describe('identities upstream', () => {
  it('two user ids never look alike to an upstream (one percent-encoding, always)', async () => {
    const gateway = await startGatewayProcess({ DATABASE_URL: ':memory:', ...MODES[2]!.env() });
    try {
      const adminHeaders = await MODES[2]!.credentials(ADMIN);
      const body = { name: 'who', endpoints: [upstream.url], requiredRoles: ['team'] };
      expect((await send(gateway, 'POST', '/adapters', { headers: adminHeaders, body })).status).toBe(201);
      const seen: (string | string[] | undefined)[] = [];
      for (const userId of ['ümlaut', '%C3%BCmlaut']) {
        const headers = await MODES[2]!.credentials({ userId, roles: ['team'] });
        const answer = await send(gateway, 'POST', '/adapters/who/mcp', {
          headers: { ...headers, ...MCP_HEADERS },
          body: initialize,
        });
        expect(answer.status).toBe(200);
        seen.push(upstream.requests.at(-1)?.['x-mcp-userid']);
      }
      expect(seen).toEqual(['%C3%BCmlaut', '%25C3%25BCmlaut']);
    } finally {
      await gateway.stop();
    }
  });
});

describe('who may read /metrics', () => {
  it('with MCP_GATEWAY_METRICS_TOKEN: nobody without it, and a refusal names no adapter', async () => {
    const gateway = await startGatewayProcess({ DATABASE_URL: ':memory:', ...MODES[2]!.env() });
    try {
      const adminHeaders = await MODES[2]!.credentials(ADMIN);
      const body = { name: 'tenant-secret-name', endpoints: [upstream.url] };
      expect((await send(gateway, 'POST', '/adapters', { headers: adminHeaders, body })).status).toBe(201);
      for (const headers of [{}, adminHeaders, { authorization: `Bearer ${METRICS_TOKEN}x` }]) {
        const refused = await send(gateway, 'GET', '/metrics', { headers });
        expect(refused.status).toBe(401);
        expect(refused.text).not.toContain('tenant-secret-name');
      }
      const scraped = await send(gateway, 'GET', '/metrics', {
        headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      });
      expect(scraped.status).toBe(200);
      expect(scraped.text).toContain('mcp_gateway_');
    } finally {
      await gateway.stop();
    }
  });
});

describe('dev mode behind a public URL', () => {
  it('does not start: it would trust X-Dev-* headers from anyone the proxy lets in (exit 2)', async () => {
    const exited = await runGatewayToExit({
      DATABASE_URL: ':memory:',
      MCP_GATEWAY_PUBLIC_URL: 'https://gw.example.com',
    });
    expect(exited.code).toBe(2);
    expect(exited.stderr).toMatch(/dev-insecure/);
    expect(exited.stderr).toMatch(/oidc or jwt/);
  });
});
