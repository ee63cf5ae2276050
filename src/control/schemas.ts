/**
 * @module schemas: the zod schemas of the control plane. They validate every request and are the single
 * source of the OpenAPI document, so the two cannot drift.
 */
import { z } from '@hono/zod-openapi';
import { bindLikeReference } from './reference-binding.js';
import { UpstreamAuth, UpstreamAuthView } from './upstream-auth-schemas.js';

/** Longest resource name: a StatefulSet pod name appends `-NNN` and a prefix within 63 characters. */
export const MAX_NAME_LENGTH = 52;
/** Upper bound of `replicaCount`. */
export const MAX_REPLICAS = 50;

/**
 * Names users may not take: they would collide with the gateway's own objects or routes, as the reference's
 * `toolgateway`/`mcpgateway`/`redis` did.
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  'toolgateway',
  'mcpgateway',
  'mcp-gateway',
  'gateway',
  'mcp',
  'redis',
  'postgres',
  'postgresql',
  'kubernetes',
  'default',
]);

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const ResourceName = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_NAME_LENGTH, `must be at most ${MAX_NAME_LENGTH} characters`)
  .regex(
    DNS_1123_LABEL,
    'must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit',
  )
  .refine((name) => !RESERVED_NAMES.has(name) && !name.startsWith('kube-'), 'is reserved by the gateway')
  .openapi({ example: 'weather', description: 'DNS-1123 label, at most 52 characters; immutable.' });

const ImageName = z
  .string()
  .max(255, 'must be at most 255 characters')
  .regex(/^[a-z0-9]+([._/-][a-z0-9]+)*$/, 'must be a repository path such as "team/server" (lowercase)')
  .refine((v) => !v.includes('..'), 'must not contain ".."')
  .openapi({ description: 'Image repository; the registry host comes from the gateway configuration.' });

const ImageVersion = z
  .string()
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}$/, 'must be an image tag (letters, digits, ".", "_", "-")')
  .openapi({ example: '1.0.0' });

// A process receives its arguments and environment as C strings: a NUL byte could never reach it.
const NUL_FREE = 'must not contain NUL bytes (a process cannot receive them)';
const hasNoNul = (value: string) => !value.includes('\0');

/** Longest environment variable name (Kubernetes sets none; a bound keeps one request's names small). */
export const MAX_ENV_NAME_LENGTH = 256;

/**
 * What Kubernetes accepts as an environment variable name since 1.34, where the RelaxedEnvironmentVariableValidation
 * feature gate is GA: `IsRelaxedEnvVarName` in k8s.io/apimachinery/pkg/util/validation/validation.go — not empty,
 * and only printable ASCII characters (space through `~`) other than `=`. The process runtime passes every such name
 * unchanged (an environment entry is `name=value`, so only `=` and NUL could not be), so both runtimes take the
 * same names. The reference validates none at all; the POSIX-shell shape (`[A-Za-z_][A-Za-z0-9_]*`) refused
 * names such as `my.setting` or `API-KEY` that its clients send.
 */
const ENV_NAME = /^[\x20-\x3c\x3e-\x7e]+$/;

/**
 * A map keyed by environment variable names, each value checked by `value`. The names are checked on the body as
 * sent: parsing a record into a JavaScript object would silently lose a variable named "__proto__" (the name of
 * an object's prototype), so that name is refused here instead.
 */
function environmentMap(value: z.ZodType<string>) {
  return z.preprocess(
    (vars, ctx) => {
      if (typeof vars !== 'object' || vars === null || Array.isArray(vars)) return vars;
      const names = Object.keys(vars);
      if (names.length > 200) ctx.addIssue({ code: 'custom', message: 'must hold at most 200 variables' });
      for (const name of names) {
        const message =
          name === '__proto__'
            ? 'is not supported as a variable name (it names the prototype of a JavaScript object)'
            : !ENV_NAME.test(name) || name.length > MAX_ENV_NAME_LENGTH
              ? `is not a valid variable name: 1 to ${MAX_ENV_NAME_LENGTH} printable ASCII characters other than "=" (what Kubernetes accepts)`
              : undefined;
        if (message) ctx.addIssue({ code: 'custom', path: [name], message });
      }
      return vars;
    },
    z.record(z.string(), value),
  );
}

const EnvironmentVariables = environmentMap(
  z.string().max(32_768, 'must be at most 32768 characters').refine(hasNoNul, NUL_FREE),
).openapi({
  example: { LOG_LEVEL: 'info', 'my.setting': 'on' },
  description: `Names: 1 to ${MAX_ENV_NAME_LENGTH} printable ASCII characters other than "=" (what Kubernetes accepts since 1.34), except "__proto__". At most 200 variables.`,
});

/** The name of a stored secret, as a reference gives it (whether it exists is the routes' check). */
const SecretName = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_NAME_LENGTH, `must be at most ${MAX_NAME_LENGTH} characters`)
  .regex(DNS_1123_LABEL, 'must be the name of a secret (a DNS-1123 label)');

const SecretEnvironmentVariables = environmentMap(SecretName).openapi({
  example: { GITHUB_TOKEN: 'github-token' },
  description:
    "Environment variable name → name of a stored secret (`/secrets`): the variable gets the secret's value when a replica starts (process runtime: in the child's environment; Kubernetes: from a Secret the gateway owns, via `secretKeyRef`), and a rotation restarts the replicas. The value never appears in the registry in clear, in a response or in the pod spec. Naming a secret needs a role in MCP_GATEWAY_SECRET_ROLES (default `mcp.admin`); a secret that does not exist is a 400. Image and command runtimes only. A name may not also be in `environmentVariables`. Names follow the rules of `environmentVariables`.",
});

const Port = z
  .number()
  .int('must be an integer')
  .min(1, 'must be between 1 and 65535')
  .max(65535, 'must be between 1 and 65535');

const UrlPath = z
  .string()
  .max(1024, 'must be at most 1024 characters')
  .regex(
    /^\/[a-zA-Z0-9/_.-]*$/,
    'must start with "/" and contain only letters, digits, "/", "_", "-" and "."',
  );

const EndpointUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return (
      (url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password && !url.hash
    );
  } catch {
    return false;
  }
}, 'must be an absolute http(s) URL without credentials or fragment');

const Endpoints = z
  .array(EndpointUrl)
  .min(1, 'must list at least one URL')
  .max(MAX_REPLICAS, `must list at most ${MAX_REPLICAS} URLs`)
  .refine((urls) => new Set(urls).size === urls.length, 'must not list a URL twice');

/** Fields a client may send back from a GET; they are ignored on input. */
const readOnlyInputFields = {
  id: z.string().optional().openapi({ description: 'Ignored on input.' }),
  createdBy: z.string().optional().openapi({ description: 'Ignored on input.' }),
  createdAt: z.string().optional().openapi({ description: 'Ignored on input.' }),
  lastUpdatedAt: z.string().optional().openapi({ description: 'Ignored on input.' }),
  // Written by clients generated from the reference's stale OpenAPI file; accepted and ignored.
  protocol: z.unknown().optional().openapi({ deprecated: true, description: 'Ignored.' }),
  connectionType: z.unknown().optional().openapi({ deprecated: true, description: 'Ignored.' }),
};

/** Fields adapters and tools share (the reference's `AdapterData` minus adapter-only extensions). */
const commonDataFields = {
  name: ResourceName,
  imageName: ImageName.optional(),
  imageVersion: ImageVersion.optional(),
  environmentVariables: EnvironmentVariables.optional(),
  secretEnvironmentVariables: SecretEnvironmentVariables.optional(),
  replicaCount: z
    .number()
    .int('must be an integer')
    .min(0, `must be between 0 and ${MAX_REPLICAS}`)
    .max(MAX_REPLICAS, `must be between 0 and ${MAX_REPLICAS}`)
    .optional()
    .openapi({ description: 'Replicas to run (default 1). With `endpoints` it equals the number of URLs.' }),
  description: z.string().max(4096, 'must be at most 4096 characters').optional(),
  useWorkloadIdentity: z.boolean().optional().openapi({ description: 'Cannot change after creation.' }),
  requiredRoles: z
    .array(z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters'))
    .max(64, 'must list at most 64 roles')
    .optional()
    .openapi({ description: 'Roles that grant read access besides the creator and `mcp.admin`.' }),
  endpoints: Endpoints.optional().openapi({
    description: 'Remote runtime: URLs of an already running server, one per replica.',
  }),
  command: z
    .string()
    .min(1, 'must not be empty')
    .max(4096, 'must be at most 4096 characters')
    .refine(hasNoNul, NUL_FREE)
    // Whitespace is judged by the routes: only the gateway host's filesystem knows whether it is a path.
    .optional()
    .openapi({
      description:
        'Process runtime: the program to run **on the gateway host**, e.g. `npx` — code execution, so `command`, `args` and `transport` need a role in `MCP_GATEWAY_COMMAND_ROLES` (default `mcp.admin`), and the program must be on `MCP_GATEWAY_COMMAND_ALLOW` when that is set. One program name or path: arguments go in `args`; a value with whitespace must be the path of an existing file on the gateway host.',
      example: 'npx',
    }),
  args: z
    .array(z.string().max(32_768, 'must be at most 32768 characters').refine(hasNoNul, NUL_FREE))
    .max(256, 'must list at most 256 arguments')
    .optional()
    .openapi({
      description: 'Arguments of `command`. Readers who may not write the resource see each one as `***`.',
      example: ['-y', '@modelcontextprotocol/server-everything'],
    }),
  upstreamAuth: UpstreamAuth.optional(),
  ...readOnlyInputFields,
};

/** How bodies are read, for the OpenAPI document (see reference-binding.ts). */
const REFERENCE_BINDING =
  "Keys are matched without regard to case, here and in `toolDefinition`, its `tool` and the tool's `annotations` (`Name` binds `name`; both in one object is a 400), as the reference gateway binds them; `null` for an optional field means the field is absent. Keys inside `environmentVariables`, `secretEnvironmentVariables`, `inputSchema`, `outputSchema` and `_meta` are data, kept as sent.";

/** `header:` and an HTTP field name (RFC 9110 token). */
const HEADER_AFFINITY = /^header:[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** How stateless requests of an adapter are placed; stored with the header name in lower case. */
const Affinity = z
  .string({ error: 'must be "none", "principal" or "header:<name>"' })
  .refine((value) => value === 'none' || value === 'principal' || HEADER_AFFINITY.test(value), {
    error: 'must be "none", "principal" or "header:<name>" with an HTTP header name',
  })
  .transform((value) => value.toLowerCase() as 'none' | 'principal' | `header:${string}`)
  .openapi({
    type: 'string',
    pattern: "^(none|principal|header:[!#$%&'*+\\-.^_`|~0-9A-Za-z]+)$",
    example: 'header:x-conversation-id',
    description:
      'Where stateless (2026-07-28, or session-less) requests go: `none` (default) to the less busy of two random replicas; `principal` to the replica rendezvous hashing picks for the caller, unless it is busier than 1.25× the mean; `header:<name>` the same on the value of that request header (a request without it is placed as `none`). New legacy sessions always spread over every replica and stay where they start.',
  });

/** Body of POST/PUT `/adapters`, bound like the reference's `AdapterData` (see reference-binding.ts). */
export const AdapterData = bindLikeReference(
  z.strictObject({
    ...commonDataFields,
    transport: z
      .enum(['streamable-http', 'stdio', 'sse'], { error: 'must be "streamable-http", "stdio" or "sse"' })
      .optional()
      .openapi({
        description:
          'How the server speaks MCP. The process runtime: `stdio` (default), `streamable-http` or `sse`; endpoints and images: `streamable-http` (default, leave it out) or `sse`. `sse` is the legacy HTTP+SSE transport of 2024-11-05 (GET the SSE URL, POST to the URL its `endpoint` event names, same origin only): the gateway speaks it to the server and serves clients Streamable HTTP sessions; an endpoint URL is then the SSE URL, and `path` defaults to `/sse`.',
      }),
    network: z.enum(['host', 'none'], { error: 'must be "host" or "none"' }).optional().openapi({
      description:
        'Process runtime, stdio adapters only: `none` runs the server in the sandbox without any network (default `host`).',
    }),
    port: Port.optional().openapi({ description: 'Where an image or process serves MCP (default 8000).' }),
    path: UrlPath.optional().openapi({
      description: 'MCP endpoint path of an image or process (default /mcp; /sse with transport `sse`).',
    }),
    connectTimeoutMs: z
      .number()
      .int('must be an integer')
      .min(100, 'must be between 100 and 120000')
      .max(120_000, 'must be between 100 and 120000')
      .optional()
      .openapi({
        description: 'Longest wait for a connection to a replica (default from the gateway config).',
      }),
    idleTimeoutMs: z
      .number()
      .int('must be an integer')
      .min(1000, 'must be between 1000 and 86400000')
      .max(86_400_000, 'must be between 1000 and 86400000')
      .optional()
      .openapi({
        description:
          'Longest upstream silence, before the response and within a stream (default from the gateway config).',
      }),
    affinity: Affinity.optional(),
    maxSessionsPerReplica: z
      .number()
      .int('must be an integer')
      .min(1, 'must be between 1 and 100000')
      .max(100_000, 'must be between 1 and 100000')
      .optional()
      .openapi({
        description:
          'Most legacy sessions one replica holds, as this gateway instance counts them; a new session goes to the next replica in hash order, and 503 with `Retry-After` only when every replica is full (default: no cap; a stdio replica is capped by the bridge, 16 by default, whichever is lower).',
      }),
    sessionIdleTimeoutSeconds: z
      .number()
      .int('must be an integer')
      .min(10, 'must be between 10 and 604800')
      .max(604_800, 'must be between 10 and 604800')
      .optional()
      .openapi({
        description:
          'A legacy session without a request for this long ends: a stdio replica stops its server process, and the gateway stops counting it (default 900, 15 minutes).',
      }),
    warmSessions: z
      .number()
      .int('must be an integer')
      .min(0, 'must be between 0 and 16')
      .max(16, 'must be between 0 and 16')
      .optional()
      .openapi({
        description:
          'Stdio adapters of the command runtime: server processes each replica keeps started and answering ahead of their session, so an `initialize` (or the first 2026-07-28 request) does not wait for a cold start (default 1; 0 keeps none: the replica is proven once and every session starts its own process).',
      }),
    minReplicas: z
      .number()
      .int('must be an integer')
      .min(0, `must be between 0 and ${MAX_REPLICAS}`)
      .max(MAX_REPLICAS, `must be between 0 and ${MAX_REPLICAS}`)
      .optional()
      .openapi({
        description:
          'Process runtime only: replicas kept running while the adapter is idle (0 to `replicaCount`, default `replicaCount`). Below `replicaCount`, only this many start at registration; the first request starts the rest (with 0 it waits for the first replica to be ready, at most the connect timeout, else 503 with `Retry-After`), and after `idleSeconds` without open sessions or requests in flight the extra replicas are stopped again. Images (Kubernetes) and endpoints refuse it.',
      }),
    idleSeconds: z
      .number()
      .int('must be an integer')
      .min(1, 'must be between 1 and 86400')
      .max(86_400, 'must be between 1 and 86400')
      .optional()
      .openapi({
        description:
          'Process runtime only, with `minReplicas` below `replicaCount`: how long the adapter has no open session and no request in flight before it is scaled down to `minReplicas` (default 300).',
      }),
    federate: z.boolean().optional().openapi({
      description:
        "List this adapter's tools on the tool router (`/mcp`) as `{adapter}__{tool}` for callers who may read the adapter (default false).",
    }),
  }),
).openapi('AdapterData', { description: REFERENCE_BINDING });
export type AdapterData = z.infer<typeof AdapterData>;

const JsonSchemaObject = z
  .looseObject({ type: z.literal('object', { error: 'must have "type": "object"' }) })
  .openapi({ description: 'A JSON Schema whose root type is "object".' });

/**
 * The MCP specification's tool annotations. Keys outside it are kept and returned as sent: the reference's own
 * README writes `{"readOnly": true}`, and MCP clients ignore annotations they do not know.
 */
const ToolAnnotations = bindLikeReference(
  z.looseObject({
    title: z.string().optional(),
    readOnlyHint: z.boolean().optional(),
    destructiveHint: z.boolean().optional(),
    idempotentHint: z.boolean().optional(),
    openWorldHint: z.boolean().optional(),
  }),
);

/**
 * An MCP `Tool` definition as the MCP specification defines it; fields outside it are kept. Its keys are bound
 * like the reference's SDK `Tool` type; `inputSchema`, `outputSchema` and `_meta` are data, kept as sent.
 */
export const McpTool = bindLikeReference(
  z.looseObject({
    name: z
      .string()
      .min(1, 'must not be empty')
      .max(128, 'must be at most 128 characters')
      .regex(/^[A-Za-z0-9_.-]+$/, 'must use only letters, digits, "_", "-" and "."'),
    title: z.string().optional(),
    description: z.string().optional(),
    inputSchema: JsonSchemaObject,
    outputSchema: JsonSchemaObject.optional(),
    annotations: ToolAnnotations.optional(),
    _meta: z.record(z.string(), z.unknown()).optional(),
  }),
).openapi('McpTool');

/** Bounds of `toolDefinition.timeoutMs`: 100 ms to 15 minutes. */
export const MIN_TOOL_TIMEOUT_MS = 100;
export const MAX_TOOL_TIMEOUT_MS = 900_000;

const ToolTimeout = z
  .number()
  .int('must be an integer')
  .min(MIN_TOOL_TIMEOUT_MS, `must be between ${MIN_TOOL_TIMEOUT_MS} and ${MAX_TOOL_TIMEOUT_MS}`)
  .max(MAX_TOOL_TIMEOUT_MS, `must be between ${MIN_TOOL_TIMEOUT_MS} and ${MAX_TOOL_TIMEOUT_MS}`);

/** Where a tool server listens and what the router sends to it. */
export const ToolDefinition = bindLikeReference(
  z.strictObject({
    tool: McpTool,
    port: Port.optional().openapi({ description: 'Port of an image or process tool server (default 8000).' }),
    path: UrlPath.optional().openapi({ description: 'Path the router POSTs arguments to (default /score).' }),
    timeoutMs: ToolTimeout.optional().openapi({
      description:
        "Longest wait for the tool server's answer to a `tools/call` through the tool router (default from the gateway config, MCP_GATEWAY_TOOLROUTER_CALL_TIMEOUT_MS).",
    }),
  }),
).openapi('ToolDefinition');

/** Body of POST/PUT `/tools`, bound like the reference's `ToolData` (see reference-binding.ts). */
export const ToolData = bindLikeReference(
  z.strictObject({ ...commonDataFields, toolDefinition: ToolDefinition }),
).openapi('ToolData', { description: REFERENCE_BINDING });
export type ToolData = z.infer<typeof ToolData>;

const resourceMetaFields = {
  id: z.string().openapi({ description: 'Equal to `name`.' }),
  createdBy: z.string(),
  createdAt: z.string().openapi({ format: 'date-time' }),
  lastUpdatedAt: z.string().openapi({ format: 'date-time' }),
};

const commonResourceFields = {
  name: z.string(),
  imageName: z.string().optional(),
  imageVersion: z.string().optional(),
  environmentVariables: z.record(z.string(), z.string()),
  secretEnvironmentVariables: z
    .record(z.string(), z.string())
    .optional()
    .openapi({ description: 'Variable name → secret name; never a value.' }),
  replicaCount: z.number().int(),
  description: z.string(),
  useWorkloadIdentity: z.boolean(),
  requiredRoles: z.array(z.string()),
  endpoints: z.array(z.string()).optional(),
  command: z.string().optional(),
  args: z.array(z.string()).optional(),
  upstreamAuth: UpstreamAuthView.optional(),
};

/** An adapter as the API returns it. */
export const AdapterResource = z
  .object({
    id: resourceMetaFields.id,
    ...commonResourceFields,
    transport: z.enum(['streamable-http', 'stdio', 'sse']).optional(),
    network: z.enum(['host', 'none']).optional(),
    port: z.number().int().optional(),
    path: z.string().optional(),
    connectTimeoutMs: z.number().int().optional(),
    idleTimeoutMs: z.number().int().optional(),
    affinity: z.string().optional(),
    maxSessionsPerReplica: z.number().int().optional(),
    sessionIdleTimeoutSeconds: z.number().int().optional(),
    warmSessions: z.number().int().optional(),
    minReplicas: z.number().int().optional(),
    idleSeconds: z.number().int().optional(),
    federate: z.boolean().optional(),
    createdBy: resourceMetaFields.createdBy,
    createdAt: resourceMetaFields.createdAt,
    lastUpdatedAt: resourceMetaFields.lastUpdatedAt,
  })
  .openapi('AdapterResource');
export type AdapterResource = z.infer<typeof AdapterResource>;

/** A tool as the API returns it. */
export const ToolResource = z
  .object({
    id: resourceMetaFields.id,
    ...commonResourceFields,
    toolDefinition: z.object({
      tool: McpTool,
      port: z.number().int().optional(),
      path: z.string().optional(),
      timeoutMs: z.number().int().optional(),
    }),
    createdBy: resourceMetaFields.createdBy,
    createdAt: resourceMetaFields.createdAt,
    lastUpdatedAt: resourceMetaFields.lastUpdatedAt,
  })
  .openapi('ToolResource');
export type ToolResource = z.infer<typeof ToolResource>;

/** One replica in a status report. */
export const ReplicaStatus = z
  .object({
    instance: z.number().int(),
    endpoint: z.string().optional(),
    ready: z.boolean(),
    state: z.string().openapi({ example: 'Reachable' }),
    detail: z.string().optional(),
    latencyMs: z.number().optional(),
    checkedAt: z.string().openapi({ format: 'date-time' }),
    sessions: z.number().int().optional().openapi({
      description:
        "Open legacy sessions on the replica: a stdio replica's own count, else the sessions the answering gateway instance holds there.",
    }),
    maxSessions: z.number().int().optional().openapi({
      description:
        "The replica's session cap (a stdio replica's pool, or the adapter's `maxSessionsPerReplica`).",
    }),
  })
  .openapi('ReplicaStatus');

/** How the tool router of the answering gateway instance sees a federated adapter's tool list. */
export const FederationStatus = z
  .object({
    state: z.enum(['listed', 'failed', 'pending', 'per-caller']).openapi({
      description:
        '`listed`: its tools are on `/mcp`; `failed`: the last listing failed or timed out, so they are left out; `pending`: not listed yet; `per-caller`: an `upstreamAuth: oauth-user` adapter, listed to each caller with their own grant (a caller who has not connected is listed none of its tools), so `tools` is 0 here.',
    }),
    tools: z.number().int().openapi({ description: 'Tools listed on `/mcp` for this adapter.' }),
    heldTools: z.number().int().optional().openapi({
      description:
        'Tools the adapter lists whose changed definitions await approval (`MCP_GATEWAY_TOOL_PINNING=enforce`; see `GET /adapters/{name}/tools`); not on `/mcp`, not counted in `tools`.',
    }),
    error: z.string().optional().openapi({ description: 'Why the last listing failed.' }),
    checkedAt: z.string().optional().openapi({ format: 'date-time' }),
  })
  .openapi('FederationStatus', {
    description:
      'Present for adapters with `federate: true` (the view of the gateway instance that answered).',
  });
export type FederationStatus = z.infer<typeof FederationStatus>;

/** The reference's `AdapterStatus` plus a per-replica list. */
export const ResourceStatus = z
  .object({
    readyReplicas: z.number().int(),
    updatedReplicas: z.number().int(),
    availableReplicas: z.number().int(),
    image: z.string(),
    replicaStatus: z.string().openapi({
      example: 'Degraded: 1/2 ready',
      description:
        '`Healthy`; `Degraded: r/n ready`; for replicas with a session cap, `Full: …` when every replica is at it (a new session gets 503) and `Degraded: f/n replicas at their session cap` when some are; `Idle: …` for a process adapter scaled down to its `minReplicas` (0 included) until the next request; `Failed: …` or `Pending`.',
    }),
    runtime: z.enum(['image', 'command', 'endpoints']),
    replicas: z.array(ReplicaStatus),
    federation: FederationStatus.optional(),
  })
  .openapi('AdapterStatus');
export type ResourceStatus = z.infer<typeof ResourceStatus>;

/** Every error answer. */
export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .openapi('Error');

export const NameParam = z.object({
  name: z.string().openapi({ param: { name: 'name', in: 'path' }, example: 'weather' }),
});

/** Largest page; a bare GET returns at most this many items. */
export const MAX_PAGE_SIZE = 1000;

export const ListQuery = z.object({
  limit: z
    .string()
    .regex(/^\d+$/, 'must be an integer')
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(1, `must be between 1 and ${MAX_PAGE_SIZE}`)
        .max(MAX_PAGE_SIZE, `must be between 1 and ${MAX_PAGE_SIZE}`),
    )
    .optional()
    .openapi({
      param: { name: 'limit', in: 'query' },
      description: `Page size, 1–${MAX_PAGE_SIZE} (default ${MAX_PAGE_SIZE}).`,
      type: 'integer',
    }),
  cursor: z
    .string()
    .max(512)
    .optional()
    .openapi({
      param: { name: 'cursor', in: 'query' },
      description: 'Opaque cursor from the `Link: rel="next"` header.',
    }),
});

export const LogsQuery = z.object({
  instance: z
    .string()
    .regex(/^\d+$/, 'must be a replica index (0, 1, …)')
    .transform(Number)
    .optional()
    .openapi({
      param: { name: 'instance', in: 'query' },
      type: 'integer',
      description: 'Replica index (default 0).',
    }),
  tail: z
    .string()
    .regex(/^\d+$/, 'must be a number of lines')
    .transform(Number)
    .optional()
    .openapi({
      param: { name: 'tail', in: 'query' },
      type: 'integer',
      description: 'Last N lines (default 1000).',
    }),
  follow: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .transform((v) => v === 'true')
    .optional()
    .openapi({
      param: { name: 'follow', in: 'query' },
      type: 'boolean',
      description: 'Keep the response open and stream new lines as they are written.',
    }),
});
