/**
 * @module api-client: the control-plane API as the CLI uses it, over `fetch`, typed by the OpenAPI client types in
 * `generated/` (type imports only: nothing of them is compiled into the build). Every failure becomes one of the
 * CLI's errors: an {@link ApiError} with the server's own `{error:{code,message}}`, or an
 * {@link UnreachableError} when nothing answers.
 */
import type { components, paths } from '../../generated/api-client/schema.js';
import { ApiError, UnreachableError } from './errors.js';

type Schemas = components['schemas'];
type JsonBody<T> = T extends { content: { 'application/json': infer B } } ? B : never;

/** The collections the CLI manages. */
export type Kind = 'adapters' | 'tools' | 'toolsets' | 'secrets';
/** The collections with a runtime (status, logs). */
export type RuntimeKind = 'adapters' | 'tools';
/** The collections a configuration file lists (apply, export). */
export type FileKind = RuntimeKind | 'toolsets';

/** What a collection stores (the GET view) and what it takes (the POST/PUT body). */
export interface KindTypes {
  adapters: {
    resource: JsonBody<paths['/adapters/{name}']['get']['responses'][200]>;
    create: JsonBody<paths['/adapters']['post']['requestBody']>;
    update: JsonBody<paths['/adapters/{name}']['put']['requestBody']>;
  };
  tools: {
    resource: JsonBody<paths['/tools/{name}']['get']['responses'][200]>;
    create: JsonBody<paths['/tools']['post']['requestBody']>;
    update: JsonBody<paths['/tools/{name}']['put']['requestBody']>;
  };
  toolsets: {
    resource: JsonBody<paths['/toolsets/{name}']['get']['responses'][200]>;
    create: JsonBody<paths['/toolsets']['post']['requestBody']>;
    update: JsonBody<paths['/toolsets/{name}']['put']['requestBody']>;
  };
  secrets: {
    resource: JsonBody<paths['/secrets/{name}']['get']['responses'][200]>;
    create: JsonBody<paths['/secrets']['post']['requestBody']>;
    update: JsonBody<paths['/secrets/{name}']['put']['requestBody']>;
  };
}

export type AdapterResource = Schemas['AdapterResource'];
export type ToolResource = Schemas['ToolResource'];
export type AdapterStatus = JsonBody<paths['/adapters/{name}/status']['get']['responses'][200]>;
type ErrorBody = Schemas['Error'];
export type SecretRekeyReport = Schemas['SecretRekeyReport'];
type LogsQuery = NonNullable<paths['/adapters/{name}/logs']['get']['parameters']['query']>;

/** A resource with the entity tag it was read or written with. */
export interface Tagged<T> {
  readonly body: T;
  readonly etag: string | undefined;
}

/** Where the gateway is and how to authenticate. */
export interface ApiClientOptions {
  readonly url: string;
  /** Sent as `Authorization: Bearer …`; never printed. */
  readonly token?: string | undefined;
  readonly fetch?: typeof fetch;
  /** Aborts every request (Ctrl-C). */
  readonly signal?: AbortSignal | undefined;
}

/** The control plane's operations. */
export interface ApiClient {
  list<K extends Kind>(kind: K): Promise<KindTypes[K]['resource'][]>;
  get<K extends Kind>(kind: K, name: string): Promise<Tagged<KindTypes[K]['resource']>>;
  create<K extends Kind>(kind: K, body: KindTypes[K]['create']): Promise<Tagged<KindTypes[K]['resource']>>;
  update<K extends Kind>(
    kind: K,
    name: string,
    body: KindTypes[K]['update'],
    ifMatch: string | undefined,
  ): Promise<Tagged<KindTypes[K]['resource']>>;
  /** `force` (secrets only): delete even while adapters or tools reference it. */
  remove(kind: Kind, name: string, ifMatch?: string, force?: boolean): Promise<void>;
  /** The JSON Schema of the configuration file, or undefined from a gateway that does not serve one. */
  fileSchema(): Promise<Record<string, unknown> | undefined>;
  /** `POST /secrets/rekey`: re-seals every stored value under the current gateway secret (or, dry, counts). */
  rekeySecrets(dryRun: boolean): Promise<SecretRekeyReport>;
  status(kind: RuntimeKind, name: string): Promise<AdapterStatus>;
  /** The log text as a stream (it stays open with `follow` until the server ends it or `signal` aborts). */
  logs(
    kind: RuntimeKind,
    name: string,
    query: LogsQuery,
    signal?: AbortSignal,
  ): Promise<ReadableStream<Uint8Array>>;
}

const segment = (name: string) => encodeURIComponent(name);

/** The `rel="next"` target of a `Link` header, if any. */
export function nextLink(link: string | null): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (match && /(^|;)\s*rel="?next"?\s*(;|$)/.test(match[2]!)) return match[1];
  }
  return undefined;
}

/** Why a fetch failed before any answer, in the words of the underlying error (ECONNREFUSED, ENOTFOUND, …). */
function unreachable(base: string, err: unknown): UnreachableError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const reason = cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
  return new UnreachableError(
    `cannot reach the gateway at ${base}: ${reason} (set --url or MCP_GATEWAY_URL)`,
  );
}

async function apiError(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const { error } = JSON.parse(text) as ErrorBody;
    if (typeof error?.message === 'string') return new ApiError(res.status, error.code, error.message);
  } catch {
    // Not the gateway's JSON error (a proxy in between, or not a gateway at all): say what came back.
  }
  const excerpt = text.trim().slice(0, 200);
  return new ApiError(res.status, 'http_error', `HTTP ${res.status}${excerpt ? `: ${excerpt}` : ''}`);
}

/** A client of the gateway at `options.url`. */
export function createApiClient(options: ApiClientOptions): ApiClient {
  const base = options.url.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;

  async function send(
    path: string,
    init: { method?: string; body?: unknown; ifMatch?: string | undefined; signal?: AbortSignal } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    if (init.ifMatch !== undefined) headers['if-match'] = init.ifMatch;
    let res: Response;
    try {
      res = await doFetch(new URL(path, `${base}/`), {
        method: init.method ?? 'GET',
        headers,
        ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
        ...((init.signal ?? options.signal) && { signal: init.signal ?? options.signal }),
      });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw unreachable(base, err);
    }
    if (!res.ok) throw await apiError(res);
    return res;
  }

  const tagged = async <T>(res: Response): Promise<Tagged<T>> => ({
    body: (await res.json()) as T,
    etag: res.headers.get('etag') ?? undefined,
  });

  return {
    async list(kind) {
      const items = [];
      let next: string | undefined = `${kind}?limit=1000`;
      while (next !== undefined) {
        const res = await send(next);
        items.push(...((await res.json()) as KindTypes[typeof kind]['resource'][]));
        const link = nextLink(res.headers.get('link'));
        // The Link target is absolute or relative to the collection; either resolves against the base.
        next = link === undefined ? undefined : new URL(link, `${base}/`).href;
      }
      return items;
    },
    async get(kind, name) {
      return tagged(await send(`${kind}/${segment(name)}`));
    },
    async create(kind, body) {
      return tagged(await send(kind, { method: 'POST', body }));
    },
    async update(kind, name, body, ifMatch) {
      return tagged(await send(`${kind}/${segment(name)}`, { method: 'PUT', body, ifMatch }));
    },
    async remove(kind, name, ifMatch, force) {
      await send(`${kind}/${segment(name)}${force ? '?force=true' : ''}`, { method: 'DELETE', ifMatch });
    },
    async rekeySecrets(dryRun) {
      const res = await send('secrets/rekey', { method: 'POST', body: dryRun ? { dryRun: true } : {} });
      return (await res.json()) as SecretRekeyReport;
    },
    async fileSchema() {
      try {
        return (await (await send('schemas/gateway.json')).json()) as Record<string, unknown>;
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return undefined;
        throw err;
      }
    },
    async status(kind, name) {
      return (await send(`${kind}/${segment(name)}/status`)).json() as Promise<AdapterStatus>;
    },
    async logs(kind, name, query, signal) {
      const search = new URLSearchParams();
      if (query.instance !== undefined) search.set('instance', String(query.instance));
      if (query.tail !== undefined) search.set('tail', String(query.tail));
      if (query.follow) search.set('follow', 'true');
      const qs = search.size > 0 ? `?${search}` : '';
      const res = await send(`${kind}/${segment(name)}/logs${qs}`, signal ? { signal } : {});
      return res.body ?? new ReadableStream({ start: (c) => c.close() });
    },
  };
}
