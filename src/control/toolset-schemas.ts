/**
 * @module toolset-schemas: the zod schemas of `/toolsets` — what a toolset body may hold, with every rule that
 * can be checked without the catalog (names in the MCP alphabet, wildcards of the form `{adapter}__*`, no
 * member twice, no two members shown under one name), and the view the routes answer.
 */
import { z } from '@hono/zod-openapi';
import { TOOL_NAME_ALPHABET } from '../config/index.js';
import { isWildcard } from '../registry/index.js';
import { ToolPolicyDocumentSchema, ToolPolicyError, toolPolicyFrom } from '../toolrouter/policy/index.js';
import { ResourceName } from './schemas.js';

/** Most members one toolset may list. */
export const MAX_TOOLSET_MEMBERS = 1000;
/** Longest tool name MCP clients accept (the spec's SEP-986 bound). */
export const MAX_TOOL_NAME_LENGTH = 128;
/** The names `discovery: "search"` lists; a member shown under one of them would be shadowed. */
const DISCOVERY_TOOL_NAMES = new Set(['search_tools', 'call_tool']);

const TOOL_NAME_RULE = `must be a tool name: 1–${MAX_TOOL_NAME_LENGTH} characters of A–Z, a–z, 0–9, "_", "." and "-"`;
const ToolName = z
  .string()
  .min(1, TOOL_NAME_RULE)
  .max(MAX_TOOL_NAME_LENGTH, TOOL_NAME_RULE)
  .regex(TOOL_NAME_ALPHABET, TOOL_NAME_RULE);

/**
 * `{adapter}{separator}*`: an adapter name (a DNS label), then a separator (which holds `_` or `.`, never in an
 * adapter name), then `*`. Which separator is the tool router's setting; a wildcard with another one matches
 * nothing and is reported unresolved.
 */
const WILDCARD = /^[a-z0-9][-a-z0-9]*[_.][A-Za-z0-9_.-]*\*$/;

const MemberName = z
  .string()
  .min(1, TOOL_NAME_RULE)
  .max(MAX_TOOL_NAME_LENGTH, TOOL_NAME_RULE)
  .refine(
    (name) => TOOL_NAME_ALPHABET.test(name) || WILDCARD.test(name),
    `${TOOL_NAME_RULE}, or "{adapter}__*" for every federated tool of an adapter`,
  );

const MemberObject = z
  .strictObject({
    name: MemberName.openapi({ description: 'A registered tool, or a federated `{adapter}__{tool}` name.' }),
    rename: ToolName.optional().openapi({ description: 'The name the toolset lists and is called by.' }),
    description: z
      .string()
      .max(4096, 'must be at most 4096 characters')
      .optional()
      .openapi({ description: "Listed instead of the tool's own description." }),
  })
  .openapi('ToolsetMemberObject');

const Member = z.union([MemberName, MemberObject]).openapi('ToolsetMember', {
  description:
    'A registered tool name, a federated `{adapter}__{tool}` name, `{adapter}__*` (every federated tool of the adapter), or `{ name, rename?, description? }` for one tool.',
});

type MemberInput = z.infer<typeof Member>;

/** Cross-member rules: each member once, overrides only on single tools, every shown name unique. */
function checkMembers(members: readonly MemberInput[], discovery: string | undefined, ctx: z.RefinementCtx) {
  const listed = new Map<string, number>();
  const shown = new Map<string, number>();
  members.forEach((member, i) => {
    const spec = typeof member === 'string' ? { name: member } : member;
    const first = listed.get(spec.name);
    if (first !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['tools', i],
        message: `'${spec.name}' is already tools.${first}`,
      });
      return;
    }
    listed.set(spec.name, i);
    if (isWildcard(spec.name)) {
      for (const field of ['rename', 'description'] as const) {
        if (typeof member !== 'string' && member[field] !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['tools', i, field],
            message: `a wildcard member ('${spec.name}') stands for many tools and cannot have one ${field}`,
          });
        }
      }
      return;
    }
    const name = (typeof member === 'string' ? undefined : member.rename) ?? spec.name;
    const taken = shown.get(name);
    if (taken !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path:
          typeof member === 'string' || member.rename === undefined ? ['tools', i] : ['tools', i, 'rename'],
        message: `'${name}' would be listed twice: tools.${taken} is listed under that name too`,
      });
    } else shown.set(name, i);
    if (discovery === 'search' && DISCOVERY_TOOL_NAMES.has(name)) {
      ctx.addIssue({
        code: 'custom',
        path: ['tools', i],
        message: `'${name}' is one of the two tools a search toolset lists; rename the member`,
      });
    }
  });
}

/** The toolset's own tool policy, the same document as `MCP_GATEWAY_TOOL_POLICY_FILE`. */
const ToolsetPolicy = ToolPolicyDocumentSchema.openapi('ToolsetPolicy', {
  description:
    "The toolset's own tool policy (the document of `MCP_GATEWAY_TOOL_POLICY_FILE`: ordered `rules` and a `default`), applied on its endpoint together with the gateway's: a tool is listed and callable only when both allow it. Rules see the tools' real names (as `/mcp` lists them), not the toolset's renames.",
});

/** Every rule compiles (CEL included): a policy that cannot be served is refused at write time, naming `policy`. */
function checkPolicy(data: { name: string; policy?: unknown }, ctx: z.RefinementCtx) {
  if (data.policy === undefined) return;
  try {
    toolPolicyFrom(data.policy, `toolset ${data.name}`);
  } catch (err) {
    if (!(err instanceof ToolPolicyError)) throw err;
    for (const problem of err.problems) ctx.addIssue({ code: 'custom', path: ['policy'], message: problem });
  }
}

/** Body of POST/PUT `/toolsets`. */
export const ToolsetData = z
  .strictObject({
    name: ResourceName,
    description: z.string().max(4096, 'must be at most 4096 characters').optional(),
    tools: z
      .array(Member)
      .max(MAX_TOOLSET_MEMBERS, `must list at most ${MAX_TOOLSET_MEMBERS} members`)
      .openapi({
        description:
          'Members. A name that matches no tool yet is kept (a federated tool may appear later) and reported in `status.unresolved`.',
      }),
    requiredRoles: z
      .array(z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters'))
      .max(64, 'must list at most 64 roles')
      .optional()
      .openapi({
        description: 'Roles that may see and use the toolset besides its creator and `mcp.admin`.',
      }),
    discovery: z.enum(['list', 'search'], { error: 'must be "list" or "search"' }).optional().openapi({
      description:
        '`list` (default): the endpoint lists the members. `search`: it lists `search_tools` and `call_tool`, over the members only.',
    }),
    policy: ToolsetPolicy.optional(),
    createdBy: z.string().optional().openapi({ description: 'Ignored on input.' }),
    createdAt: z.string().optional().openapi({ description: 'Ignored on input.' }),
    lastUpdatedAt: z.string().optional().openapi({ description: 'Ignored on input.' }),
    id: z.string().optional().openapi({ description: 'Ignored on input.' }),
    status: z.unknown().optional().openapi({ description: 'Ignored on input.' }),
    endpoint: z.unknown().optional().openapi({ description: 'Ignored on input.' }),
  })
  .superRefine((data, ctx) => {
    checkMembers(data.tools, data.discovery, ctx);
    checkPolicy(data, ctx);
  })
  .openapi('ToolsetData');
export type ToolsetData = z.infer<typeof ToolsetData>;

/** How a toolset's members resolve for the caller who reads it. */
export const ToolsetStatus = z
  .object({
    tools: z.number().int().openapi({ description: 'Tools the endpoint lists to the caller.' }),
    unresolved: z.array(z.string()).openapi({
      description:
        'Members that match no tool the caller may use (not registered, not federated yet, or not readable by the caller); they are not listed.',
    }),
  })
  .openapi('ToolsetStatus');
export type ToolsetStatus = z.infer<typeof ToolsetStatus>;

/** A toolset as the API returns it. */
export const ToolsetResource = z
  .object({
    id: z.string().openapi({ description: 'Equal to `name`.' }),
    name: z.string(),
    description: z.string(),
    tools: z.array(Member),
    requiredRoles: z.array(z.string()),
    discovery: z.enum(['list', 'search']),
    policy: ToolsetPolicy.optional().openapi({ description: 'Absent: only the gateway policy applies.' }),
    endpoint: z.string().openapi({ description: 'Path of its MCP endpoint.', example: '/toolsets/team/mcp' }),
    status: ToolsetStatus.optional().openapi({
      description: 'Absent when this gateway serves no tool router.',
    }),
    createdBy: z.string(),
    createdAt: z.string().openapi({ format: 'date-time' }),
    lastUpdatedAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('ToolsetResource');
export type ToolsetResource = z.infer<typeof ToolsetResource>;
