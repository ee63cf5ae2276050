import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiClient } from './api-client.js';
import type { ApiClient } from './api-client.js';
import {
  ConfigApplyError,
  MANAGED_SETTING_KEY,
  applyConfig,
  applyConfigFile,
  settingsManagedRecord,
  uidOfEtag,
} from './config-file-apply.js';
import type { ConfigChange } from './config-file-apply.js';
import { GatewayFileError, parseGatewayFile } from './gateway-file.js';
import { createRuntimeInspector } from '../deploy/index.js';
import { createSilentLogger } from '../observability/index.js';
import { openRegistryStore } from '../registry/index.js';
import type { RegistryStore } from '../registry/index.js';
import {
  CONFIG_FILE_PRINCIPAL,
  createConfigFileControl,
  dryRunStore,
} from '../runtime/config-file-control.js';
import type { InProcessFetch } from '../runtime/config-file-control.js';
import { TestDatabases } from '../../test/postgres-databases.js';
import { createTestApp, json } from '../../test/test-app.js';

const clientOf = (handler: InProcessFetch): ApiClient =>
  createApiClient({
    url: 'http://127.0.0.1',
    fetch: ((input: RequestInfo | URL, init?: RequestInit) =>
      handler(new Request(input, init))) as typeof fetch,
  });

/** One gateway's start-up apply against `store`, as `main.ts` runs it. */
function starter(store: RegistryStore, tokenExchange?: { issuerTokenEndpoint: boolean }) {
  const control = createConfigFileControl({
    store,
    inspector: createRuntimeInspector({ probeTimeoutMs: 1000 }),
    logger: createSilentLogger(),
    bodyLimitBytes: 1024 * 1024,
    ...(tokenExchange && { tokenExchange }),
  });
  return (text: string) =>
    applyConfigFile({
      text,
      fileName: 'gateway.yaml',
      client: clientOf(control.fetch),
      dryRunClient: clientOf(control.dryRun),
      managed: settingsManagedRecord(store),
      principal: CONFIG_FILE_PRINCIPAL.userId,
    });
}

const FIRST = `adapters:
  - name: weather
    endpoints: [http://127.0.0.1:8000/mcp]
    description: Forecasts
  - name: news
    endpoints: [http://127.0.0.1:8001/mcp]
tools:
  - name: score
    endpoints: [http://127.0.0.1:8100/score]
    toolDefinition:
      tool: { name: score, inputSchema: { type: object } }
`;

// weather changed, news and score no longer listed, maps added.
const SECOND = `adapters:
  - name: weather
    endpoints: [http://127.0.0.1:8000/mcp]
    description: Forecasts, hourly
  - name: maps
    endpoints: [http://127.0.0.1:8002/mcp]
`;

const summary = (changes: readonly ConfigChange[]) => changes.map((c) => `${c.action} ${c.kind}/${c.name}`);

describe('applyConfigFile (MCP_GATEWAY_CONFIG at start)', () => {
  let store: RegistryStore;
  let api: Awaited<ReturnType<typeof createTestApp>>['app'];
  let apply: (text: string) => Promise<ConfigChange[]>;
  const names = async (kind: 'adapter' | 'tool') =>
    (await store.list(kind, { limit: 100 })).map((r) => r.name);

  beforeEach(async () => {
    store = await openRegistryStore(':memory:');
    api = (await createTestApp({ store })).app;
    apply = starter(store);
  });
  afterEach(() => store.close());

  it('seeds an empty registry with what the file lists, created by the system principal', async () => {
    expect(summary(await apply(FIRST))).toEqual([
      'created adapters/weather',
      'created adapters/news',
      'created tools/score',
    ]);
    const weather = await store.get('adapter', 'weather');
    expect(weather).toMatchObject({ createdBy: 'system:config-file', spec: { description: 'Forecasts' } });
    const record = JSON.parse((await store.getSetting(MANAGED_SETTING_KEY))!) as Record<string, unknown>;
    expect(record).toEqual({
      adapters: { weather: weather!.uid, news: (await store.get('adapter', 'news'))!.uid },
      tools: { score: (await store.get('tool', 'score'))!.uid },
      toolsets: {},
    });
  });

  it('manages toolsets too: created after tools, compared, replaced, pruned first', async () => {
    const withToolset = `${FIRST}toolsets:
  - name: team
    tools: [score, weather__*]
    policy:
      default: allow
      rules: [{ name: no-news, tools: ['news__*'], effect: deny }]
`;
    expect(summary(await apply(withToolset))).toEqual([
      'created adapters/weather',
      'created adapters/news',
      'created tools/score',
      'created toolsets/team',
    ]);
    expect(await store.get('toolset', 'team')).toMatchObject({
      createdBy: 'system:config-file',
      spec: { tools: ['score', 'weather__*'], policy: { default: 'allow' } },
    });
    expect(summary(await apply(withToolset))).toContain('unchanged toolsets/team');
    expect(summary(await apply(withToolset.replace('default: allow', 'default: deny')))).toContain(
      'updated toolsets/team',
    );
    expect(summary(await apply(FIRST))).toEqual([
      'unchanged adapters/weather',
      'unchanged adapters/news',
      'unchanged tools/score',
      'deleted toolsets/team',
    ]);
    expect(await store.get('toolset', 'team')).toBeUndefined();
    // A toolset policy that does not compile stops the start before anything is written.
    const broken = withToolset.replace('effect: deny }]', "effect: deny, when: 'caller.rolez' }]");
    const failure = await apply(broken).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ConfigApplyError);
    expect((failure as Error).message).toMatch(
      /toolsets\/team: the gateway refused it: policy: rules\[0\]\.when/,
    );
    expect(await store.get('toolset', 'team')).toBeUndefined();
  });

  it('changes nothing when started again with the same file', async () => {
    await apply(FIRST);
    const before = await store.get('adapter', 'weather');
    expect(summary(await apply(FIRST))).toEqual([
      'unchanged adapters/weather',
      'unchanged adapters/news',
      'unchanged tools/score',
    ]);
    expect((await store.get('adapter', 'weather'))!.version).toBe(before!.version);
  });

  it('updates what the edited file changes and removes what it no longer lists, never an API-created resource', async () => {
    await apply(FIRST);
    const created = await api.request(
      '/adapters',
      json('POST', { name: 'mine', endpoints: ['http://127.0.0.1:8009/mcp'] }),
    );
    expect(created.status).toBe(201);
    expect(summary(await apply(SECOND))).toEqual([
      'updated adapters/weather',
      'created adapters/maps',
      'deleted tools/score',
      'deleted adapters/news',
    ]);
    expect(await names('adapter')).toEqual(['maps', 'mine', 'weather']);
    expect(await names('tool')).toEqual([]);
    expect((await store.get('adapter', 'weather'))!.spec.description).toBe('Forecasts, hourly');
    // An empty file removes what the file made, and only that.
    await apply('adapters: []\n');
    expect(await names('adapter')).toEqual(['mine']);
  });

  it('resets a file-managed resource that was changed through the API', async () => {
    await apply(FIRST);
    const put = await api.request(
      '/adapters/weather',
      json('PUT', { name: 'weather', endpoints: ['http://127.0.0.1:8000/mcp'], description: 'edited' }),
    );
    expect(put.status).toBe(200);
    expect(summary(await apply(FIRST))).toContain('updated adapters/weather');
    expect((await store.get('adapter', 'weather'))!.spec.description).toBe('Forecasts');
  });

  it('leaves a name alone once a user deleted the file’s resource and created their own under it', async () => {
    await apply(FIRST);
    expect((await api.request('/adapters/news', { method: 'DELETE' })).status).toBe(204);
    const own = await api.request(
      '/adapters',
      json('POST', { name: 'news', endpoints: ['http://127.0.0.1:8005/mcp'] }),
    );
    expect(own.status).toBe(201);
    await apply(SECOND);
    expect(await store.get('adapter', 'news')).toMatchObject({ createdBy: 'dev' });
  });

  it('makes a user’s resource the file lists match the file, and keeps it when the file drops it', async () => {
    await api.request('/adapters', json('POST', { name: 'weather', endpoints: ['http://127.0.0.1:1/mcp'] }));
    await apply(FIRST);
    expect(await store.get('adapter', 'weather')).toMatchObject({
      createdBy: 'dev',
      spec: { endpoints: ['http://127.0.0.1:8000/mcp'] },
    });
    await apply('adapters: []\n');
    expect(await names('adapter')).toEqual(['weather']);
  });

  it('refuses a file that does not check, with its line, and writes nothing', async () => {
    const bad = FIRST.replace('description: Forecasts', 'replicaCount: two');
    const failure = await apply(bad).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(GatewayFileError);
    expect((failure as GatewayFileError).problems).toEqual([
      'gateway.yaml:4:19: adapters[0].replicaCount: must be an integer, not string "two"',
    ]);
    expect(await names('adapter')).toEqual([]);
  });

  it('refuses an entry the gateway refuses (a missing secret) before anything is written', async () => {
    const missing = `${FIRST}  - name: github
    imageName: team/github
    imageVersion: '1.0'
    secretEnvironmentVariables: { TOKEN: github-token }
    toolDefinition:
      tool: { name: github, inputSchema: { type: object } }
`;
    const failure = await apply(missing).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ConfigApplyError);
    expect((failure as Error).message).toMatch(
      /^gateway\.yaml:12: tools\/github: the gateway refused it: .*github-token/,
    );
    expect(await names('adapter')).toEqual([]);
    expect(await store.getSetting(MANAGED_SETTING_KEY)).toBe(
      JSON.stringify({ adapters: {}, tools: {}, toolsets: {} }),
    );
  });

  it('takes token-exchange adapters as the public app does: in token auth modes only', async () => {
    const created = await api.request(
      '/secrets',
      json('POST', { name: 'idp-client', value: 'client-secret-1' }),
    );
    expect(created.status).toBe(201);
    const file = `adapters:
  - name: notes
    endpoints: ['https://notes.example.com/mcp']
    upstreamAuth: { type: token-exchange, clientId: gateway, clientSecret: idp-client }
`;
    const refused = await apply(file).catch((err: unknown) => err);
    expect((refused as Error).message).toContain('upstreamAuth.type');
    expect(summary(await starter(store, { issuerTokenEndpoint: true })(file))).toEqual([
      'created adapters/notes',
    ]);
  });

  it('records what it created even when the start fails later, so the next start can prune it', async () => {
    const control = createConfigFileControl({
      store,
      inspector: createRuntimeInspector({ probeTimeoutMs: 1000 }),
      logger: createSilentLogger(),
      bodyLimitBytes: 1024 * 1024,
    });
    const client = clientOf(control.fetch);
    let creates = 0;
    // The registry goes away after the first create (past the dry run, which found nothing to refuse).
    const failing: ApiClient = {
      ...client,
      create: async (kind, body) => {
        if (++creates > 1) throw new Error('connection lost');
        return client.create(kind, body);
      },
    };
    const run = applyConfig({
      client: failing,
      file: parseGatewayFile(FIRST, 'gateway.yaml'),
      fileName: 'gateway.yaml',
      managed: settingsManagedRecord(store),
      principal: CONFIG_FILE_PRINCIPAL.userId,
    });
    await expect(run).rejects.toThrow('connection lost');
    expect(await names('adapter')).toEqual(['weather']);
    expect(summary(await apply('adapters: []\n'))).toEqual(['deleted adapters/weather']);
    expect(await names('adapter')).toEqual([]);
  });

  it('reads uids out of the gateway’s ETags', () => {
    expect(uidOfEtag('"3.0f1e-aa"')).toBe('0f1e-aa');
    expect(uidOfEtag(undefined)).toBeUndefined();
    expect(uidOfEtag('W/"x"')).toBeUndefined();
  });

  it('dry-run store: checks writes as the real one would and stores nothing', async () => {
    const dry = dryRunStore(store);
    const row = await dry.create('adapter', 'x', { endpoints: ['http://127.0.0.1:1/'] }, 'dev');
    expect(row).toMatchObject({ name: 'x', version: 1, createdBy: 'dev' });
    expect(await store.get('adapter', 'x')).toBeUndefined();
    await store.create('adapter', 'x', {}, 'dev');
    await expect(dry.create('adapter', 'x', {}, 'dev')).rejects.toThrow(/already exists/);
    await expect(dry.update('adapter', 'x', {}, { expectedVersion: 2 })).rejects.toThrow(/version 1/);
    await dry.delete('adapter', 'x');
    expect(await store.get('adapter', 'x')).toBeDefined();
  });
});

const postgresUrl = process.env.TEST_DATABASE_URL;

describe.skipIf(!postgresUrl)('applyConfigFile: replicas starting at once on Postgres', () => {
  const databases = new TestDatabases(postgresUrl ?? '');
  afterAll(() => databases.dropAll());

  it('converges without errors when two gateways apply the same file in parallel', async () => {
    const url = await databases.create();
    const stores = [await openRegistryStore(url), await openRegistryStore(url)];
    try {
      const [one, two] = stores.map((s) => starter(s)) as [
        ReturnType<typeof starter>,
        ReturnType<typeof starter>,
      ];
      // Twice each: the first round races on creates, the second on the prune and updates of an edited file.
      await Promise.all([one(FIRST), two(FIRST)]);
      const [a, b] = await Promise.all([one(SECOND), two(SECOND)]);
      expect([...summary(a!), ...summary(b!)].filter((c) => c.startsWith('deleted')).sort()).toEqual([
        'deleted adapters/news',
        'deleted tools/score',
      ]);
      const store = stores[0]!;
      expect((await store.list('adapter', { limit: 10 })).map((r) => r.name)).toEqual(['maps', 'weather']);
      expect(await store.count('tool')).toBe(0);
      const record = JSON.parse((await store.getSetting(MANAGED_SETTING_KEY))!) as {
        adapters: Record<string, string>;
        tools: Record<string, string>;
      };
      expect(record).toEqual({
        adapters: {
          maps: (await store.get('adapter', 'maps'))!.uid,
          weather: (await store.get('adapter', 'weather'))!.uid,
        },
        tools: {},
        toolsets: {},
      });
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
