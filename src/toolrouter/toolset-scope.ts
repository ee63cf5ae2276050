/**
 * @module toolset-scope: a toolset's view of the catalog — the one place where the tool router applies a
 * toolset's member filter and its renames. A scoped snapshot holds only the entries the members name, each under
 * the name (and with the description) the toolset gives it; its `target` is the catalog's own, so a call by the
 * shown name goes to the very tool it stands for, under that tool's real name. Everything downstream of the
 * snapshot (visibility by the caller's permissions, pagination, calls, search, `list_changed`) is the router's
 * unchanged path, fed this snapshot instead of the whole catalog.
 */
import { canRead } from '../auth/index.js';
import type { Principal } from '../auth/index.js';
import { isWildcard, memberSpecOf, wildcardAdapter } from '../registry/index.js';
import type { RegisteredToolset, ToolsetSpec } from '../registry/index.js';
import type { Hash64 } from '../routing/index.js';
import type { Catalog, CatalogEntry, CatalogSnapshot, HeldTool } from './catalog.js';

const MASK_64 = (1n << 64n) - 1n;

/** How one member resolved against a snapshot: the catalog entries it stands for (none: unresolved). */
export interface MemberResolution {
  /** The member's name as the toolset lists it (`{adapter}__*` for a wildcard). */
  readonly member: string;
  readonly entries: readonly CatalogEntry[];
}

/** A toolset's snapshot, and how each of its members resolved. */
export interface ScopedSnapshot {
  readonly snapshot: CatalogSnapshot;
  readonly members: readonly MemberResolution[];
}

/** What {@link scopeSnapshot} needs besides the snapshot and the toolset. */
export interface ScopeOptions {
  /** The router's separator of federated names, which a wildcard member ends with before its `*`. */
  readonly separator: string;
  readonly hash: Hash64;
}

/** The catalog's entry each renamed entry shows (what tool policies judge), by the renamed entry. */
const realEntries = new WeakMap<CatalogEntry, CatalogEntry>();

/** The catalog's own entry that a toolset's `entry` shows: itself when the toolset overrides nothing. */
export const realEntryOf = (entry: CatalogEntry): CatalogEntry => realEntries.get(entry) ?? entry;

const compareNames = (a: CatalogEntry, b: CatalogEntry) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function fingerprintOf(entries: readonly CatalogEntry[]): string {
  let sum = 0n;
  for (const entry of entries) sum = (sum + entry.digest) & MASK_64;
  return `${entries.length.toString(36)}-${sum.toString(36)}`;
}

/** `entry` as the toolset shows it: the same object when nothing is overridden (the visibility cache keeps it). */
function shown(
  entry: CatalogEntry,
  name: string,
  description: string | undefined,
  hash: Hash64,
): CatalogEntry {
  if (name === entry.name && description === undefined) return entry;
  const override = <T extends CatalogEntry['tool']>(tool: T): T => ({
    ...tool,
    name,
    ...(description !== undefined && { description }),
  });
  const renamed: CatalogEntry = {
    ...entry,
    name,
    tool: override(entry.tool),
    ...(entry.unavailable && {
      unavailable: { reason: entry.unavailable.reason, tool: override(entry.unavailable.tool) },
    }),
    digest: hash(`${entry.digest.toString(36)}\u0000${name}\u0000${description ?? '\u0001'}`),
  };
  realEntries.set(renamed, entry);
  return renamed;
}

/**
 * The toolset's members over `base`. Single-tool members come first, so a wildcard never takes the name a
 * single member (or its rename) shows; of a wildcard's tools, one whose name is taken already is left out.
 */
export function scopeSnapshot(
  base: CatalogSnapshot,
  spec: ToolsetSpec,
  options: ScopeOptions,
): ScopedSnapshot {
  const entries: CatalogEntry[] = [];
  const taken = new Set<string>();
  // Members held back by pinning: refused as on `/mcp` (with the reason), under the name the toolset shows.
  const held = new Map<string, HeldTool>();
  const members: MemberResolution[] = [];
  const singles = spec.tools.map(memberSpecOf).filter((m) => !isWildcard(m.name));
  const wildcards = spec.tools.map(memberSpecOf).filter((m) => isWildcard(m.name));
  for (const member of singles) {
    const entry = base.byName.get(member.name);
    const name = member.rename ?? member.name;
    if (!entry || taken.has(name)) {
      const heldTool = base.held?.get(member.name);
      if (!entry && heldTool && !taken.has(name)) held.set(name, heldTool);
      members.push({ member: member.name, entries: [] });
      continue;
    }
    taken.add(name);
    entries.push(shown(entry, name, member.description, options.hash));
    members.push({ member: member.name, entries: [entry] });
  }
  for (const member of wildcards) {
    const adapter = wildcardAdapter(member.name, options.separator);
    const matched = adapter
      ? base.entries.filter((e) => e.target.kind === 'federated' && e.target.adapter.name === adapter)
      : [];
    for (const entry of matched) {
      if (taken.has(entry.name)) continue;
      taken.add(entry.name);
      entries.push(entry);
    }
    const ofAdapter = (name: string) =>
      adapter !== undefined && name.startsWith(`${adapter}${options.separator}`);
    for (const [name, tool] of base.held ?? []) {
      if (ofAdapter(name) && !taken.has(name) && !held.has(name)) held.set(name, tool);
    }
    members.push({ member: member.name, entries: matched });
  }
  entries.sort(compareNames);
  return {
    snapshot: {
      entries,
      byName: new Map(entries.map((e) => [e.name, e])),
      fingerprint: fingerprintOf(entries),
      ...(held.size > 0 && { held }),
    },
    members,
  };
}

/** Members that stand for no tool `principal` may use: not listed to them. */
export function unresolvedFor(members: readonly MemberResolution[], principal: Principal): string[] {
  return members
    .filter((m) => !m.entries.some((entry) => canRead(principal, entry.owner)))
    .map((m) => m.member);
}

/** Options for {@link createToolsetCatalog}. */
export interface ToolsetCatalogOptions extends ScopeOptions {
  /** The whole catalog. */
  readonly base: Catalog;
  /** The toolset as last read from the registry (undefined once deleted). */
  readonly definition: () => RegisteredToolset | undefined;
}

/** A toolset's catalog, and the hook its definition's changes arrive on. */
export interface ToolsetCatalog extends Catalog {
  /** The toolset itself changed (its members, renames or descriptions): listeners hear if its list did. */
  definitionChanged(): void;
}

/**
 * The {@link Catalog} of one toolset: the base catalog's snapshots scoped to the members (computed once per base
 * snapshot and toolset version), its listeners told when the scoped list changes — because the catalog did, or
 * because the toolset did. Visibility is the base catalog's, applied to the scoped entries.
 */
export function createToolsetCatalog(options: ToolsetCatalogOptions): ToolsetCatalog {
  const { base } = options;
  const scoped = new WeakMap<CatalogSnapshot, { key: string; result: ScopedSnapshot }>();
  const listeners = new Set<(snapshot: CatalogSnapshot) => void>();
  let last: CatalogSnapshot | undefined;

  function scope(snapshot: CatalogSnapshot): CatalogSnapshot {
    const toolset = options.definition();
    const key = toolset ? `${toolset.uid}.${toolset.version}` : '';
    let cached = scoped.get(snapshot);
    if (!cached || cached.key !== key) {
      const spec: ToolsetSpec = toolset?.spec ?? { description: '', tools: [], requiredRoles: [] };
      cached = { key, result: scopeSnapshot(snapshot, spec, options) };
      scoped.set(snapshot, cached);
    }
    return cached.result.snapshot;
  }

  function emitIfChanged(snapshot: CatalogSnapshot): void {
    const next = scope(snapshot);
    const previous = last;
    last = next;
    if (!previous || previous.fingerprint === next.fingerprint) return;
    for (const listener of [...listeners]) listener(next);
  }

  /** The base told of the shared snapshot it told of last: some caller's own lists changed, so pass it on. */
  let lastBase: CatalogSnapshot | undefined;
  const stopBase = base.onChange((snapshot) => {
    const again = snapshot === lastBase;
    lastBase = snapshot;
    if (!again) return emitIfChanged(snapshot);
    const next = scope(snapshot);
    last = next;
    for (const listener of [...listeners]) listener(next);
  });
  return {
    async snapshot(principal) {
      const from = await base.snapshot(principal);
      const next = scope(from);
      // A caller's own snapshot is not the list this toolset's streams compare with.
      if (!principal) {
        last ??= next;
        lastBase ??= from;
      }
      return next;
    },
    personalAdapterOf(name, principal) {
      // Only a name this toolset would show: a member's (or its rename), or one its `{adapter}__*` covers.
      const toolset = options.definition();
      if (!toolset || !base.personalAdapterOf) return undefined;
      for (const member of toolset.spec.tools.map(memberSpecOf)) {
        if (isWildcard(member.name)) {
          const adapter = wildcardAdapter(member.name, options.separator);
          if (adapter !== undefined && name.startsWith(`${adapter}${options.separator}`))
            return base.personalAdapterOf(name, principal);
        } else if ((member.rename ?? member.name) === name) {
          return base.personalAdapterOf(member.name, principal);
        }
      }
      return undefined;
    },
    visible: (snapshot, principal) => base.visible(snapshot, principal),
    fingerprintFor: (snapshot, principal) => base.fingerprintFor(snapshot, principal),
    ownListsFingerprint: (principal) => base.ownListsFingerprint?.(principal) ?? '',
    invalidate: () => base.invalidate(),
    onChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    federationStatus: (adapter) => base.federationStatus(adapter),
    definitionChanged() {
      base.snapshot().then(emitIfChanged, () => undefined);
    },
    close() {
      stopBase();
      listeners.clear();
    },
  };
}
