/**
 * `/schemas/gateway.json`: the file `mcp-gateway apply` takes, described by the API's own field rules.
 */
import { Validator } from '@cfworker/json-schema';
import type { Schema } from '@cfworker/json-schema';
import { describe, expect, it } from 'vitest';
import { createTestApp } from '../../test/test-app.js';
import { gatewayFileSchema } from './gateway-file-schema.js';

describe('GET /schemas/gateway.json', () => {
  it('serves a JSON Schema that takes what the API takes and refuses what it refuses', async () => {
    const { app } = await createTestApp();
    const res = await app.request('/schemas/gateway.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const schema = (await res.json()) as Schema;
    expect(schema).toMatchObject({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object' });
    const validator = new Validator(schema, '2020-12', false);
    const good = {
      adapters: [{ name: 'weather', endpoints: ['http://127.0.0.1:8000/mcp'], replicaCount: 1 }],
      tools: [
        {
          name: 'score',
          endpoints: ['http://127.0.0.1:9000/score'],
          toolDefinition: { tool: { name: 'score', inputSchema: { type: 'object' } } },
        },
      ],
    };
    expect(validator.validate(good).valid).toBe(true);
    const failures = (file: unknown) =>
      validator.validate(file).errors.map((e) => `${e.instanceLocation} ${e.keyword}`);
    expect(failures({ adapters: [{ name: 'w', imageName: 'Not An Image', imageVersion: '1' }] })).toContain(
      '#/adapters/0/imageName pattern',
    );
    expect(failures({ adapters: [{ name: 'w', endpoints: ['http://a'], replicaCount: 99 }] })).toContain(
      '#/adapters/0/replicaCount maximum',
    );
    expect(failures({ tools: [{ name: 't', endpoints: ['http://a'] }] })).toContain('#/tools/0 required');
    expect(failures({ secrets: [] })).toContain('# additionalProperties');
  });

  it('is behind the Host guard like every route', async () => {
    const { app } = await createTestApp();
    const res = await app.request('http://evil.example/schemas/gateway.json', {
      headers: { host: 'evil.example' },
    });
    expect(res.status).toBe(403);
  });

  it('refers only inside itself', () => {
    const text = JSON.stringify(
      gatewayFileSchema({
        components: {
          schemas: {
            AdapterData: {},
            ToolData: { $ref: '#/components/schemas/ToolDefinition' },
            ToolsetData: {},
          },
        },
      }),
    );
    expect(text).not.toContain('#/components/');
    expect(text).toContain('"$ref":"#/$defs/ToolDefinition"');
  });
});
