/**
 * @module fake-kube-api: a Kubernetes API server for tests, on 127.0.0.1 and an ephemeral port, serving the
 * real paths of the kinds the gateway uses (apps/v1 StatefulSets, v1 Services, Secrets, Pods and `pods/log`,
 * discovery.k8s.io/v1 EndpointSlices), with
 * resource versions, list + `?watch=true` streams resumable from a resource version (410 after compaction),
 * `Status` bodies, server-side apply with field managers, label selectors, and an audit of every
 * (verb, resource) the client used — the input of the RBAC test. A {@link FakeController} plays the
 * StatefulSet controller, the kubelet and the garbage collector; an {@link EndpointSliceController} keeps
 * every Service's EndpointSlices.
 */
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { serve } from '@hono/node-server';
import type { HttpBindings } from '@hono/node-server';
import { Hono } from 'hono';
import type { Context } from 'hono';
import { EndpointSliceController } from './endpoint-slice-controller.js';
import { FakeController } from './fake-controller.js';
import type { FakeControllerOptions } from './fake-controller.js';
import { LabelSelectorError, parseLabelSelector } from './label-selector.js';
import type { LabelSelector } from './label-selector.js';
import { KINDS, ObjectStore, StoreError, cloneJson } from './object-store.js';
import type { JsonObject, KubeObject, ObjectStoreOptions, Plural, StoreEvent } from './object-store.js';
import { recordUpdate, serverSideApply } from './server-side-apply.js';
import { findUnknownFields, validateObject } from './validation.js';
import type { Cause } from './validation.js';

/** One authorised request, as RBAC sees it. */
export interface AuditRecord {
  /** RBAC verb: get, list, watch, create, update, patch, delete, deletecollection. */
  readonly verb: string;
  /** API group (`""` for the core group). */
  readonly group: string;
  /** Resource, with the subresource after a slash (`pods/log`). */
  readonly resource: string;
  readonly namespace: string;
  readonly name?: string;
  /** Delete requests: the propagation policy asked for. */
  readonly propagationPolicy?: string;
  /** List and watch requests: the `resourceVersion` asked for (absent: none). */
  readonly resourceVersion?: string;
}

/** Options of {@link startFakeKubeApi}. */
export interface FakeKubeApiOptions extends ObjectStoreOptions, FakeControllerOptions {
  /** Bearer token every request must carry; default `fake-token`. */
  readonly token?: string;
  /** Reconcile a StatefulSet's pods as soon as it is written (default true); else call `controller.reconcile`. */
  readonly autoReconcile?: boolean;
}

/** How to end the open watch streams. */
export interface DropOptions {
  /** Destroy the TCP connection (a network failure) instead of ending the response (a server timeout). */
  readonly abrupt?: boolean;
}

/** A running fake API server. */
export interface FakeKubeApi {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly token: string;
  readonly store: ObjectStore;
  readonly controller: FakeController;
  /** Every resource request received, in order (discovery requests are not authorised by RBAC rules). */
  readonly requests: readonly AuditRecord[];
  /** Open watch streams. */
  openWatches(): number;
  /** Open `follow=true` log streams. */
  openLogFollows(): number;
  /** Ends every open watch stream. */
  dropWatches(options?: DropOptions): void;
  /** Sends a BOOKMARK with the current resource version to every watch that allowed bookmarks. */
  sendBookmarks(): void;
  /** Creates an object directly, as another client would (no audit record); its manager is `kubectl`. */
  seed(plural: Plural, namespace: string, object: KubeObject): KubeObject;
  /** Replaces an object directly as `manager` (an Update operation, e.g. `kubectl edit`), without an audit record. */
  updateAs(manager: string, plural: Plural, namespace: string, object: KubeObject): KubeObject;
  /** Stops the server, ending every stream. */
  close(): Promise<void>;
}

interface ActiveStream {
  readonly socket: Socket;
  readonly bookmarks: boolean;
  readonly kind?: { apiVersion: string; kind: string };
  send(event: JsonObject): void;
  end(): void;
}

type Env = { Bindings: HttpBindings };

function status(code: number, reason: string, message: string, details?: JsonObject): JsonObject {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

class HttpStatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: JsonObject,
  ) {
    super(message);
  }
}

function invalid(plural: Plural, name: string, causes: readonly Cause[]): HttpStatusError {
  const { kind, group } = KINDS[plural];
  return new HttpStatusError(
    422,
    'Invalid',
    `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${causes.map((c) => `${c.field ? `${c.field}: ` : ''}${c.message}`).join(', ')}`,
    {
      name,
      group,
      kind: plural,
      causes: causes.map((c) => ({ reason: 'FieldValueInvalid', message: c.message, field: c.field })),
    },
  );
}

function isPlural(group: string, plural: string): plural is Plural {
  return plural in KINDS && KINDS[plural as Plural].group === group;
}

function listOf(plural: Plural, items: KubeObject[], resourceVersion: string): JsonObject {
  return {
    apiVersion: KINDS[plural].apiVersion,
    kind: KINDS[plural].listKind,
    metadata: { resourceVersion },
    // Items of a typed list carry no kind/apiVersion of their own, as from the real server.
    items: items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest),
  };
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return cloneJson(patch);
  const out: JsonObject =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as JsonObject) }
      : {};
  for (const [key, value] of Object.entries(patch as JsonObject)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/** Starts a fake API server on 127.0.0.1 and an ephemeral port. */
export async function startFakeKubeApi(options: FakeKubeApiOptions = {}): Promise<FakeKubeApi> {
  const token = options.token ?? 'fake-token';
  const store = new ObjectStore(options);
  const controller = new FakeController(store, options);
  const sliceController = new EndpointSliceController(store);
  const autoReconcile = options.autoReconcile ?? true;
  const requests: AuditRecord[] = [];
  const streams = new Set<ActiveStream>();
  let nextClusterIp = 10;

  const audit = (record: AuditRecord): void => {
    requests.push(record);
  };

  const defaults = (plural: Plural, object: KubeObject): void => {
    const spec = (object['spec'] ??= {}) as JsonObject;
    if (plural === 'services') {
      spec['type'] ??= 'ClusterIP';
      if (spec['clusterIP'] === undefined && spec['type'] === 'ClusterIP') {
        spec['clusterIP'] = `10.96.${Math.floor(nextClusterIp / 250)}.${(nextClusterIp % 250) + 2}`;
        nextClusterIp += 1;
      }
      if (spec['clusterIP'] !== undefined) spec['clusterIPs'] ??= [spec['clusterIP']];
      spec['sessionAffinity'] ??= 'None';
      for (const port of (spec['ports'] ?? []) as JsonObject[]) {
        port['protocol'] ??= 'TCP';
        port['targetPort'] ??= port['port'];
      }
    }
    if (plural === 'statefulsets') {
      spec['podManagementPolicy'] ??= 'OrderedReady';
      spec['revisionHistoryLimit'] ??= 10;
      spec['updateStrategy'] ??= { type: 'RollingUpdate', rollingUpdate: { partition: 0 } };
    }
  };

  const afterWrite = (plural: Plural, namespace: string, name: string): void => {
    if (plural === 'statefulsets' && autoReconcile) controller.reconcile(namespace, name);
  };

  const parseBody = async (c: Context<Env>): Promise<unknown> => {
    const text = await c.req.text();
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // JSON is valid YAML and it is what @kubernetes/client-node sends; real YAML is not needed here.
      throw new HttpStatusError(
        400,
        'BadRequest',
        'this fake API server accepts only the JSON form of YAML bodies',
      );
    }
  };

  const checkKind = (plural: Plural, body: unknown, urlName?: string): KubeObject => {
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new HttpStatusError(400, 'BadRequest', 'the request body must be an object');
    const object = body as KubeObject;
    const { apiVersion, kind } = KINDS[plural];
    if (object.apiVersion !== apiVersion || object.kind !== kind)
      throw new HttpStatusError(
        400,
        'BadRequest',
        `the API version in the data (${String(object.apiVersion)}) and kind (${String(object.kind)}) do not match ${apiVersion} ${kind}`,
      );
    if (typeof object.metadata?.name !== 'string')
      throw new HttpStatusError(400, 'BadRequest', 'metadata.name is required');
    if (urlName !== undefined && object.metadata.name !== urlName)
      throw new HttpStatusError(
        400,
        'BadRequest',
        `the name of the object (${object.metadata.name}) does not match the name on the URL (${urlName})`,
      );
    return object;
  };

  const strict = (c: Context<Env>, plural: Plural, body: unknown): void => {
    if (c.req.query('fieldValidation') !== 'Strict') return;
    const unknown = findUnknownFields(plural, body);
    if (unknown.length > 0)
      throw new HttpStatusError(
        400,
        'BadRequest',
        `strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`,
      );
  };

  const validated = (plural: Plural, object: KubeObject, previous?: KubeObject): KubeObject => {
    defaults(plural, object);
    const causes = validateObject(plural, object, previous);
    if (causes.length > 0) throw invalid(plural, object.metadata.name, causes);
    return object;
  };

  const watch = (c: Context<Env>, plural: Plural, namespace: string, selector: LabelSelector): Response => {
    const fromParam = c.req.query('resourceVersion');
    const bookmarks = c.req.query('allowWatchBookmarks') === 'true';
    const timeoutSeconds = Number(c.req.query('timeoutSeconds') ?? '0');
    const encoder = new TextEncoder();
    let active: ActiveStream | undefined;
    let unsubscribe = (): void => undefined;
    let timer: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      unsubscribe();
      if (timer) clearTimeout(timer);
      if (active) streams.delete(active);
    };
    const body = new ReadableStream<Uint8Array>({
      start(sink) {
        let open = true;
        const stream: ActiveStream = {
          socket: c.env.incoming.socket,
          bookmarks,
          kind: { apiVersion: KINDS[plural].apiVersion, kind: KINDS[plural].kind },
          send(event) {
            if (open) sink.enqueue(encoder.encode(`${JSON.stringify(event)}\n`));
          },
          end() {
            if (!open) return;
            open = false;
            cleanup();
            sink.close();
          },
        };
        active = stream;
        streams.add(stream);
        const deliver = (e: StoreEvent): void => {
          if (e.plural !== plural || e.namespace !== namespace) return;
          const now = selector.matches(e.object.metadata.labels);
          const before = e.previous ? selector.matches(e.previous.metadata.labels) : false;
          let type: string | undefined;
          if (e.type === 'DELETED') type = now || before ? 'DELETED' : undefined;
          else if (e.type === 'ADDED') type = now ? 'ADDED' : undefined;
          else type = now && before ? 'MODIFIED' : now ? 'ADDED' : before ? 'DELETED' : undefined;
          if (type) stream.send({ type, object: e.object });
        };
        if (fromParam === undefined || fromParam === '' || fromParam === '0') {
          for (const object of store.list(plural, namespace, selector))
            stream.send({ type: 'ADDED', object });
        } else {
          const events = store.eventsSince(Number(fromParam));
          if (events === 'expired') {
            stream.send({
              type: 'ERROR',
              object: status(
                410,
                'Expired',
                `too old resource version: ${fromParam} (${store.resourceVersion})`,
              ),
            });
            stream.end();
            return;
          }
          events.forEach(deliver);
        }
        unsubscribe = store.subscribe(deliver);
        if (timeoutSeconds > 0) timer = setTimeout(() => stream.end(), timeoutSeconds * 1000);
      },
      cancel() {
        cleanup();
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
  };

  const logs = (c: Context<Env>, namespace: string, name: string): Response => {
    audit({ verb: 'get', group: '', resource: 'pods/log', namespace, name });
    const pod = store.get('pods', namespace, name);
    if (!pod) throw new StoreError(404, 'NotFound', `pods "${name}" not found`);
    const containers = ((pod['spec'] as JsonObject)['containers'] ?? []) as JsonObject[];
    const container =
      c.req.query('container') ?? (containers.length === 1 ? String(containers[0]?.['name']) : '');
    if (!containers.some((k) => k['name'] === container))
      throw new HttpStatusError(400, 'BadRequest', `container ${container} is not valid for pod ${name}`);
    const statuses = ((pod['status'] as JsonObject)['containerStatuses'] ?? []) as JsonObject[];
    const state = statuses.find((s) => s['name'] === container)?.['state'] as JsonObject | undefined;
    const waiting = state?.['waiting'] as JsonObject | undefined;
    if (waiting && waiting['reason'] !== 'CrashLoopBackOff')
      throw new HttpStatusError(
        400,
        'BadRequest',
        `container "${container}" in pod "${name}" is waiting to start: ${String(waiting['reason'])}`,
      );
    const tail = c.req.query('tailLines');
    const lines = controller.logOf(namespace, name);
    const shown = tail === undefined ? lines : lines.slice(-Number(tail));
    const text = shown.map((l) => `${l}\n`).join('');
    if (c.req.query('follow') !== 'true') return c.text(text, 200);
    const encoder = new TextEncoder();
    let stop = (): void => undefined;
    const body = new ReadableStream<Uint8Array>({
      start(sink) {
        let open = true;
        const stream: ActiveStream = {
          socket: c.env.incoming.socket,
          bookmarks: false,
          send: () => undefined,
          end() {
            if (!open) return;
            open = false;
            stop();
            streams.delete(stream);
            sink.close();
          },
        };
        streams.add(stream);
        if (text) sink.enqueue(encoder.encode(text));
        const unfollow = controller.followLog(namespace, name, (chunk) => {
          if (chunk === null) stream.end();
          else if (open) sink.enqueue(encoder.encode(chunk));
        });
        stop = () => {
          unfollow();
          streams.delete(stream);
        };
      },
      cancel() {
        stop();
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'text/plain' } });
  };

  const collection = async (c: Context<Env>, group: string): Promise<Response> => {
    const { namespace = '', plural = '' } = c.req.param();
    if (!isPlural(group, plural))
      throw new HttpStatusError(404, 'NotFound', 'the server could not find the requested resource');
    if (c.req.method === 'GET') {
      let selector: LabelSelector;
      try {
        selector = parseLabelSelector(c.req.query('labelSelector'));
      } catch (err) {
        if (err instanceof LabelSelectorError) throw new HttpStatusError(400, 'BadRequest', err.message);
        throw err;
      }
      if (c.req.query('fieldSelector'))
        throw new HttpStatusError(400, 'BadRequest', 'field selectors are not supported by this fake');
      const resourceVersion = c.req.query('resourceVersion');
      const asked = resourceVersion !== undefined ? { resourceVersion } : {};
      if (c.req.query('watch') === 'true' || c.req.query('watch') === '1') {
        audit({ verb: 'watch', group, resource: plural, namespace, ...asked });
        return watch(c, plural, namespace, selector);
      }
      audit({ verb: 'list', group, resource: plural, namespace, ...asked });
      return c.json(listOf(plural, store.list(plural, namespace, selector), store.resourceVersion));
    }
    if (c.req.method === 'POST') {
      audit({ verb: 'create', group, resource: plural, namespace });
      const body = await parseBody(c);
      strict(c, plural, body);
      const object = checkKind(plural, body);
      const manager = c.req.query('fieldManager') ?? 'unknown';
      const created = store.create(
        plural,
        namespace,
        recordUpdate(undefined, validated(plural, object), manager, store.now()),
      );
      afterWrite(plural, namespace, created.metadata.name);
      return c.json(store.get(plural, namespace, created.metadata.name) ?? created, 201);
    }
    throw new HttpStatusError(
      405,
      'MethodNotAllowed',
      `${c.req.method} is not supported on a collection here`,
    );
  };

  const item = async (c: Context<Env>, group: string): Promise<Response> => {
    const { namespace = '', plural = '', name = '' } = c.req.param();
    if (!isPlural(group, plural))
      throw new HttpStatusError(404, 'NotFound', 'the server could not find the requested resource');
    const live = store.get(plural, namespace, name);
    switch (c.req.method) {
      case 'GET': {
        audit({ verb: 'get', group, resource: plural, namespace, name });
        if (!live) throw notFound(plural, name);
        return c.json(live);
      }
      case 'PATCH': {
        audit({ verb: 'patch', group, resource: plural, namespace, name });
        const contentType = (c.req.header('content-type') ?? '').split(';')[0]?.trim();
        const body = await parseBody(c);
        if (contentType === 'application/apply-patch+yaml') {
          if (!live) audit({ verb: 'create', group, resource: plural, namespace, name });
          return apply(c, plural, namespace, name, live, body);
        }
        if (contentType === 'application/merge-patch+json') {
          if (!live) throw notFound(plural, name);
          strict(c, plural, body);
          const next = mergePatch(live, body) as KubeObject;
          const manager = c.req.query('fieldManager') ?? 'unknown';
          const stored = store.update(
            plural,
            namespace,
            recordUpdate(live, validated(plural, next, live), manager, store.now()),
          );
          afterWrite(plural, namespace, name);
          return c.json(store.get(plural, namespace, name) ?? stored);
        }
        throw new HttpStatusError(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unsupported format by this fake: ${String(contentType)}`,
        );
      }
      case 'PUT': {
        audit({ verb: 'update', group, resource: plural, namespace, name });
        if (!live) throw notFound(plural, name);
        const body = await parseBody(c);
        strict(c, plural, body);
        const object = checkKind(plural, body, name);
        const manager = c.req.query('fieldManager') ?? 'unknown';
        const next = recordUpdate(live, validated(plural, object, live), manager, store.now());
        const stored = store.update(plural, namespace, next, object.metadata.resourceVersion);
        afterWrite(plural, namespace, name);
        return c.json(stored);
      }
      case 'DELETE': {
        const body = ((await parseBody(c)) ?? {}) as JsonObject;
        const policy = String(c.req.query('propagationPolicy') ?? body['propagationPolicy'] ?? 'Background');
        audit({ verb: 'delete', group, resource: plural, namespace, name, propagationPolicy: policy });
        if (!live) throw notFound(plural, name);
        const preconditions = (body['preconditions'] ?? {}) as JsonObject;
        if (preconditions['uid'] !== undefined && preconditions['uid'] !== live.metadata.uid)
          throw new HttpStatusError(
            409,
            'Conflict',
            `Precondition failed: UID in precondition: ${String(preconditions['uid'])}, UID in object meta: ${String(live.metadata.uid)}`,
          );
        if (
          preconditions['resourceVersion'] !== undefined &&
          preconditions['resourceVersion'] !== live.metadata.resourceVersion
        )
          throw new HttpStatusError(409, 'Conflict', 'Precondition failed: resourceVersion does not match');
        // The garbage collector of the fake is instantaneous, so Foreground and Background differ only in
        // the audit record; Orphan leaves the pods and drops their owner reference.
        if (plural === 'statefulsets' && policy !== 'Orphan')
          controller.collectGarbage(namespace, live.metadata.uid);
        if (plural === 'statefulsets' && policy === 'Orphan') {
          for (const pod of store.list('pods', namespace)) {
            if (!pod.metadata.ownerReferences?.some((r) => r.uid === live.metadata.uid)) continue;
            pod.metadata.ownerReferences = pod.metadata.ownerReferences.filter(
              (r) => r.uid !== live.metadata.uid,
            );
            store.update('pods', namespace, pod);
          }
        }
        store.delete(plural, namespace, name);
        return c.json({
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Success',
          details: { name, group, kind: plural, uid: live.metadata.uid },
        });
      }
      default:
        throw new HttpStatusError(405, 'MethodNotAllowed', `${c.req.method} is not supported here`);
    }
  };

  const apply = (
    c: Context<Env>,
    plural: Plural,
    namespace: string,
    name: string,
    live: KubeObject | undefined,
    body: unknown,
  ): Response => {
    const manager = c.req.query('fieldManager');
    if (!manager)
      throw new HttpStatusError(
        422,
        'Invalid',
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
      );
    strict(c, plural, body);
    const config = checkKind(plural, body, name);
    const precondition = config.metadata.resourceVersion;
    if (precondition !== undefined && precondition !== live?.metadata.resourceVersion)
      throw new HttpStatusError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    const force = c.req.query('force') === 'true';
    const outcome = serverSideApply(live, config, manager, force, store.now());
    if ('conflicts' in outcome) {
      const list = outcome.conflicts.map((k) => `conflict with "${k.manager}": ${k.field}`);
      throw new HttpStatusError(
        409,
        'Conflict',
        `Apply failed with ${list.length} conflict(s): ${list.join('; ')}`,
        {
          name,
          group: KINDS[plural].group,
          kind: plural,
          causes: outcome.conflicts.map((k) => ({
            reason: 'FieldManagerConflict',
            message: `conflict with "${k.manager}"`,
            field: k.field,
          })),
        },
      );
    }
    const object = validated(plural, outcome.object, live);
    const stored = live ? store.update(plural, namespace, object) : store.create(plural, namespace, object);
    afterWrite(plural, namespace, name);
    return c.json(store.get(plural, namespace, name) ?? stored, live ? 200 : 201);
  };

  const app = new Hono<Env>();
  app.use('*', async (c, next) => {
    if (c.req.header('authorization') !== `Bearer ${token}`)
      return c.json(status(401, 'Unauthorized', 'Unauthorized'), 401);
    return next();
  });
  app.get('/version', (c) => c.json({ major: '1', minor: '33', gitVersion: 'v1.33.0-fake' }));
  app.get('/api', (c) => c.json({ kind: 'APIVersions', versions: ['v1'] }));
  app.get('/apis', (c) =>
    c.json({
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [
        { name: 'apps', versions: [{ groupVersion: 'apps/v1', version: 'v1' }] },
        { name: 'discovery.k8s.io', versions: [{ groupVersion: 'discovery.k8s.io/v1', version: 'v1' }] },
      ],
    }),
  );
  app.get('/api/v1/namespaces/:namespace/pods/:name/log', (c) =>
    logs(c, c.req.param('namespace'), c.req.param('name')),
  );
  app.all('/api/v1/namespaces/:namespace/:plural', (c) => collection(c, ''));
  app.all('/api/v1/namespaces/:namespace/:plural/:name', (c) => item(c, ''));
  app.all('/apis/apps/v1/namespaces/:namespace/:plural', (c) => collection(c, 'apps'));
  app.all('/apis/apps/v1/namespaces/:namespace/:plural/:name', (c) => item(c, 'apps'));
  app.all('/apis/discovery.k8s.io/v1/namespaces/:namespace/:plural', (c) =>
    collection(c, 'discovery.k8s.io'),
  );
  app.all('/apis/discovery.k8s.io/v1/namespaces/:namespace/:plural/:name', (c) =>
    item(c, 'discovery.k8s.io'),
  );
  app.notFound((c) =>
    c.json(status(404, 'NotFound', 'the server could not find the requested resource'), 404),
  );
  app.onError((err, c) => {
    if (err instanceof HttpStatusError)
      return c.json(status(err.code, err.reason, err.message, err.details), err.code as 400);
    if (err instanceof StoreError) return c.json(status(err.code, err.reason, err.message), err.code);
    return c.json(status(500, 'InternalError', err instanceof Error ? err.message : String(err)), 500);
  });

  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    store,
    controller,
    requests,
    openWatches: () => [...streams].filter((s) => s.kind).length,
    openLogFollows: () => [...streams].filter((s) => !s.kind).length,
    dropWatches(drop = {}) {
      for (const stream of [...streams]) {
        if (!stream.kind) continue;
        if (drop.abrupt) {
          streams.delete(stream);
          stream.socket.destroy();
        } else {
          stream.end();
        }
      }
    },
    sendBookmarks() {
      for (const stream of streams) {
        if (!stream.kind || !stream.bookmarks) continue;
        stream.send({
          type: 'BOOKMARK',
          object: { ...stream.kind, metadata: { resourceVersion: store.resourceVersion } },
        });
      }
    },
    seed(plural, namespace, object) {
      const seeded = cloneJson(object);
      defaults(plural, seeded);
      const created = store.create(
        plural,
        namespace,
        recordUpdate(undefined, seeded, 'kubectl', store.now()),
      );
      afterWrite(plural, namespace, created.metadata.name);
      return store.get(plural, namespace, created.metadata.name) ?? created;
    },
    updateAs(manager, plural, namespace, object) {
      const live = store.get(plural, namespace, object.metadata.name);
      const next = recordUpdate(live, validated(plural, cloneJson(object), live), manager, store.now());
      store.update(plural, namespace, next);
      afterWrite(plural, namespace, object.metadata.name);
      return store.get(plural, namespace, object.metadata.name) ?? next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        sliceController.stop();
        for (const stream of [...streams]) stream.end();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function notFound(plural: Plural, name: string): StoreError {
  const group = KINDS[plural].group;
  return new StoreError(404, 'NotFound', `${plural}${group ? `.${group}` : ''} "${name}" not found`);
}
