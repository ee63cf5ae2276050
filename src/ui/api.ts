/**
 * @module api: the control-plane calls the console makes, same-origin `fetch` typed by the OpenAPI client types
 * in `generated/` (type imports only). A failed call throws an {@link ApiError} that carries the gateway's own
 * `{ error: { code, message, details } }`, so pages show the API's validation messages exactly as it words them.
 */
import type { components, paths } from '../../generated/api-client/schema.js';
import { authHeaders, signOut, signedIn } from './auth.js';

type Schemas = components['schemas'];

export type AdapterResource = Schemas['AdapterResource'];
export type ToolResource = Schemas['ToolResource'];
export type SecretResource = Schemas['SecretResource'];
export type ResourceStatus = Schemas['AdapterStatus'];
export type ReplicaStatus = ResourceStatus['replicas'][number];
/** One of the caller's per-user OAuth grants (never a token). */
export type Connection = Schemas['Connection'];
type ErrorBody = Schemas['Error'];
/** A path of the API, checked against the OpenAPI document at compile time. */
type ApiPath = keyof paths;

/** The two collections with a runtime. */
export type Kind = 'adapters' | 'tools';
/** A registered adapter or tool, as the list and detail pages use it. */
export type Resource = AdapterResource | ToolResource;

/** What the gateway answered when it refused a call. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: readonly { path: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function failure(res: Response): Promise<ApiError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as Partial<ErrorBody>;
    if (body.error) return new ApiError(res.status, body.error.code, body.error.message, body.error.details);
  } catch {
    // Not the gateway's JSON (a proxy's page): the status line is all there is to show.
  }
  return new ApiError(res.status, 'http_error', `${res.status} ${res.statusText || 'error'}`.trim());
}

/** One call; resolves with the response when it is a success. */
export async function call(path: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(path, {
    ...init,
    headers: {
      accept: 'application/json',
      ...(init.body ? { 'content-type': 'application/json' } : {}),
      ...authHeaders(),
      ...init.headers,
    },
  });
  // The token ran out: back to the sign-in page rather than an error on every panel.
  if (res.status === 401 && signedIn()) signOut();
  if (!res.ok) throw await failure(res);
  return res;
}

async function json<T>(path: string, init?: RequestInit): Promise<T> {
  return (await (await call(path, init)).json()) as T;
}

const at = (kind: Kind | 'secrets', name: string) => `/${kind}/${encodeURIComponent(name)}`;

/** Every item of a collection, following `Link: rel="next"` pages. */
async function listAll<T>(path: ApiPath): Promise<T[]> {
  const items: T[] = [];
  let next: string | undefined = path;
  while (next) {
    const res = await call(next);
    items.push(...((await res.json()) as T[]));
    next = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
  }
  return items;
}

export const listResources = (kind: Kind) => listAll<Resource>(kind === 'adapters' ? '/adapters' : '/tools');

/** The resource and its ETag, which an edit sends back as `If-Match`. */
export async function getResource(
  kind: Kind,
  name: string,
): Promise<{ resource: Resource; etag: string | null }> {
  const res = await call(at(kind, name));
  return { resource: (await res.json()) as Resource, etag: res.headers.get('etag') };
}

export const getStatus = (kind: Kind, name: string) => json<ResourceStatus>(`${at(kind, name)}/status`);

export const createResource = (kind: Kind, body: unknown) =>
  json<Resource>(`/${kind}`, { method: 'POST', body: JSON.stringify(body) });

export const updateResource = (kind: Kind, name: string, body: unknown, etag: string | null) =>
  json<Resource>(at(kind, name), {
    method: 'PUT',
    body: JSON.stringify(body),
    headers: etag ? { 'if-match': etag } : {},
  });

export async function deleteResource(kind: Kind | 'secrets', name: string): Promise<void> {
  await call(at(kind, name), { method: 'DELETE' });
}

/** The log URL of one replica; `follow` keeps the answer open and streams new lines. */
export const logsUrl = (kind: Kind, name: string, instance: number, follow: boolean) =>
  `${at(kind, name)}/logs?instance=${instance}&tail=500${follow ? '&follow=true' : ''}`;

export const listSecrets = () => listAll<SecretResource>('/secrets');

export const createSecret = (name: string, value: string) =>
  json<SecretResource>('/secrets', { method: 'POST', body: JSON.stringify({ name, value }) });

export const rotateSecret = (name: string, value: string) =>
  json<SecretResource>(at('secrets', name), { method: 'PUT', body: JSON.stringify({ value }) });

/** The caller's own OAuth grants for `oauth-user` adapters (one array, not paged). */
export const listConnections = () => json<Connection[]>('/connections');

/** Disconnects: the gateway deletes the grant and revokes it at the upstream. */
export async function deleteConnection(adapter: string): Promise<void> {
  await call(`/connections/${encodeURIComponent(adapter)}`, { method: 'DELETE' });
}

/** Where a browser starts connecting an `oauth-user` adapter (a top-level navigation, not a `fetch`). */
export const connectUrl = (adapter: string) => `/connect/${encodeURIComponent(adapter)}`;

/**
 * Starts connecting with the console's token (`POST /connect/{adapter}`): the gateway sets the cookie that binds
 * the flow to this browser on the answer and names the upstream's authorization URL, where the tab goes next.
 */
export async function startConnection(adapter: string): Promise<string> {
  const { authorizationUrl } = await json<{ authorizationUrl: string }>(connectUrl(adapter), {
    method: 'POST',
    credentials: 'same-origin',
  });
  return authorizationUrl;
}

/** True for an adapter whose upstream signs each caller in (`upstreamAuth.type` `oauth-user`). */
export const isOAuthUser = (resource: Resource): boolean => resource.upstreamAuth?.type === 'oauth-user';
