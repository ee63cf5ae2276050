/**
 * @module secret-routes: `/secrets`, the write-only secret store. A value is sealed (`secret-cipher.ts`) before it
 * reaches the registry and is never part of an answer; reads show who wrote which name when and which adapters
 * and tools reference it (`usedBy`). A referenced secret is not deleted without `?force=true`, and a rotation
 * tells the deploy side of every user, so their replicas restart with the new value. Who may call these routes
 * is decided before them (the secret gate, `MCP_GATEWAY_SECRET_ROLES`).
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../http/index.js';
import { badRequest, conflict, jsonBody, notFound } from '../http/index.js';
import { ResourceExistsError } from '../registry/index.js';
import type { RegistryStore, SecretCipher, SettingsCipher, StoredSecret } from '../registry/index.js';
import type { ResourceChangeListener } from './resource-routes.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { etagOf, ifNoneMatchHits, parseIfMatch } from './etag.js';
import {
  deleteChecked,
  errorResponsesOf,
  etagHeader,
  ifMatchHeader,
  jsonOf,
  replaceChecked,
} from './route-parts.js';
import { ErrorBodySchema, ListQuery, MAX_PAGE_SIZE, NameParam } from './schemas.js';
import { describeUsers, secretUsers } from './secret-references.js';
import type { SecretUser } from './secret-references.js';
import { rekeyRegistry } from './secret-rekey.js';
import {
  SecretData,
  SecretDeleteQuery,
  SecretRekeyReport,
  SecretRekeyRequest,
  SecretResource,
  SecretRotation,
} from './secret-schemas.js';
import { validationHook } from './validation.js';

/** Dependencies of the secret routes. */
export interface SecretRoutesOptions {
  readonly store: RegistryStore;
  /** Seals values before they are stored. */
  readonly cipher: SecretCipher;
  /** The sealed settings' cipher: with it, `POST /secrets/rekey` is served (it re-seals settings too). */
  readonly settings?: SettingsCipher;
  readonly bodyLimitBytes: number;
  /** Told of every adapter and tool that references a secret after it was rotated or force-deleted. */
  readonly onChange?: ResourceChangeListener;
  /** Told the secret's name after a create, rotation or delete is stored (caches of the value drop it). */
  readonly onSecretWritten?: (name: string) => void;
}

const COLLECTION = '/secrets';
const ITEM = `${COLLECTION}/{name}`;
const tags = ['secrets'];

const errorResponses = errorResponsesOf({
  400: 'Invalid input; the message names the field',
  404: 'No such secret',
  409: 'A secret with that name already exists, or (DELETE) adapters or tools still reference it',
  412: 'If-Match does not match the current ETag',
  413: 'Body larger than the limit',
  415: 'Body is not JSON',
});

/** Every route answers 403 to a caller without a secret role (the secret gate runs before it). */
const FORBIDDEN = {
  403: {
    description:
      'The caller holds no role in MCP_GATEWAY_SECRET_ROLES (default `mcp.admin`): `WWW-Authenticate: Bearer error="insufficient_scope", …`',
    headers: {
      'WWW-Authenticate': {
        schema: { type: 'string' as const },
        description: 'Bearer error="insufficient_scope"',
      },
    },
    content: { 'application/json': { schema: ErrorBodySchema } },
  },
};

const errors = (...statuses: number[]) => ({ ...errorResponses(...statuses), ...FORBIDDEN });

const REKEY = `${COLLECTION}/rekey`;

const routes = {
  rekey: createRoute({
    method: 'post',
    path: REKEY,
    operationId: 'rekeySecrets',
    tags,
    summary: 'Re-seal every stored value under the current gateway secret',
    description:
      'After a change of the gateway secret (the old one in MCP_GATEWAY_PREVIOUS_SECRETS): re-seals stored secrets, OAuth grants and sealed settings still under an old key, each with a compare and set, so it can run again after a failure and loses no concurrent write. `remaining` all 0 means the previous secrets can be dropped. The body is `{}`, or `{"dryRun": true}` to only count.',
    request: { body: { required: true, content: jsonOf(SecretRekeyRequest) } },
    responses: {
      200: { description: 'What was re-sealed and what remains', content: jsonOf(SecretRekeyReport) },
      ...errors(400, 413, 415),
    },
  }),
  create: createRoute({
    method: 'post',
    path: COLLECTION,
    operationId: 'createSecret',
    tags,
    summary: 'Store a secret (write-only)',
    description:
      'The value is encrypted (AES-256-GCM under a key derived from the gateway secret) before it is stored, and no answer ever contains it.',
    request: { body: { required: true, content: jsonOf(SecretData) } },
    responses: {
      201: {
        description: 'The secret as stored, without its value',
        headers: { Location: { schema: { type: 'string' } }, ...etagHeader },
        content: jsonOf(SecretResource),
      },
      ...errors(400, 409, 413, 415),
    },
  }),
  list: createRoute({
    method: 'get',
    path: COLLECTION,
    operationId: 'listSecrets',
    tags,
    summary: 'List secrets by name, without their values',
    description: `Returns at most ${MAX_PAGE_SIZE} items; when more exist, \`Link: <…?cursor=…>; rel="next"\` points at the next page.`,
    request: { query: ListQuery },
    responses: {
      200: {
        description: 'Secrets, ordered by name',
        headers: { Link: { schema: { type: 'string' }, description: 'rel="next" when more items exist' } },
        content: jsonOf(z.array(SecretResource)),
      },
      ...errors(400),
    },
  }),
  get: createRoute({
    method: 'get',
    path: ITEM,
    operationId: 'getSecret',
    tags,
    summary: 'Read who wrote a secret and when (never its value)',
    request: { params: NameParam },
    responses: {
      200: {
        description: 'The secret, without its value',
        headers: etagHeader,
        content: jsonOf(SecretResource),
      },
      304: { description: 'Not modified (If-None-Match)' },
      ...errors(404),
    },
  }),
  rotate: createRoute({
    method: 'put',
    path: ITEM,
    operationId: 'rotateSecret',
    tags,
    summary: 'Rotate a secret: replace its value',
    description:
      'The replicas of every adapter and tool that references the secret are restarted with the new value.',
    request: {
      params: NameParam,
      headers: ifMatchHeader,
      body: { required: true, content: jsonOf(SecretRotation) },
    },
    responses: {
      200: {
        description: 'The secret as stored, without its value',
        headers: etagHeader,
        content: jsonOf(SecretResource),
      },
      ...errors(400, 404, 412, 413, 415),
    },
  }),
  remove: createRoute({
    method: 'delete',
    path: ITEM,
    operationId: 'deleteSecret',
    tags,
    summary: 'Delete a secret',
    description:
      'Refused with 409 naming the users while an adapter or tool references the secret, unless `force=true`: then the references stay, and those resources cannot start new replicas until a secret of that name exists again.',
    request: { params: NameParam, headers: ifMatchHeader, query: SecretDeleteQuery },
    responses: { 204: { description: 'Deleted' }, ...errors(404, 409, 412) },
  }),
};

/** The API view: the value, the IV, the ciphertext and the key id all stay inside. */
const view = (row: StoredSecret, usedBy: readonly SecretUser[]): SecretResource => ({
  name: row.name,
  createdBy: row.createdBy,
  createdAt: row.createdAt.toISOString(),
  lastUpdatedAt: row.lastUpdatedAt.toISOString(),
  usedBy: usedBy.map((u) => ({ kind: u.kind, name: u.name })),
});

const what = (name: string) => `Secret '${name}'`;

/** Builds the `/secrets` router. */
export function createSecretRoutes(options: SecretRoutesOptions): OpenAPIHono<AppEnv> {
  const { store, cipher } = options;
  const usersOf = async (name: string) => (await secretUsers(store)).get(name) ?? [];
  const tellUsers = (users: readonly SecretUser[]) => {
    for (const user of users) options.onChange?.({ kind: user.kind, name: user.name });
  };
  const changed = options.onSecretWritten ?? (() => undefined);
  const router = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  const body = jsonBody({ maxBytes: options.bodyLimitBytes });
  router.use(COLLECTION, body);
  router.use(`${COLLECTION}/:name`, body);

  const settings = options.settings;
  if (settings) {
    router.openapi(routes.rekey, async (c) => {
      const { dryRun } = c.req.valid('json');
      const report = await rekeyRegistry(store, { secrets: cipher, settings }, { dryRun: dryRun === true });
      c.header('Cache-Control', 'no-store');
      return c.json({ ...report, unreadable: [...report.unreadable] }, 200);
    });
  }

  function respond<S extends 200 | 201>(
    c: Context<AppEnv>,
    row: StoredSecret,
    usedBy: readonly SecretUser[],
    status: S,
  ) {
    c.header('ETag', etagOf(row));
    c.header('Cache-Control', 'no-store');
    return c.json(view(row, usedBy), status);
  }

  async function load(name: string): Promise<StoredSecret> {
    const row = await store.getSecret(name);
    if (!row) throw notFound(`${what(name)} does not exist.`);
    return row;
  }

  router.openapi(routes.create, async (c) => {
    const { name, value } = c.req.valid('json');
    c.set('resourceName', name);
    try {
      const row = await store.createSecret(name, await cipher.seal(name, value), c.get('principal').userId);
      changed(name);
      c.header('Location', `${COLLECTION}/${encodeURIComponent(name)}`);
      // A reference to a missing secret is refused, so a new secret has users only after a force-delete.
      return respond(c, row, await usersOf(name), 201);
    } catch (err) {
      if (err instanceof ResourceExistsError)
        throw conflict(`${what(name)} already exists; PUT a new value to rotate it.`);
      throw err;
    }
  });

  router.openapi(routes.list, async (c) => {
    const { limit, cursor } = c.req.valid('query');
    const pageSize = limit ?? MAX_PAGE_SIZE;
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    // One row more than the page tells whether another page follows.
    const rows = await store.listSecrets({ limit: pageSize + 1, ...(after !== undefined && { after }) });
    const page = rows.slice(0, pageSize);
    const last = page.at(-1);
    if (rows.length > pageSize && last) {
      c.header('Link', `<${COLLECTION}?limit=${pageSize}&cursor=${encodeCursor(last.name)}>; rel="next"`);
    }
    c.header('Cache-Control', 'no-store');
    const users = page.length > 0 ? await secretUsers(store) : new Map<string, SecretUser[]>();
    return c.json(
      page.map((row) => view(row, users.get(row.name) ?? [])),
      200,
    );
  });

  router.openapi(routes.get, async (c) => {
    const row = await load(c.req.valid('param').name);
    if (ifNoneMatchHits(c.req.header('if-none-match'), row)) {
      c.header('ETag', etagOf(row));
      return c.body(null, 304);
    }
    return respond(c, row, await usersOf(row.name), 200);
  });

  router.openapi(routes.rotate, async (c) => {
    const { name } = c.req.valid('param');
    const data = c.req.valid('json');
    if (data.name !== undefined && data.name !== name) {
      throw badRequest(`name: '${data.name}' in the body does not match '${name}' in the URL.`, [
        { path: 'name', message: 'must match the name in the URL' },
      ]);
    }
    const sealed = await cipher.seal(name, data.value);
    const row = await replaceChecked({
      what: what(name),
      ifMatch: parseIfMatch(c.req.header('if-match')),
      load: () => load(name),
      write: (expectedVersion) => store.updateSecret(name, sealed, { expectedVersion }),
    });
    changed(name);
    const users = await usersOf(name);
    // Their replicas run with the old value; the deployers restart them with the new one.
    tellUsers(users);
    return respond(c, row, users, 200);
  });

  router.openapi(routes.remove, async (c) => {
    const { name } = c.req.valid('param');
    const force = c.req.valid('query').force === 'true';
    // Checked before the write rather than inside it: a reference made in between (it needs the secret to
    // exist when it is made) is the same dangling reference a force-delete leaves, and fails the same way.
    const users = await usersOf(name);
    if (users.length > 0 && !force) {
      throw conflict(
        `${what(name)} is used by ${describeUsers(users)}; remove those references first, or delete with ?force=true.`,
      );
    }
    await deleteChecked({
      what: what(name),
      ifMatch: parseIfMatch(c.req.header('if-match')),
      load: () => load(name),
      remove: (condition) => store.deleteSecret(name, condition),
    });
    changed(name);
    tellUsers(users);
    return c.body(null, 204);
  });

  return router;
}
