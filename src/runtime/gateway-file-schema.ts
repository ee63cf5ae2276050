/**
 * @module gateway-file-schema: the JSON Schema of `gateway.yaml` (top-level `adapters:`, `tools:` and `toolsets:`
 * lists of the objects the API takes), served at `/schemas/gateway.json`. It is derived from the app's own OpenAPI document,
 * so the file is checked by the same field rules as a request body; `mcp-gateway apply` validates with it
 * before it changes anything.
 */

/** Where the schema is served. */
export const GATEWAY_FILE_SCHEMA_PATH = '/schemas/gateway.json';

interface OpenApiLike {
  readonly components?: { readonly schemas?: Readonly<Record<string, unknown>> };
}

const COMPONENT_REF = '#/components/schemas/';

/** `value` with every OpenAPI component `$ref` pointing into this schema's `$defs` instead. */
function rebased(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rebased);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [
      key,
      key === '$ref' && typeof v === 'string' && v.startsWith(COMPONENT_REF)
        ? `#/$defs/${v.slice(COMPONENT_REF.length)}`
        : rebased(v),
    ]),
  );
}

/**
 * The schema of the file, from the OpenAPI document's `AdapterData`, `ToolData` and `ToolsetData` (and what they
 * refer to).
 */
export function gatewayFileSchema(document: OpenApiLike): Record<string, unknown> {
  const schemas = document.components?.schemas ?? {};
  if (!schemas.AdapterData || !schemas.ToolData || !schemas.ToolsetData)
    throw new Error('the OpenAPI document has no AdapterData, ToolData or ToolsetData schema');
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: GATEWAY_FILE_SCHEMA_PATH,
    title: 'MCP Gateway configuration file (gateway.yaml)',
    description:
      'Top-level `adapters:`, `tools:` and `toolsets:` lists of the objects the API takes (POST /adapters, ' +
      'POST /tools, POST /toolsets). ' +
      'Applied with `mcp-gateway apply -f FILE`.',
    type: 'object',
    properties: {
      adapters: { type: 'array', items: { $ref: '#/$defs/AdapterData' } },
      tools: { type: 'array', items: { $ref: '#/$defs/ToolData' } },
      toolsets: { type: 'array', items: { $ref: '#/$defs/ToolsetData' } },
    },
    additionalProperties: false,
    $defs: rebased(schemas),
  };
}
