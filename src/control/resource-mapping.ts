/**
 * @module resource-mapping: request body → stored spec (with the cross-field rules zod cannot express per
 * field) and stored row → API resource, in the reference's field order.
 */
import type { AdapterSpec, CommonSpec, Registered, ToolSpec, UpstreamAuthSpec } from '../registry/index.js';
import { badRequest } from '../http/index.js';
import type { ErrorDetail } from '../http/index.js';
import type { AdapterData, AdapterResource, ToolData, ToolResource } from './schemas.js';
import type { UpstreamAuth } from './upstream-auth-schemas.js';

/** Defaults where an image or process serves, as the issue and the reference's Service port define them. */
export const DEFAULT_PORT = 8000;
export const DEFAULT_ADAPTER_PATH = '/mcp';
export const DEFAULT_TOOL_PATH = '/score';
export const DEFAULT_TRANSPORT = 'stdio';
/** Where 2024-11-05 HTTP+SSE servers serve their SSE stream (the SDK's examples, `mcp-proxy`). */
export const DEFAULT_SSE_PATH = '/sse';

type Data = AdapterData | ToolData;

const RUNTIME_HINT = 'give exactly one runtime: imageName + imageVersion, command (+ args), or endpoints';

const NO_RUNTIME =
  'no runtime: one of imageName (with imageVersion), command (with args) or endpoints is required';

const ENDPOINT_CARRIES_ADDRESS =
  'applies only to the image and command runtimes; an endpoint URL carries its own port and path';

/** Why the data does not name exactly one runtime, or undefined when it does (nothing else is checked then). */
function runtimeChoiceProblem(data: Data): ErrorDetail | undefined {
  const chosen = [
    (data.imageName !== undefined || data.imageVersion !== undefined) && 'imageName',
    data.command !== undefined && 'command',
    data.endpoints && 'endpoints',
  ].filter((x): x is string => typeof x === 'string');
  // The resource as a whole lacks a runtime: naming one of the fields would send the caller to fix an image.
  if (chosen.length === 0) return { path: '(body)', message: NO_RUNTIME };
  if (chosen.length > 1)
    return { path: chosen[1]!, message: `cannot be combined with ${chosen[0]}: ${RUNTIME_HINT}` };
  return undefined;
}

/** Cross-field problems every kind shares, once the data names exactly one runtime. */
function sharedProblems(data: Data): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const image = data.imageName !== undefined || data.imageVersion !== undefined;
  if (image && data.imageName === undefined)
    problems.push({ path: 'imageName', message: 'is required with imageVersion' });
  if (image && data.imageVersion === undefined)
    problems.push({ path: 'imageVersion', message: 'is required with imageName' });
  if (data.args !== undefined && data.command === undefined) {
    problems.push({ path: 'args', message: 'applies only with command' });
  }
  if (data.endpoints && Object.keys(data.secretEnvironmentVariables ?? {}).length > 0) {
    // A reference that reaches no process would still block deleting the secret and show in its usedBy.
    problems.push({
      path: 'secretEnvironmentVariables',
      message:
        'applies only to the image and command runtimes; a server at an endpoint URL gets no environment',
    });
  }
  for (const name of Object.keys(data.secretEnvironmentVariables ?? {})) {
    if (Object.hasOwn(data.environmentVariables ?? {}, name)) {
      problems.push({
        path: `secretEnvironmentVariables.${name}`,
        message:
          'is also in environmentVariables; a variable takes its value from one of the two maps, not both',
      });
    }
  }
  // The default `resource` of a token exchange is the upstream URL, which only the endpoints runtime names.
  const auth = data.upstreamAuth;
  if (auth?.type === 'token-exchange' && auth.audience === undefined && auth.resource === undefined) {
    if (!data.endpoints?.length)
      problems.push({
        path: 'upstreamAuth.audience',
        message:
          'or upstreamAuth.resource is required: without endpoints there is no upstream URL to ask the token for',
      });
  }
  if (data.endpoints && data.replicaCount !== undefined && data.replicaCount !== data.endpoints.length) {
    problems.push({
      path: 'replicaCount',
      message: `must equal the number of endpoints (${data.endpoints.length}) or be left out: each endpoint is a replica`,
    });
  }
  return problems;
}

/** The runtime problems of an adapter body: the shared ones, then those of its adapter-only fields. */
function adapterProblems(data: AdapterData): ErrorDetail[] {
  const choice = runtimeChoiceProblem(data);
  if (choice) return [choice];
  const problems = sharedProblems(data);
  // Only `sse` describes a server reached over the network; `stdio` and `streamable-http` pick a process's wiring.
  if (data.transport !== undefined && data.transport !== 'sse' && data.command === undefined) {
    problems.push({
      path: 'transport',
      message: `"${data.transport}" applies only with command; endpoints and images take "sse" or nothing (Streamable HTTP)`,
    });
  }
  // The tool router connects to a federated adapter's replicas itself, with a Streamable HTTP client.
  if (data.federate && data.transport === 'sse') {
    problems.push({
      path: 'federate',
      message:
        'is not available with transport "sse" yet: the tool router reaches adapters over Streamable HTTP only (the adapter itself works at /adapters/{name}/mcp)',
    });
  }
  // Warm processes are the stdio bridge's: only a command adapter speaking stdio has one.
  if (
    data.warmSessions !== undefined &&
    (data.command === undefined || (data.transport ?? DEFAULT_TRANSPORT) !== 'stdio')
  ) {
    problems.push({
      path: 'warmSessions',
      message: 'applies only to command adapters with transport "stdio"',
    });
  }
  if (
    data.warmSessions !== undefined &&
    data.maxSessionsPerReplica !== undefined &&
    data.warmSessions > data.maxSessionsPerReplica
  ) {
    problems.push({ path: 'warmSessions', message: 'must not exceed maxSessionsPerReplica' });
  }
  if (data.network !== undefined && data.command === undefined) {
    problems.push({ path: 'network', message: 'applies only with command' });
  }
  // The gateway reaches a streamable-http server on its loopback port, which a private network would hide.
  if (data.network === 'none' && (data.transport ?? DEFAULT_TRANSPORT) !== 'stdio') {
    problems.push({
      path: 'network',
      message:
        '"none" needs transport "stdio": the gateway could not reach an HTTP server (streamable-http or sse) without network',
    });
  }
  // The per-user grant is for a hosted server the gateway reaches at a URL, with its own authorization server.
  if (data.upstreamAuth?.type === 'oauth-user' && !data.endpoints) {
    problems.push({
      path: 'upstreamAuth.type',
      message: '"oauth-user" applies only to adapters with endpoints',
    });
  }
  // An sse session's stream outlives the caller token it was opened with, as it does a per-user token.
  if (data.upstreamAuth?.type === 'token-exchange' && data.transport === 'sse') {
    problems.push({
      path: 'upstreamAuth.type',
      message:
        '"token-exchange" is not available with transport "sse": exchanged tokens are sent per request to Streamable HTTP upstreams only',
    });
  }
  // An sse session's GET stream is opened once with the token of its initialize and outlives it; a refused or
  // refreshed per-user token could not be swapped in under it, so the combination is refused until it can.
  if (data.upstreamAuth?.type === 'oauth-user' && data.transport === 'sse') {
    problems.push({
      path: 'upstreamAuth.type',
      message:
        '"oauth-user" is not available with transport "sse" yet: per-user tokens are renewed for Streamable HTTP upstreams only',
    });
  }
  // Scaling on demand is built for local processes only: a Kubernetes StatefulSet or a remote URL always runs
  // `replicaCount` replicas, so a smaller minimum would be a promise nobody keeps.
  for (const field of ['minReplicas', 'idleSeconds'] as const) {
    if (data[field] !== undefined && data.command === undefined) {
      problems.push({
        path: field,
        message:
          'applies only with command (the process runtime); images (Kubernetes) and endpoints always run replicaCount replicas',
      });
    }
  }
  if (data.minReplicas !== undefined && data.command !== undefined) {
    const count = data.replicaCount ?? 1;
    if (data.minReplicas > count)
      problems.push({ path: 'minReplicas', message: `must be at most replicaCount (${count})` });
    // The tool router keeps a listing session open on a federated adapter (for list_changed), which would keep
    // it from ever scaling down, and it reaches replicas without the data plane's wake-up.
    else if (data.minReplicas < count && data.federate)
      problems.push({
        path: 'federate',
        message:
          'is not available with minReplicas below replicaCount yet: the tool router holds a listing session open on a federated adapter, so it would never scale down',
      });
  }
  if (data.endpoints) {
    if (data.port !== undefined) problems.push({ path: 'port', message: ENDPOINT_CARRIES_ADDRESS });
    if (data.path !== undefined) problems.push({ path: 'path', message: ENDPOINT_CARRIES_ADDRESS });
  }
  return problems;
}

/** The runtime problems of a tool body: the shared ones, then those of its tool definition. */
function toolProblems(data: ToolData): ErrorDetail[] {
  const choice = runtimeChoiceProblem(data);
  if (choice) return [choice];
  const problems = sharedProblems(data);
  if (data.upstreamAuth?.type === 'oauth-user') {
    problems.push({ path: 'upstreamAuth.type', message: '"oauth-user" applies only to adapters' });
  }
  const def = data.toolDefinition;
  if (data.endpoints) {
    if (def.port !== undefined)
      problems.push({ path: 'toolDefinition.port', message: ENDPOINT_CARRIES_ADDRESS });
    if (def.path !== undefined)
      problems.push({ path: 'toolDefinition.path', message: ENDPOINT_CARRIES_ADDRESS });
  }
  if (def.tool.name !== data.name) {
    problems.push({ path: 'toolDefinition.tool.name', message: `must equal name ('${data.name}')` });
  }
  return problems;
}

/** The stored form: as sent, an empty prefix left out. */
function upstreamAuthSpec(auth: UpstreamAuth): UpstreamAuthSpec {
  if (auth.type === 'bearer') return { type: 'bearer', secret: auth.secret };
  if (auth.type === 'oauth-client-credentials') {
    const { tokenUrl, clientId, clientSecret, scopes } = auth;
    return { type: auth.type, tokenUrl, clientId, clientSecret, ...(scopes?.length && { scopes }) };
  }
  if (auth.type === 'token-exchange') {
    const { tokenUrl, clientId, clientSecret, audience, resource, scopes } = auth;
    const { subjectTokenType, requestedTokenType } = auth;
    return {
      type: auth.type,
      ...(tokenUrl !== undefined && { tokenUrl }),
      clientId,
      clientSecret,
      ...(audience !== undefined && { audience }),
      ...(resource !== undefined && { resource }),
      ...(scopes?.length && { scopes }),
      ...(subjectTokenType !== undefined && { subjectTokenType }),
      ...(requestedTokenType !== undefined && { requestedTokenType }),
    };
  }
  if (auth.type === 'oauth-user') {
    const { clientId, clientSecret, scopes } = auth;
    return {
      type: auth.type,
      ...(clientId !== undefined && { clientId }),
      ...(clientSecret !== undefined && { clientSecret }),
      ...(scopes?.length && { scopes }),
    };
  }
  return {
    type: 'header',
    name: auth.name,
    secret: auth.secret,
    ...(auth.prefix && { prefix: auth.prefix }),
  };
}

function commonSpec(data: Data): CommonSpec {
  const spec: CommonSpec = {
    environmentVariables: data.environmentVariables ?? {},
    replicaCount: data.endpoints ? data.endpoints.length : (data.replicaCount ?? 1),
    description: data.description ?? '',
    useWorkloadIdentity: data.useWorkloadIdentity ?? false,
    requiredRoles: data.requiredRoles ?? [],
  };
  const secretVariables = data.secretEnvironmentVariables ?? {};
  if (Object.keys(secretVariables).length > 0) spec.secretEnvironmentVariables = secretVariables;
  if (data.imageName !== undefined) spec.imageName = data.imageName;
  if (data.imageVersion !== undefined) spec.imageVersion = data.imageVersion;
  if (data.endpoints) spec.endpoints = data.endpoints;
  if (data.command !== undefined) {
    spec.command = data.command;
    spec.args = data.args ?? [];
  }
  if (data.upstreamAuth) spec.upstreamAuth = upstreamAuthSpec(data.upstreamAuth);
  return spec;
}

/** Validates the runtime rules and returns the spec to store; throws a 400 naming the field otherwise. */
export function toAdapterSpec(data: AdapterData): AdapterSpec {
  throwIfProblems(adapterProblems(data));
  const spec: AdapterSpec = commonSpec(data);
  if (data.command !== undefined) spec.transport = data.transport ?? DEFAULT_TRANSPORT;
  else if (data.transport === 'sse') spec.transport = 'sse';
  if (data.network !== undefined) spec.network = data.network;
  if (!data.endpoints) {
    spec.port = data.port ?? DEFAULT_PORT;
    spec.path = data.path ?? (spec.transport === 'sse' ? DEFAULT_SSE_PATH : DEFAULT_ADAPTER_PATH);
  }
  if (data.connectTimeoutMs !== undefined) spec.connectTimeoutMs = data.connectTimeoutMs;
  if (data.idleTimeoutMs !== undefined) spec.idleTimeoutMs = data.idleTimeoutMs;
  if (data.affinity !== undefined) spec.affinity = data.affinity;
  if (data.maxSessionsPerReplica !== undefined) spec.maxSessionsPerReplica = data.maxSessionsPerReplica;
  if (data.sessionIdleTimeoutSeconds !== undefined)
    spec.sessionIdleTimeoutSeconds = data.sessionIdleTimeoutSeconds;
  if (data.warmSessions !== undefined) spec.warmSessions = data.warmSessions;
  if (data.minReplicas !== undefined) spec.minReplicas = data.minReplicas;
  if (data.idleSeconds !== undefined) spec.idleSeconds = data.idleSeconds;
  if (data.federate !== undefined) spec.federate = data.federate;
  return spec;
}

/** Validates the runtime rules and returns the spec to store; throws a 400 naming the field otherwise. */
export function toToolSpec(data: ToolData): ToolSpec {
  throwIfProblems(toolProblems(data));
  const { tool, port, path, timeoutMs } = data.toolDefinition;
  const toolDefinition: ToolSpec['toolDefinition'] = data.endpoints
    ? { tool }
    : { tool, port: port ?? DEFAULT_PORT, path: path ?? DEFAULT_TOOL_PATH };
  if (timeoutMs !== undefined) toolDefinition.timeoutMs = timeoutMs;
  return { ...commonSpec(data), toolDefinition };
}

function throwIfProblems(problems: ErrorDetail[]): void {
  if (problems.length === 0) return;
  const message = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
  throw badRequest(message, problems);
}

function commonResource(row: Registered) {
  const s = row.spec;
  return {
    id: row.name,
    name: row.name,
    ...(s.imageName !== undefined && { imageName: s.imageName, imageVersion: s.imageVersion }),
    environmentVariables: s.environmentVariables,
    ...(s.secretEnvironmentVariables && { secretEnvironmentVariables: s.secretEnvironmentVariables }),
    replicaCount: s.replicaCount,
    description: s.description,
    useWorkloadIdentity: s.useWorkloadIdentity,
    requiredRoles: s.requiredRoles,
  };
}

function runtimeFields(spec: CommonSpec) {
  return {
    ...(spec.endpoints && { endpoints: spec.endpoints }),
    ...(spec.command !== undefined && { command: spec.command, args: spec.args ?? [] }),
    // The secret's name, never its value (which the spec does not hold); readers see less (`maskForReader`).
    ...(spec.upstreamAuth && { upstreamAuth: { ...spec.upstreamAuth } }),
  };
}

function metaFields(row: Registered) {
  return {
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    lastUpdatedAt: row.lastUpdatedAt.toISOString(),
  };
}

/** The API view of a stored adapter. */
export function toAdapterResource(row: Registered<'adapter'>): AdapterResource {
  const s = row.spec;
  return {
    ...commonResource(row),
    ...runtimeFields(s),
    ...(s.transport !== undefined && { transport: s.transport }),
    ...(s.network !== undefined && { network: s.network }),
    ...(s.port !== undefined && { port: s.port, path: s.path }),
    ...(s.connectTimeoutMs !== undefined && { connectTimeoutMs: s.connectTimeoutMs }),
    ...(s.idleTimeoutMs !== undefined && { idleTimeoutMs: s.idleTimeoutMs }),
    ...(s.affinity !== undefined && { affinity: s.affinity }),
    ...(s.maxSessionsPerReplica !== undefined && { maxSessionsPerReplica: s.maxSessionsPerReplica }),
    ...(s.sessionIdleTimeoutSeconds !== undefined && {
      sessionIdleTimeoutSeconds: s.sessionIdleTimeoutSeconds,
    }),
    ...(s.warmSessions !== undefined && { warmSessions: s.warmSessions }),
    ...(s.minReplicas !== undefined && { minReplicas: s.minReplicas }),
    ...(s.idleSeconds !== undefined && { idleSeconds: s.idleSeconds }),
    ...(s.federate !== undefined && { federate: s.federate }),
    ...metaFields(row),
  };
}

/** The API view of a stored tool. */
export function toToolResource(row: Registered<'tool'>): ToolResource {
  return {
    ...commonResource(row),
    toolDefinition: row.spec.toolDefinition,
    ...runtimeFields(row.spec),
    ...metaFields(row),
  };
}
