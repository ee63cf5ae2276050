/**
 * @module toolset-routes: `/toolsets`, named groups of tools the tool router serves on an endpoint of their own
 * (`/toolsets/{name}/mcp`). The permission model and status codes are the adapters': anyone past the creation
 * gate creates (201, 409 on a taken name); the creator, `mcp.admin` and holders of one of `requiredRoles` read
 * (others get the 404 of a name that does not exist); the creator and `mcp.admin` replace and delete (403
 * otherwise); ETags and `If-Match` as for adapters. A read reports how the members resolve for the reader.
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { canRead, canWrite, insufficientRole } from '../auth/index.js';
import type { Principal } from '../auth/index.js';
import type { AppEnv } from '../http/index.js';
import { badRequest, conflict, jsonBody, notFound } from '../http/index.js';
import { ResourceExistsError, toolsetOf } from '../registry/index.js';
import type { RegisteredToolset, RegistryStore, ToolsetSpec } from '../registry/index.js';
import { decodeCursor } from './cursor.js';
import { etagOf, ifNoneMatchHits, parseIfMatch } from './etag.js';
import {
  deleteChecked,
  errorResponsesOf,
  etagHeader,
  ifMatchHeader,
  jsonOf,
  readablePage,
  replaceChecked,
} from './route-parts.js';
import { ListQuery, MAX_PAGE_SIZE, NameParam } from './schemas.js';
import { ToolsetData, ToolsetResource } from './toolset-schemas.js';
import type { ToolsetStatus } from './toolset-schemas.js';
import { validationHook } from './validation.js';

/** Dependencies of the toolset routes. */
export interface ToolsetRoutesOptions {
  readonly store: RegistryStore;
  readonly bodyLimitBytes: number;
  /** Told the toolset's name after a write is stored (the tool router re-reads it). */
  readonly onChange?: (name: string) => void;
  /** How a toolset's members resolve for `principal` (the tool router's catalog); absent, no `status`. */
  readonly resolve?: (spec: ToolsetSpec, principal: Principal) => Promise<ToolsetStatus>;
}

const COLLECTION = '/toolsets';
const ITEM = `${COLLECTION}/{name}`;
const tags = ['toolsets'];
const errors = errorResponsesOf({
  400: 'Invalid input; the message names the field',
  403: 'The caller may not do this (`WWW-Authenticate: Bearer error="insufficient_scope", …`)',
  404: 'No such toolset (or one the caller may not read)',
  409: 'A toolset with that name already exists',
  412: 'If-Match does not match the current ETag',
  413: 'Body larger than the limit',
  415: 'Body is not JSON',
});

const routes = {
  create: createRoute({
    method: 'post',
    path: COLLECTION,
    operationId: 'createToolset',
    tags,
    summary: 'Create a toolset',
    description:
      'Its MCP endpoint, `/toolsets/{name}/mcp`, serves just its members, to callers who may read the toolset, each member only if the caller may use that tool.',
    request: { body: { required: true, content: jsonOf(ToolsetData) } },
    responses: {
      201: {
        description: 'The toolset as stored',
        headers: { Location: { schema: { type: 'string' } }, ...etagHeader },
        content: jsonOf(ToolsetResource),
      },
      ...errors(400, 403, 409, 413, 415),
    },
  }),
  list: createRoute({
    method: 'get',
    path: COLLECTION,
    operationId: 'listToolsets',
    tags,
    summary: 'List the toolsets the caller may read, by name',
    description: `Returns at most ${MAX_PAGE_SIZE} items, only those the caller may read; when more exist, \`Link: <…?cursor=…>; rel="next"\` points at the next page. A page can be short, even empty: follow the link, not the page size.`,
    request: { query: ListQuery },
    responses: {
      200: {
        description: 'Toolsets, ordered by name',
        headers: { Link: { schema: { type: 'string' }, description: 'rel="next" when more items exist' } },
        content: jsonOf(z.array(ToolsetResource)),
      },
      ...errors(400),
    },
  }),
  get: createRoute({
    method: 'get',
    path: ITEM,
    operationId: 'getToolset',
    tags,
    summary: 'Read one toolset, with how its members resolve for the caller',
    request: { params: NameParam },
    responses: {
      200: { description: 'The toolset', headers: etagHeader, content: jsonOf(ToolsetResource) },
      304: { description: 'Not modified (If-None-Match)' },
      ...errors(404),
    },
  }),
  update: createRoute({
    method: 'put',
    path: ITEM,
    operationId: 'updateToolset',
    tags,
    summary: 'Replace a toolset (full object)',
    request: {
      params: NameParam,
      headers: ifMatchHeader,
      body: { required: true, content: jsonOf(ToolsetData) },
    },
    responses: {
      200: { description: 'The toolset as stored', headers: etagHeader, content: jsonOf(ToolsetResource) },
      ...errors(400, 403, 404, 412, 413, 415),
    },
  }),
  remove: createRoute({
    method: 'delete',
    path: ITEM,
    operationId: 'deleteToolset',
    tags,
    summary: 'Delete a toolset',
    request: { params: NameParam, headers: ifMatchHeader },
    responses: { 204: { description: 'Deleted' }, ...errors(403, 404, 412) },
  }),
};

const what = (name: string) => `Toolset '${name}'`;

/** The stored spec of a valid body: defaults filled, the fields a GET returns and a PUT ignores left out. */
function specOf(data: ToolsetData): ToolsetSpec {
  return {
    description: data.description ?? '',
    tools: data.tools,
    requiredRoles: data.requiredRoles ?? [],
    ...(data.discovery !== undefined && { discovery: data.discovery }),
    ...(data.policy !== undefined && { policy: data.policy }),
  };
}

/** Builds the `/toolsets` router. */
export function createToolsetRoutes(options: ToolsetRoutesOptions): OpenAPIHono<AppEnv> {
  const { store } = options;
  const changed = options.onChange ?? (() => undefined);
  const router = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  const body = jsonBody({ maxBytes: options.bodyLimitBytes });
  router.use(COLLECTION, body);
  router.use(`${COLLECTION}/:name`, body);

  async function view(principal: Principal, row: RegisteredToolset): Promise<ToolsetResource> {
    const { spec } = row;
    const status = options.resolve && (await options.resolve(spec, principal));
    return {
      id: row.name,
      name: row.name,
      description: spec.description,
      tools: spec.tools,
      requiredRoles: spec.requiredRoles,
      discovery: spec.discovery ?? 'list',
      ...(spec.policy && { policy: spec.policy as ToolsetResource['policy'] }),
      endpoint: `${COLLECTION}/${row.name}/mcp`,
      ...(status && { status }),
      createdBy: row.createdBy,
      createdAt: row.createdAt.toISOString(),
      lastUpdatedAt: row.lastUpdatedAt.toISOString(),
    };
  }

  async function respond<S extends 200 | 201>(c: Context<AppEnv>, row: RegisteredToolset, status: S) {
    c.header('ETag', etagOf(row));
    c.header('Vary', 'Authorization');
    return c.json(await view(c.get('principal'), row), status);
  }

  async function* toolsetsAfter(after: string | undefined, limit: number): AsyncGenerator<RegisteredToolset> {
    for (;;) {
      const page = await store.list('toolset', { limit, ...(after !== undefined && { after }) });
      for (const stored of page) yield toolsetOf(stored);
      after = page.at(-1)?.name;
      if (page.length < limit || after === undefined) return;
    }
  }

  async function loadReadable(c: Context<AppEnv>, name: string): Promise<RegisteredToolset> {
    const row = await store.get('toolset', name);
    // Hide existence from callers who may not read it: the same 404 as for a missing name.
    if (!row || !canRead(c.get('principal'), toolsetOf(row))) throw notFound(`${what(name)} does not exist.`);
    return toolsetOf(row);
  }

  router.openapi(routes.create, async (c) => {
    const data = c.req.valid('json');
    c.set('resourceName', data.name);
    const principal = c.get('principal');
    try {
      const row = toolsetOf(await store.create('toolset', data.name, { ...specOf(data) }, principal.userId));
      changed(row.name);
      c.header('Location', `${COLLECTION}/${encodeURIComponent(row.name)}`);
      return respond(c, row, 201);
    } catch (err) {
      if (err instanceof ResourceExistsError) throw conflict(`${what(data.name)} already exists.`);
      throw err;
    }
  });

  router.openapi(routes.list, async (c) => {
    const { limit, cursor } = c.req.valid('query');
    const pageSize = limit ?? MAX_PAGE_SIZE;
    const principal = c.get('principal');
    // As adapters: read on past the rows the caller may not see, for a bounded number of pages.
    const page = await readablePage({
      collection: COLLECTION,
      pageSize,
      after: cursor === undefined ? undefined : decodeCursor(cursor),
      rows: (after) => toolsetsAfter(after, pageSize),
      canRead: (row) => canRead(principal, row),
    });
    if (page.next) c.header('Link', page.next);
    return c.json(await Promise.all(page.rows.map((row) => view(principal, row))), 200);
  });

  router.openapi(routes.get, async (c) => {
    const row = await loadReadable(c, c.req.valid('param').name);
    if (ifNoneMatchHits(c.req.header('if-none-match'), row)) {
      c.header('ETag', etagOf(row));
      return c.body(null, 304);
    }
    return respond(c, row, 200);
  });

  router.openapi(routes.update, async (c) => {
    const { name } = c.req.valid('param');
    const data = c.req.valid('json');
    if (data.name !== name) {
      throw badRequest(`name: '${data.name}' in the body does not match '${name}' in the URL.`, [
        { path: 'name', message: 'must match the name in the URL' },
      ]);
    }
    const principal = c.get('principal');
    const spec = specOf(data);
    const row = await replaceChecked({
      what: what(name),
      ifMatch: parseIfMatch(c.req.header('if-match')),
      load: () => loadReadable(c, name),
      check: (current) => {
        if (!canWrite(principal, current))
          throw insufficientRole(`Only the creator of ${what(name)} or mcp.admin may change it.`);
      },
      write: (expectedVersion) => store.update('toolset', name, { ...spec }, { expectedVersion }),
    });
    changed(name);
    return respond(c, toolsetOf(row), 200);
  });

  router.openapi(routes.remove, async (c) => {
    const { name } = c.req.valid('param');
    const current = await loadReadable(c, name);
    if (!canWrite(c.get('principal'), current))
      throw insufficientRole(`Only the creator of ${what(name)} or mcp.admin may delete it.`);
    await deleteChecked({
      what: what(name),
      ifMatch: parseIfMatch(c.req.header('if-match')),
      load: async () => current,
      remove: (condition) => store.delete('toolset', name, condition),
    });
    changed(name);
    return c.body(null, 204);
  });

  return router;
}
