/**
 * @module toolset-spec: the stored shape of a toolset — a named group of tools the tool router serves on an
 * endpoint of its own (`/toolsets/{name}/mcp`). The control plane validates it; the tool router reads it.
 */
import type { StoredResource } from './registry-store.js';

/** One member given as an object: the tool (or federated tool) it names, and how the toolset shows it. */
export interface ToolsetMemberSpec {
  /** A registered tool's name, or a federated tool's `{adapter}{separator}{tool}` name. */
  name: string;
  /** The name the toolset lists and is called by instead (unique within the toolset). */
  rename?: string;
  /** The description the toolset lists instead of the tool's own. */
  description?: string;
}

/**
 * A member: a registered tool's name, a federated tool's name, `{adapter}{separator}*` (every federated tool of
 * that adapter), or a {@link ToolsetMemberSpec} for a single tool with overrides.
 */
export type ToolsetMember = string | ToolsetMemberSpec;

/** How a toolset's endpoint offers its members: listed, or behind `search_tools`/`call_tool`. */
export type ToolsetDiscovery = 'list' | 'search';

/**
 * A toolset's own tool policy, stored as written (the tool router's policy document: `{ rules, default }`). The
 * control plane compiled it before storing it; the router compiles it again when it serves the toolset.
 */
export interface ToolsetPolicySpec {
  rules: Record<string, unknown>[];
  default: 'allow' | 'deny';
}

/** A stored toolset's spec. */
export interface ToolsetSpec {
  description: string;
  tools: ToolsetMember[];
  /** Roles that may see and use the toolset besides its creator and `mcp.admin` (as for adapters). */
  requiredRoles: string[];
  /** Absent: `list`. */
  discovery?: ToolsetDiscovery;
  /** Absent: only the gateway's tool policy applies. */
  policy?: ToolsetPolicySpec;
}

/** A stored toolset with its spec typed. */
export type RegisteredToolset = Omit<StoredResource, 'spec' | 'kind'> & {
  readonly kind: 'toolset';
  readonly spec: ToolsetSpec;
};

/**
 * Types a toolset row. The spec was validated by the control plane before it was written, so this is a cast,
 * not a parse; a row of another kind is a store bug, thrown rather than typed wrongly.
 */
export function toolsetOf(row: StoredResource): RegisteredToolset {
  if (row.kind !== 'toolset') throw new Error(`registry: a read of toolsets returned a ${row.kind} row`);
  return row as unknown as RegisteredToolset;
}

/** A member as an object, whichever way it was written. */
export function memberSpecOf(member: ToolsetMember): ToolsetMemberSpec {
  return typeof member === 'string' ? { name: member } : member;
}

/** True for a member that names every federated tool of an adapter (`{adapter}{separator}*`). */
export const isWildcard = (name: string): boolean => name.endsWith('*');

/** The adapter a wildcard member names with `separator`, or undefined when it is not of that form. */
export function wildcardAdapter(name: string, separator: string): string | undefined {
  if (!name.endsWith(`${separator}*`)) return undefined;
  const adapter = name.slice(0, -(separator.length + 1));
  return /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(adapter) ? adapter : undefined;
}
