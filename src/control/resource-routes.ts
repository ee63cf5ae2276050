/**
 * @module resource-routes: the REST routes of one resource kind (`/adapters` or `/tools`). Both kinds share
 * this code; a {@link KindDescriptor} supplies what differs (schemas, spec mapping, wording).
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Context, TypedResponse } from 'hono';
import type { JSONObject } from 'hono/utils/types';
import {
  canRead,
  canWrite,
  insufficientRole,
  isAdmin,
  maskForReader,
  maskedCommandLine,
} from '../auth/index.js';
import type { CommandFields, CommandGate, Principal, SecretReferenceGate } from '../auth/index.js';
import type { RuntimeInspector } from '../deploy/index.js';
import type { AppEnv, HttpError } from '../http/index.js';
import { badRequest, conflict, jsonBody, notFound, notImplemented } from '../http/index.js';
import { ResourceExistsError, listAll, registeredOf } from '../registry/index.js';
import type { CommonSpec, Registered, RegistryStore, ResourceKind, SpecByKind } from '../registry/index.js';
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
import {
  ErrorBodySchema,
  ListQuery,
  LogsQuery,
  MAX_PAGE_SIZE,
  NameParam,
  ResourceStatus,
} from './schemas.js';
import { checkReferencedSecretsExist, secretReferencesOf } from './secret-references.js';
import { validationHook } from './validation.js';

/** What every create or replace body of a kind carries: its name, and the fields the command gate reads. */
export type ResourceData = { readonly name: string } & CommandFields;

/**
 * What differs between resource kinds: one per kind (`ADAPTERS`, `TOOLS`), generic over the kind `K`, the body
 * the kind's schema parses (`Data`) and the view it answers (`View`), so a new kind plugs in by writing one
 * descriptor. The routes are typed by these parameters end to end: no cast between the schema and the mapping.
 */
export interface KindDescriptor<
  K extends ResourceKind,
  Data extends ResourceData,
  View extends ResourceView,
> {
  readonly kind: K;
  /** Path segment and OpenAPI tag, e.g. `adapters`. */
  readonly collection: string;
  /** `Adapter` or `Tool`, for messages and operation ids. */
  readonly label: string;
  /** Parses a create or replace body (the OpenAPI request schema). */
  readonly dataSchema: z.ZodType<Data>;
  /** Documents what the routes answer (the OpenAPI response schema). */
  readonly resourceSchema: z.ZodType<View>;
  /** Validates cross-field rules and returns the spec to store (throws a 400 naming the field). */
  toSpec(data: Data): SpecByKind[K];
  /** The API view of a stored row, in the reference's field order. */
  toResource(row: Registered<K>): View;
}

/**
 * The JSON object every resource view is. The response schemas are typed as this in the route table, so a
 * handler generic over the kind returns a type TypeScript can check (`JSONParsed` of a type parameter is not
 * reducible); the OpenAPI document still names each kind's own schema.
 */
export type ResourceView = JSONObject;

/** Told which resource a write changed, after the registry has it. */
export type ResourceChangeListener = (ref: { readonly kind: ResourceKind; readonly name: string }) => void;

/** Dependencies of the resource routes. */
export interface ResourceRoutesOptions {
  readonly store: RegistryStore;
  readonly inspector: RuntimeInspector;
  readonly bodyLimitBytes: number;
  readonly onChange?: ResourceChangeListener;
  /** Returns why an endpoint URL must not be registered (SSRF guard), or undefined to allow it. */
  readonly endpointPolicy?: (url: string) => string | undefined;
  /** Who may put `command`, `args` or `transport` into a create or replace body, and which programs. */
  readonly commandGate: CommandGate;
  /** Who may name stored secrets in a create or replace body (`secretEnvironmentVariables`, `upstreamAuth`). */
  readonly secretReferenceGate: SecretReferenceGate;
  /**
   * The gateway host's filesystem: whether a `command` with whitespace is the path of a file there. Asked only
   * then, and only for callers the command gate let through (it tells whether a path exists). Absent (the
   * edge, which has no process runtime), such a command is refused.
   */
  readonly isProgramFile?: (command: string) => Promise<boolean>;
}

/** What a `command` holding a command line gets told. */
const COMMAND_LINE_REFUSAL =
  'contains whitespace and is not the path of a file on the gateway host; it must be one program name or path: put the arguments in `args`, e.g. "command": "npx", "args": ["-y", "@modelcontextprotocol/server-everything"]';

/** Default and largest `tail` of a logs read. */
const DEFAULT_TAIL = 1000;
const MAX_TAIL = 10_000;
const errorResponses = errorResponsesOf({
  400: 'Invalid input; the message names the field',
  403: 'The caller may not do this',
  404: 'No such resource',
  409: 'A resource with that name already exists',
  412: 'If-Match does not match the current ETag',
  413: 'Body larger than the limit',
  415: 'Body is not JSON',
  501: 'The resource runtime is not supported by this build',
});

/** Why a create or replace is refused with 403, for the OpenAPI document. */
const WRITE_FORBIDDEN =
  'The caller may not do this (`WWW-Authenticate: Bearer error="insufficient_scope", …`): `command`, `args` or `transport` without a role in MCP_GATEWAY_COMMAND_ROLES (they run a program on the gateway host; default `mcp.admin`; nothing is stored), `secretEnvironmentVariables` or `upstreamAuth` without a role in MCP_GATEWAY_SECRET_ROLES (the server would receive the secret; default `mcp.admin`), `useWorkloadIdentity` without `mcp.admin`';

const challengeHeader = {
  'WWW-Authenticate': {
    schema: { type: 'string' as const },
    description: 'Bearer error="insufficient_scope"',
  },
};

/** The 403 of a create or replace, with its reasons. */
const writeForbidden = (more: string) => ({
  403: {
    description: `${WRITE_FORBIDDEN}${more}.`,
    headers: challengeHeader,
    content: { 'application/json': { schema: ErrorBodySchema } },
  },
});

function buildRoutes<K extends ResourceKind, Data extends ResourceData, View extends ResourceView>(
  d: KindDescriptor<K, Data, View>,
) {
  const base = `/${d.collection}`;
  const item = `${base}/{name}`;
  const tags = [d.collection];
  // Widened to the common view (see ResourceView); the document still refers to the kind's own schema.
  const resourceSchema: z.ZodType<ResourceView> = d.resourceSchema;
  const a = `${/^[aeiou]/.test(d.kind) ? 'an' : 'a'} ${d.kind}`;
  return {
    create: createRoute({
      method: 'post',
      path: base,
      operationId: `create${d.label}`,
      tags,
      summary: `Register ${a}`,
      request: { body: { required: true, content: jsonOf(d.dataSchema) } },
      responses: {
        201: {
          description: `The ${d.kind} as stored`,
          headers: { Location: { schema: { type: 'string' } }, ...etagHeader },
          content: jsonOf(resourceSchema),
        },
        ...errorResponses(400, 409, 413, 415),
        ...writeForbidden(', or a creator role missing (MCP_GATEWAY_CREATOR_ROLES)'),
      },
    }),
    list: createRoute({
      method: 'get',
      path: base,
      operationId: `list${d.label}s`,
      tags,
      summary: `List the ${d.collection} the caller may read, by name`,
      description: `Returns at most ${MAX_PAGE_SIZE} items, only those the caller may read; when more exist, \`Link: <…?cursor=…>; rel="next"\` points at the next page. A page can be short, even empty, when many in a row are hidden from the caller: follow the link, not the page size.`,
      request: { query: ListQuery },
      responses: {
        200: {
          description: `${d.label}s, ordered by name`,
          headers: { Link: { schema: { type: 'string' }, description: 'rel="next" when more items exist' } },
          content: jsonOf(z.array(resourceSchema)),
        },
        ...errorResponses(400),
      },
    }),
    get: createRoute({
      method: 'get',
      path: item,
      operationId: `get${d.label}`,
      tags,
      summary: `Read one ${d.kind}`,
      request: { params: NameParam },
      responses: {
        200: { description: `The ${d.kind}`, headers: etagHeader, content: jsonOf(resourceSchema) },
        304: { description: 'Not modified (If-None-Match)' },
        ...errorResponses(403, 404),
      },
    }),
    update: createRoute({
      method: 'put',
      path: item,
      operationId: `update${d.label}`,
      tags,
      summary: `Replace ${a} (full object)`,
      request: {
        params: NameParam,
        headers: ifMatchHeader,
        body: { required: true, content: jsonOf(d.dataSchema) },
      },
      responses: {
        200: {
          description: `The ${d.kind} as stored`,
          headers: etagHeader,
          content: jsonOf(resourceSchema),
        },
        ...errorResponses(400, 404, 412, 413, 415),
        ...writeForbidden(', or the caller is neither the creator nor `mcp.admin`'),
      },
    }),
    remove: createRoute({
      method: 'delete',
      path: item,
      operationId: `delete${d.label}`,
      tags,
      summary: `Delete ${a}`,
      request: { params: NameParam, headers: ifMatchHeader },
      responses: { 204: { description: 'Deleted' }, ...errorResponses(403, 404, 412) },
    }),
    status: createRoute({
      method: 'get',
      path: `${item}/status`,
      operationId: `get${d.label}Status`,
      tags,
      summary: `Live status of ${a}'s replicas`,
      request: { params: NameParam },
      responses: {
        200: { description: 'Status', content: jsonOf(ResourceStatus) },
        ...errorResponses(403, 404, 501),
      },
    }),
    logs: createRoute({
      method: 'get',
      path: `${item}/logs`,
      operationId: `get${d.label}Logs`,
      tags,
      summary: `Recent log lines of one replica of ${a}`,
      request: { params: NameParam, query: LogsQuery },
      responses: {
        200: { description: 'Log text', content: { 'text/plain': { schema: z.string() } } },
        ...errorResponses(400, 403, 404, 501),
      },
    }),
  };
}

/** Builds the router for one kind. */
export function createResourceRoutes<
  K extends ResourceKind,
  Data extends ResourceData,
  View extends ResourceView,
>(d: KindDescriptor<K, Data, View>, options: ResourceRoutesOptions): OpenAPIHono<AppEnv> {
  const { store, inspector } = options;
  const changed = (name: string) => options.onChange?.({ kind: d.kind, name });
  const routes = buildRoutes(d);
  const router = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  const body = jsonBody({ maxBytes: options.bodyLimitBytes });
  router.use(`/${d.collection}`, body);
  router.use(`/${d.collection}/:name`, body);

  const what = (name: string) => `${d.label} '${name}'`;
  const checkedSpec = (data: Data): SpecByKind[K] => {
    const spec = d.toSpec(data);
    const refused = (spec.endpoints ?? []).flatMap((url, i) => {
      const reason = options.endpointPolicy?.(url);
      return reason ? [{ path: `endpoints.${i}`, message: `is refused: ${reason}` }] : [];
    });
    // The token endpoint is contacted by the gateway on its own, like an endpoint: the same SSRF guard.
    const auth = spec.upstreamAuth;
    const tokenRefusal = auth?.type === 'oauth-client-credentials' && options.endpointPolicy?.(auth.tokenUrl);
    if (tokenRefusal) refused.push({ path: 'upstreamAuth.tokenUrl', message: `is refused: ${tokenRefusal}` });
    if (refused.length) throw badRequest(refused.map((r) => `${r.path}: ${r.message}`).join('; '), refused);
    return spec;
  };

  async function load(name: string): Promise<Registered<K>> {
    const row = await store.get(d.kind, name);
    if (!row) throw notFound(`${what(name)} does not exist.`);
    return registeredOf(d.kind, row);
  }

  async function loadReadable(c: Context<AppEnv>, name: string): Promise<Registered<K>> {
    const row = await load(name);
    // Hide existence from callers who may not read it: the same 404 as for a missing name.
    if (!canRead(c.get('principal'), row)) throw notFound(`${what(name)} does not exist.`);
    return row;
  }

  // Spawned as one program name, "npx -y server" is never found and would restart forever.
  async function checkCommandIsOneProgram(command: unknown): Promise<void> {
    if (typeof command !== 'string' || !/\s/.test(command)) return;
    if (options.isProgramFile && (await options.isProgramFile(command))) return;
    throw badRequest(`command: ${COMMAND_LINE_REFUSAL}`, [
      { path: 'command', message: COMMAND_LINE_REFUSAL },
    ]);
  }

  /**
   * The references of `spec`: the caller must hold a secret role (403 before anything else is looked at, so a
   * caller without one cannot probe which secrets exist), and each secret must exist (400 naming the field).
   */
  async function checkSecretReferences(c: Context<AppEnv>, spec: SpecByKind[K]): Promise<void> {
    const references = secretReferencesOf(spec);
    if (references.length === 0) return;
    options.secretReferenceGate.check(c.get('principal'), references, c.req.path);
    await checkReferencedSecretsExist(store, references);
  }

  function checkWorkloadIdentity(principal: Principal, spec: CommonSpec): void {
    if (spec.useWorkloadIdentity && !isAdmin(principal)) {
      throw insufficientRole('useWorkloadIdentity: only holders of mcp.admin may enable workload identity.');
    }
  }

  // Readers see environment variable names and the number of args, with masked values; writers see the values.
  const view = (principal: Principal, row: Registered<K>): ResourceView =>
    maskForReader(d.toResource(row), canWrite(principal, row));

  function respond<S extends 200 | 201>(c: Context<AppEnv>, row: Registered<K>, status: S) {
    c.header('ETag', etagOf(row));
    c.header('Vary', 'Authorization');
    return c.json(view(c.get('principal'), row), status);
  }

  router.openapi(routes.create, async (c) => {
    const data = c.req.valid('json');
    c.set('resourceName', data.name);
    const principal = c.get('principal');
    options.commandGate.check(principal, data, c.req.path);
    await checkCommandIsOneProgram(data.command);
    const spec = checkedSpec(data);
    await checkSecretReferences(c, spec);
    checkWorkloadIdentity(principal, spec);
    try {
      const row = registeredOf(d.kind, await store.create(d.kind, data.name, { ...spec }, principal.userId));
      changed(row.name);
      c.header('Location', `/${d.collection}/${encodeURIComponent(row.name)}`);
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
    const page = await readablePage({
      collection: `/${d.collection}`,
      pageSize,
      after: cursor === undefined ? undefined : decodeCursor(cursor),
      rows: (after) => listAll(store, d.kind, { pageSize, ...(after !== undefined && { after }) }),
      canRead: (row) => canRead(principal, row),
    });
    if (page.next) c.header('Link', page.next);
    return c.json(
      page.rows.map((row) => view(principal, row)),
      200,
    );
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
    // Before anything is read: a body that would run a program needs the role whatever is stored now, so a
    // creator who lost it can no longer change what runs (nor how: its environment, its replicas).
    options.commandGate.check(principal, data, c.req.path);
    await checkCommandIsOneProgram(data.command);
    const spec = checkedSpec(data);
    // Like the command gate: whatever is stored now, a body that keeps a reference needs the role.
    await checkSecretReferences(c, spec);
    const row = await replaceChecked({
      what: what(name),
      ifMatch: parseIfMatch(c.req.header('if-match')),
      load: () => loadReadable(c, name),
      check: (current) => {
        if (!canWrite(principal, current))
          throw insufficientRole(`Only the creator of ${what(name)} or mcp.admin may change it.`);
        if (current.spec.useWorkloadIdentity !== spec.useWorkloadIdentity) {
          throw badRequest(
            'useWorkloadIdentity: cannot be changed after creation; delete and create the resource again.',
            [{ path: 'useWorkloadIdentity', message: 'cannot be changed after creation' }],
          );
        }
      },
      write: (expectedVersion) => store.update(d.kind, name, { ...spec }, { expectedVersion }),
    });
    changed(name);
    return respond(c, registeredOf(d.kind, row), 200);
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
      remove: (condition) => store.delete(d.kind, name, condition),
    });
    changed(name);
    return c.body(null, 204);
  });

  router.openapi(routes.status, async (c) => {
    const row = await loadReadable(c, c.req.valid('param').name);
    const result = await inspector.status(row);
    if (!result.ok) throw unavailable(result.reason, result.message);
    const { status } = result;
    // The process runtime's `image` is its command line, whose arguments readers must not see.
    const { command, args = [] } = row.spec;
    const masked =
      status.runtime === 'command' && command !== undefined && !canWrite(c.get('principal'), row);
    return c.json(
      {
        ...status,
        ...(masked && { image: maskedCommandLine(command, args) }),
        replicas: status.replicas.map((r) => ({ ...r, checkedAt: r.checkedAt.toISOString() })),
      },
      200,
    );
  });

  router.openapi(routes.logs, async (c) => {
    const row = await loadReadable(c, c.req.valid('param').name);
    const { instance = 0, tail = DEFAULT_TAIL, follow = false } = c.req.valid('query');
    if (instance >= Math.max(row.spec.replicaCount, 1)) {
      throw badRequest(
        `instance: ${what(row.name)} has ${row.spec.replicaCount} replica(s); use 0–${Math.max(row.spec.replicaCount - 1, 0)}.`,
        [{ path: 'instance', message: 'is out of range' }],
      );
    }
    if (tail < 1 || tail > MAX_TAIL) {
      throw badRequest(`tail: must be between 1 and ${MAX_TAIL}.`, [
        { path: 'tail', message: 'is out of range' },
      ]);
    }
    if (follow && inspector.follow) {
      const followed = await inspector.follow(row, { instance, tail, signal: c.req.raw.signal });
      if (!followed.ok) throw unavailable(followed.reason, followed.message);
      if ('stream' in followed) return streamedText(c, followed.stream);
      return c.text(followed.text, 200);
    }
    const result = await inspector.logs(row, { instance, tail });
    if (!result.ok) throw unavailable(result.reason, result.message);
    return c.text(result.text, 200);
  });

  return router;
}

/**
 * A followed log: text/plain, as the route declares, sent as it is written. Hono types a streamed body as an
 * opaque `body` response rather than the text it is, so this narrows the plain `Response` to the route's text
 * response — the one place the control plane streams, and the one cast between the two.
 */
function streamedText(
  c: Context<AppEnv>,
  stream: ReadableStream<Uint8Array>,
): Response & TypedResponse<string, 200, 'text'> {
  const response: Response = c.body(stream, 200, {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  return response as Response & TypedResponse<string, 200, 'text'>;
}

function unavailable(reason: 'no-logs' | 'not-built', message: string): HttpError {
  return reason === 'no-logs' ? notFound(message) : notImplemented(message);
}
