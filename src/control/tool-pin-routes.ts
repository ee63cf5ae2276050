/**
 * @module tool-pin-routes: the approval API of tool-definition pinning. `GET /adapters/{name}/tools` shows what the
 * tool router pinned of a federated adapter's tools, each `pinned` or `changed` (with a per-field diff, pinned
 * against current); `POST /adapters/{name}/tools/{tool}/approve` re-pins a changed tool to the definition it lists
 * now, which under `MCP_GATEWAY_TOOL_PINNING=enforce` makes `/mcp` list it again. Reading needs read access to the
 * adapter; approving is a trust decision about what models are told, so it takes `mcp.admin`, whoever owns it.
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { ADMIN_ROLE, canRead, insufficientRole, isAdmin } from '../auth/index.js';
import type { AppEnv } from '../http/index.js';
import { HttpError, badRequest, conflict, notFound, payloadTooLarge } from '../http/index.js';
import { auditOutcome } from '../observability/index.js';
import type { AuditLog } from '../observability/index.js';
import { registeredOf } from '../registry/index.js';
import type { Registered, RegistryStore } from '../registry/index.js';
import { PINNED_FIELDS } from '../toolrouter/index.js';
import type { PinnedToolDefinition, ToolDefinitionPins } from '../toolrouter/index.js';
import { ErrorBodySchema } from './schemas.js';
import { validationHook } from './validation.js';

/** Dependencies of {@link createToolPinRoutes}. */
export interface ToolPinRoutesOptions {
  readonly store: RegistryStore;
  /** The tool router's pins; absent when the router is off (`MCP_GATEWAY_TOOLROUTER=false`). */
  readonly pins: ToolDefinitionPins | undefined;
  /** `MCP_GATEWAY_TOOL_PINNING`, reported with every list. */
  readonly mode: 'off' | 'warn' | 'enforce';
  /** Where a refused approval is audited (the router audits the approvals it makes). */
  readonly audit: AuditLog;
}

/** Largest approval body: it holds one hash. */
const MAX_APPROVAL_BYTES = 4096;
const SHA256_HEX = /^[0-9a-f]{64}$/;

const Hash = z.string().openapi({ description: 'SHA-256 (hex) of the canonical JSON of the definition' });
const Definition = z
  .record(z.string(), z.unknown())
  .openapi({ description: `The pinned fields: ${PINNED_FIELDS.join(', ')} (those the tool has)` });

const ToolDefinitionPin = z
  .object({
    tool: z
      .string()
      .openapi({ description: "The tool's name at its upstream (`/mcp` shows `{adapter}__{tool}`)" }),
    state: z.enum(['pinned', 'changed']).openapi({
      description: '`changed`: the adapter lists a definition that differs from the pinned one',
    }),
    listed: z.boolean().openapi({ description: "Whether the adapter's last listing holds the tool" }),
    held: z.boolean().openapi({
      description:
        'Hidden from `/mcp` and its calls refused until approved (`MCP_GATEWAY_TOOL_PINNING=enforce`)',
    }),
    pinned: z.object({
      hash: Hash,
      definition: Definition,
      pinnedBy: z.string().openapi({ description: '`first-use`, or the admin who approved it' }),
      pinnedAt: z.string().openapi({ format: 'date-time' }),
    }),
    current: z
      .object({ hash: Hash, definition: Definition })
      .optional()
      .openapi({ description: 'The definition listed now, when changed' }),
    diff: z
      .array(
        z.object({
          field: z.enum(PINNED_FIELDS),
          pinned: z
            .unknown()
            .optional()
            .openapi({ description: 'Absent when the pinned definition has no such field' }),
          current: z
            .unknown()
            .optional()
            .openapi({ description: 'Absent when the current definition has no such field' }),
        }),
      )
      .optional()
      .openapi({ description: 'The fields that differ, when changed' }),
  })
  .openapi('ToolDefinitionPin');

const ToolDefinitionPins = z
  .object({
    pinning: z.enum(['off', 'warn', 'enforce']).openapi({ description: '`MCP_GATEWAY_TOOL_PINNING`' }),
    tools: z.array(ToolDefinitionPin),
  })
  .openapi('ToolDefinitionPins');

const ApprovalBody = z
  .object({
    hash: z.string().optional().openapi({
      description:
        'The `current.hash` the admin reviewed: the approval is refused (409) when the adapter lists anything else now',
    }),
  })
  .openapi('ToolDefinitionApproval');

const AdapterParam = z.object({
  name: z.string().openapi({ param: { name: 'name', in: 'path' }, example: 'weather' }),
});
const ToolParams = AdapterParam.extend({
  tool: z.string().openapi({ param: { name: 'tool', in: 'path' }, example: 'forecast' }),
});

const errors = (entries: Record<number, string>) =>
  Object.fromEntries(
    Object.entries(entries).map(([status, description]) => [
      status,
      { description, content: { 'application/json': { schema: ErrorBodySchema } } },
    ]),
  );

const listRoute = createRoute({
  method: 'get',
  path: '/adapters/{name}/tools',
  operationId: 'listAdapterToolPins',
  tags: ['adapters'],
  summary: "The pinned definitions of a federated adapter's tools",
  description:
    'Every tool of the adapter the tool router has pinned (on first sight, or when an admin approved a change), by tool name, `pinned` or `changed` against what the adapter lists now on this gateway instance, with a per-field diff for changed ones.',
  request: { params: AdapterParam },
  responses: {
    200: { description: 'The pins', content: { 'application/json': { schema: ToolDefinitionPins } } },
    ...errors({
      404: 'No such adapter, not one the caller may read, not federated, or the tool router is off',
    }),
  },
});

const approveRoute = createRoute({
  method: 'post',
  path: '/adapters/{name}/tools/{tool}/approve',
  operationId: 'approveAdapterToolDefinition',
  tags: ['adapters'],
  summary: "Approve a federated tool's changed definition",
  description:
    'Re-pins the tool to the definition the adapter lists now (audited); under `MCP_GATEWAY_TOOL_PINNING=enforce` `/mcp` lists it again and its calls pass, and connected clients get `notifications/tools/list_changed`. Only `mcp.admin` may approve. The body is optional; `{"hash": …}` approves only that definition.',
  request: {
    params: ToolParams,
    body: { required: false, content: { 'application/json': { schema: ApprovalBody } } },
  },
  responses: {
    200: { description: 'The new pin', content: { 'application/json': { schema: ToolDefinitionPin } } },
    ...errors({
      400: 'The body is not `{"hash": "<64 hex digits>"}`',
      403: 'The caller is not `mcp.admin`',
      404: 'No such adapter (or not readable), not federated, no such pinned tool, or the tool router is off',
      409: 'Nothing awaits approval, the tool is not listed now, or the current definition is not the `hash` given',
    }),
  },
});

/** The API view of a pin. */
function viewOf(pin: PinnedToolDefinition) {
  return {
    tool: pin.tool,
    state: pin.state,
    listed: pin.listed,
    held: pin.held,
    pinned: {
      hash: pin.pin.hash,
      definition: pin.pin.definition,
      pinnedBy: pin.pin.pinnedBy,
      pinnedAt: pin.pin.pinnedAt.toISOString(),
    },
    ...(pin.current && { current: { hash: pin.current.hash, definition: pin.current.definition } }),
    ...(pin.diff && { diff: [...pin.diff] }),
  };
}

/** Reads the optional approval body: nothing, or `{"hash": "<sha-256 hex>"}`. */
async function expectedHashOf(c: Context<AppEnv>): Promise<string | undefined> {
  const length = Number(c.req.header('content-length') ?? '0');
  if (length > MAX_APPROVAL_BYTES) throw payloadTooLarge(MAX_APPROVAL_BYTES);
  const text = await c.req.text();
  if (text.trim() === '') return undefined;
  if (text.length > MAX_APPROVAL_BYTES) throw payloadTooLarge(MAX_APPROVAL_BYTES);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw badRequest('The body must be JSON: {"hash": "<sha-256 of the definition you reviewed>"}.');
  }
  const parsed = ApprovalBody.strict().safeParse(body);
  if (!parsed.success) {
    throw badRequest('The body may hold only `hash`: {"hash": "<sha-256 of the definition you reviewed>"}.', [
      { path: 'hash', message: 'must be a string' },
    ]);
  }
  const { hash } = parsed.data;
  if (hash !== undefined && !SHA256_HEX.test(hash)) {
    throw badRequest(
      'hash: must be 64 lowercase hex digits (the `current.hash` of GET /adapters/{name}/tools).',
      [{ path: 'hash', message: 'must be 64 lowercase hex digits' }],
    );
  }
  return hash;
}

/** Builds the routes; mount after authentication on `/adapters/*`. */
export function createToolPinRoutes(options: ToolPinRoutesOptions): OpenAPIHono<AppEnv> {
  const router = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  const { store } = options;

  function pinsOrRefuse(): ToolDefinitionPins {
    if (!options.pins) {
      throw notFound(
        'Tool-definition pinning is part of the tool router, which is off here (MCP_GATEWAY_TOOLROUTER=false).',
      );
    }
    return options.pins;
  }

  /** The federated adapter `name`, when the caller may read it; 404 otherwise (existence is not revealed). */
  async function federatedAdapter(c: Context<AppEnv>, name: string): Promise<Registered<'adapter'>> {
    const row = await store.get('adapter', name);
    const adapter = row && registeredOf('adapter', row);
    if (!adapter || !canRead(c.get('principal'), adapter))
      throw notFound(`Adapter '${name}' does not exist.`);
    if (adapter.spec.federate !== true) {
      throw notFound(
        `Adapter '${name}' is not federated ("federate": true): the tool router does not list or pin its tools.`,
      );
    }
    return adapter;
  }

  router.openapi(listRoute, async (c) => {
    const pins = pinsOrRefuse();
    const adapter = await federatedAdapter(c, c.req.valid('param').name);
    const tools = (await pins.definitions(adapter)).map(viewOf);
    return c.json({ pinning: options.mode, tools }, 200);
  });

  router.openapi(approveRoute, async (c) => {
    const pins = pinsOrRefuse();
    const { name, tool } = c.req.valid('param');
    const principal = c.get('principal');
    let expectedHash: string | undefined;
    try {
      const adapter = await federatedAdapter(c, name);
      if (!isAdmin(principal)) {
        throw insufficientRole(`Approving a changed tool definition requires the role ${ADMIN_ROLE}.`);
      }
      expectedHash = await expectedHashOf(c);
      const result = await pins.approve(adapter, tool, principal, expectedHash);
      if ('refused' in result) {
        throw result.refused === 'unknown' ? notFound(result.message) : conflict(result.message);
      }
      return c.json(viewOf(result), 200);
    } catch (error) {
      // A refused trust decision is worth a line too: who tried to approve what, and why it did not happen.
      if (error instanceof HttpError && options.audit.enabled()) {
        options.audit.write({
          action: 'tool-definition/approved',
          adapter: name,
          tool,
          ...(expectedHash !== undefined && { newHash: expectedHash }),
          mode: options.mode,
          principal: principal.userId,
          outcome: auditOutcome(error.status),
        });
      }
      throw error;
    }
  });

  return router;
}
