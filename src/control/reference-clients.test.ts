/**
 * @module Tests of what clients of the reference gateway (microsoft/mcp-gateway, ASP.NET) send, replayed
 * through the real app: keys in any casing (ASP.NET binds case-insensitively; a C# client serialising the
 * reference's `AdapterData` with default options writes `Name`, `ImageName`, …), `null` for optional fields,
 * Kubernetes-style environment variable names, and tool annotations outside the MCP set (the reference's README
 * writes `{"annotations": {"readOnly": true}}`).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../http/index.js';
import type { RegistryStore } from '../registry/index.js';
import { createTestApp, json } from '../../test/test-app.js';

let app: OpenAPIHono<AppEnv>;
let store: RegistryStore;

beforeEach(async () => {
  ({ app, store } = await createTestApp());
});
afterEach(() => store.close());

type Body = Record<string, unknown>;

async function send(method: string, path: string, body: unknown) {
  const res = await app.request(path, json(method, body));
  return { status: res.status, body: (await res.json()) as Body };
}

const messageOf = (body: Body) => (body.error as { message: string }).message;

/** What `JsonSerializer.Serialize(new AdapterData { … })` writes without web options: PascalCase, nulls kept. */
const CSHARP_ADAPTER = {
  Name: 'mcp-example',
  ImageName: 'mcp-example',
  ImageVersion: '1.0.0',
  EnvironmentVariables: null,
  ReplicaCount: 1,
  Description: null,
  UseWorkloadIdentity: false,
  RequiredRoles: null,
};

/**
 * The same for `ToolData`: its own properties PascalCase, `ToolDefinition`'s `[JsonPropertyName]`s lower-case,
 * and the MCP SDK's `Tool` camelCase with its null optional members.
 */
const CSHARP_TOOL = {
  Name: 'weather',
  ImageName: 'weather-tool',
  ImageVersion: '1.0.0',
  EnvironmentVariables: { 'weather.api-key': 'k' },
  ReplicaCount: 1,
  Description: 'Weather tool for getting current weather information',
  UseWorkloadIdentity: false,
  RequiredRoles: [],
  ToolDefinition: {
    tool: {
      name: 'weather',
      title: null,
      description: 'Gets the current weather for a specified location.',
      inputSchema: { type: 'object', properties: { location: { type: 'string' } } },
      outputSchema: null,
      annotations: null,
      _meta: null,
    },
    port: 8000,
    path: '/score',
  },
};

describe('keys in any casing, as ASP.NET binds them', () => {
  it('creates an adapter from a C# client body (PascalCase, nulls) and answers in camelCase with defaults', async () => {
    const { status, body } = await send('POST', '/adapters', CSHARP_ADAPTER);
    expect(status).toBe(201);
    expect(body).toMatchObject({
      name: 'mcp-example',
      imageName: 'mcp-example',
      imageVersion: '1.0.0',
      environmentVariables: {},
      replicaCount: 1,
      description: '',
      useWorkloadIdentity: false,
      requiredRoles: [],
    });
    expect(Object.keys(body).filter((key) => /^[A-Z]/.test(key))).toEqual([]);
  });

  it('binds any casing of a field, at the top level and inside toolDefinition, its tool and annotations', async () => {
    const { status, body } = await send('POST', '/tools', {
      NAME: 'score',
      imagename: 'team/tool',
      iMaGeVeRsIoN: '2.0.0',
      ToolDefinition: {
        Tool: {
          Name: 'score',
          InputSchema: { type: 'object' },
          Annotations: { ReadOnlyHint: true, openworldhint: false },
        },
        Port: 9000,
        PATH: '/run',
      },
    });
    expect(status).toBe(201);
    expect(body).toMatchObject({ name: 'score', imageName: 'team/tool', imageVersion: '2.0.0' });
    expect(body.toolDefinition).toEqual({
      tool: {
        name: 'score',
        inputSchema: { type: 'object' },
        annotations: { readOnlyHint: true, openWorldHint: false },
      },
      port: 9000,
      path: '/run',
    });
  });

  it('replaces a tool sent by a C# client, and round-trips what it reads back', async () => {
    expect((await send('POST', '/tools', CSHARP_TOOL)).status).toBe(201);
    const put = await send('PUT', '/tools/weather', { ...CSHARP_TOOL, Description: 'v2' });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      description: 'v2',
      environmentVariables: { 'weather.api-key': 'k' },
      toolDefinition: {
        tool: {
          name: 'weather',
          description: 'Gets the current weather for a specified location.',
          inputSchema: { type: 'object', properties: { location: { type: 'string' } } },
        },
        port: 8000,
        path: '/score',
      },
    });
    // The null optional members of the SDK's Tool are absent, not stored as null.
    expect(Object.keys(put.body.toolDefinition as { tool: Body }).length).toBe(3);
    expect(Object.keys((put.body.toolDefinition as { tool: Body }).tool)).toEqual([
      'name',
      'description',
      'inputSchema',
    ]);
    // A client may send back what it read: the read-only fields and camelCase keys are accepted too.
    expect((await send('PUT', '/tools/weather', put.body)).status).toBe(200);
  });

  it('answers 400 naming the field when one object gives a field in two casings', async () => {
    const twice = await send('POST', '/adapters', { ...CSHARP_ADAPTER, name: 'other' });
    expect(twice.status).toBe(400);
    expect(messageOf(twice.body)).toBe(
      'name: is given twice, as "Name" and as "name" (keys are matched without regard to case)',
    );
    const nested = await send('POST', '/tools', {
      ...CSHARP_TOOL,
      ToolDefinition: { ...CSHARP_TOOL.ToolDefinition, Port: 8001 },
    });
    expect(nested.status).toBe(400);
    expect(messageOf(nested.body)).toMatch(/^toolDefinition\.port: is given twice, as "port" and as "Port"/);
    expect(await store.count('adapter')).toBe(0);
    expect(await store.count('tool')).toBe(0);
  });

  it('leaves the keys of free-form maps as sent: environment variables, inputSchema and _meta are data', async () => {
    const { status, body } = await send('POST', '/tools', {
      ...CSHARP_TOOL,
      EnvironmentVariables: { Name: 'upper', name: 'lower' },
      ToolDefinition: {
        tool: {
          name: 'weather',
          inputSchema: { type: 'object', Properties: { Location: { Type: 'string' } } },
          _meta: { 'com.example/Owner': 'team', owner: 'x' },
        },
      },
    });
    expect(status).toBe(201);
    expect(body.environmentVariables).toEqual({ Name: 'upper', name: 'lower' });
    expect(body.toolDefinition).toMatchObject({
      tool: {
        inputSchema: { type: 'object', Properties: { Location: { Type: 'string' } } },
        _meta: { 'com.example/Owner': 'team', owner: 'x' },
      },
    });
  });

  it('does not fold non-ASCII look-alikes: a Kelvin sign is not a "k"', async () => {
    const { status, body } = await send('POST', '/adapters', {
      name: 'kelvin',
      imageName: 'team/server',
      imageVersion: '1',
      // "\u212A" (KELVIN SIGN) lower-cases to "k" in JavaScript, but .NET's ordinal comparison keeps them apart.
      useWorKloadIdentity: true,
    });
    expect(status).toBe(400);
    expect(messageOf(body)).toContain('is not a known field');
  });

  it('keeps refusing unknown fields by name, whatever their casing', async () => {
    const { status, body } = await send('POST', '/adapters', { ...CSHARP_ADAPTER, Replicas: 2 });
    expect(status).toBe(400);
    expect(messageOf(body)).toBe('Replicas: is not a known field');
  });
});

describe('null for an optional field is absent', () => {
  it('takes the defaults for every optional field sent as null', async () => {
    const { status, body } = await send('POST', '/adapters', {
      name: 'nulls',
      imageName: 'team/server',
      imageVersion: '1.0.0',
      environmentVariables: null,
      replicaCount: null,
      description: null,
      useWorkloadIdentity: null,
      requiredRoles: null,
      port: null,
      path: null,
      id: null,
      createdBy: null,
    });
    expect(status).toBe(201);
    expect(body).toMatchObject({
      environmentVariables: {},
      replicaCount: 1,
      description: '',
      useWorkloadIdentity: false,
      requiredRoles: [],
      port: 8000,
      path: '/mcp',
    });
  });

  it('still answers 400 for null where a value is required', async () => {
    const { status, body } = await send('POST', '/tools', { ...CSHARP_TOOL, ToolDefinition: null });
    expect(status).toBe(400);
    expect(messageOf(body)).toMatch(/^toolDefinition: /);
    const schema = await send('POST', '/tools', {
      ...CSHARP_TOOL,
      ToolDefinition: { tool: { name: 'weather', inputSchema: null } },
    });
    expect(schema.status).toBe(400);
    expect(messageOf(schema.body)).toMatch(/^toolDefinition\.tool\.inputSchema: /);
  });
});

describe('environment variable names Kubernetes accepts', () => {
  it('accepts any printable ASCII name without "=" and returns it unchanged', async () => {
    const environmentVariables = {
      'my.env-name': '1',
      'MY_ENV.NAME': '2',
      '1STARTS_WITH_DIGIT': '3',
      'with space': '4',
      'sym!@#$%^&*()[]{}<>?/|\\~`\'"': '5',
    };
    const body = JSON.stringify({
      name: 'relaxed',
      imageName: 'team/server',
      imageVersion: '1',
      environmentVariables,
    });
    const res = await app.request('/adapters', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { environmentVariables: Record<string, string> };
    expect(Object.entries(created.environmentVariables)).toEqual(Object.entries(environmentVariables));
  });

  it('refuses a name with a control character, over 256 characters, or "__proto__", naming it', async () => {
    for (const name of ['TAB\tNAME', 'LINE\nBREAK', 'DEL\u007f', 'A'.repeat(257), '__proto__']) {
      const { status, body } = await send('POST', '/adapters', {
        name: 'bad-env',
        imageName: 'team/server',
        imageVersion: '1',
        environmentVariables: { [name]: 'v' },
      });
      expect(status).toBe(400);
      const message = messageOf(body);
      expect(message.startsWith(`environmentVariables.${name}: is not `)).toBe(true);
      expect(message).toMatch(/is not (a valid|supported as a) variable name/);
    }
  });
});

describe('tool annotations and _meta outside the MCP set', () => {
  it("accepts the reference README's tool, keeps annotations.readOnly and type, and returns them as sent", async () => {
    // From the reference's README ("Register a Tool"), with useWorkloadIdentity left out (it needs mcp.admin).
    const readme = {
      name: 'weather',
      imageName: 'weather-tool',
      imageVersion: '1.0.0',
      description: 'Weather tool for getting current weather information',
      requiredRoles: [],
      toolDefinition: {
        tool: {
          name: 'weather',
          title: 'Weather Information',
          description: 'Gets the current weather for a specified location.',
          type: 'http',
          inputSchema: {
            type: 'object',
            properties: {
              location: { type: 'string', description: 'The city and state, e.g. San Francisco, CA' },
            },
            required: ['location'],
          },
          annotations: { readOnly: true },
          _meta: { 'com.example/team': 'weather', nested: { Any: ['shape'] } },
        },
        port: 8000,
      },
    };
    const created = await send('POST', '/tools', readme);
    expect(created.status).toBe(201);
    expect((created.body.toolDefinition as { tool: unknown }).tool).toEqual(readme.toolDefinition.tool);
    const read = await app.request('/tools/weather');
    expect(((await read.json()) as { toolDefinition: { tool: unknown } }).toolDefinition.tool).toEqual(
      readme.toolDefinition.tool,
    );
  });

  it('still checks the annotations the MCP specification defines', async () => {
    const { status, body } = await send('POST', '/tools', {
      ...CSHARP_TOOL,
      ToolDefinition: {
        tool: { name: 'weather', inputSchema: { type: 'object' }, annotations: { readOnlyHint: 'yes' } },
      },
    });
    expect(status).toBe(400);
    expect(messageOf(body)).toMatch(/^toolDefinition\.tool\.annotations\.readOnlyHint: /);
  });
});
