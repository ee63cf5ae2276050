import { describe, expect, it } from 'vitest';
import type { Tool } from '@modelcontextprotocol/server';
import type { Registered, ToolsetSpec } from '../registry/index.js';
import { createXxh64Hash } from '../routing/index.js';
import type { Hash64 } from '../routing/index.js';
import type { CatalogEntry, CatalogSnapshot } from './catalog.js';
import { realEntryOf, scopeSnapshot, unresolvedFor } from './toolset-scope.js';

const hash: Hash64 = await createXxh64Hash();

const owner = (name: string, createdBy = 'alice', requiredRoles: string[] = []) =>
  ({ name, createdBy, spec: { requiredRoles } }) as unknown as Registered;

function registered(name: string, by = 'alice'): CatalogEntry {
  const resource = owner(name, by) as Registered<'tool'>;
  const tool: Tool = { name, description: `${name} tool`, inputSchema: { type: 'object' } };
  return { name, tool, owner: resource, target: { kind: 'registered', resource }, digest: hash(name) };
}

function federated(adapter: string, upstream: string): CatalogEntry {
  const resource = owner(adapter) as Registered<'adapter'>;
  const name = `${adapter}__${upstream}`;
  const tool: Tool = { name: upstream, inputSchema: { type: 'object' } };
  return {
    name,
    tool: { ...tool, name },
    owner: resource,
    target: { kind: 'federated', adapter: resource, upstream: tool },
    digest: hash(name),
  };
}

function snapshotOf(entries: CatalogEntry[]): CatalogSnapshot {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : 1));
  return { entries: sorted, byName: new Map(sorted.map((e) => [e.name, e])), fingerprint: 'base' };
}

const base = snapshotOf([
  registered('score'),
  registered('bobs', 'bob'),
  federated('github', 'create_issue'),
  federated('github', 'close_issue'),
  federated('slack', 'post'),
]);
const toolset = (tools: ToolsetSpec['tools']): ToolsetSpec => ({ description: '', tools, requiredRoles: [] });
const scope = (tools: ToolsetSpec['tools']) => scopeSnapshot(base, toolset(tools), { separator: '__', hash });

describe('scopeSnapshot', () => {
  it('keeps just the members, in name order, a wildcard standing for every tool of its adapter', () => {
    const { snapshot } = scope(['slack__post', 'github__*']);
    expect(snapshot.entries.map((e) => e.name)).toEqual([
      'github__close_issue',
      'github__create_issue',
      'slack__post',
    ]);
    expect(snapshot.byName.has('score')).toBe(false);
  });

  it('shows a renamed member under its new name and description, its target still the real tool', () => {
    const { snapshot } = scope([
      { name: 'github__create_issue', rename: 'file_bug', description: 'File a bug' },
    ]);
    const entry = snapshot.byName.get('file_bug')!;
    expect(entry.tool).toMatchObject({ name: 'file_bug', description: 'File a bug' });
    expect(entry.target).toMatchObject({ kind: 'federated', upstream: { name: 'create_issue' } });
    expect(snapshot.byName.has('github__create_issue')).toBe(false);
    // Renaming changes the digest, so a rename is a list change for the streams.
    expect(entry.digest).not.toBe(base.byName.get('github__create_issue')!.digest);
  });

  it('maps a renamed entry back to the catalog’s own (what tool policies judge)', () => {
    const { snapshot } = scope([{ name: 'github__create_issue', rename: 'file_bug' }, 'score']);
    expect(realEntryOf(snapshot.byName.get('file_bug')!)).toBe(base.byName.get('github__create_issue'));
    expect(realEntryOf(snapshot.byName.get('score')!)).toBe(base.byName.get('score'));
  });

  it('carries the members held back by pinning, under the names the toolset shows', () => {
    const github = owner('github');
    const held = new Map([
      ['github__delete_repo', { owner: github, reason: 'held: changed' }],
      ['slack__purge', { owner: owner('slack'), reason: 'held: changed' }],
      ['github__fork', { owner: github, reason: 'held: changed' }],
    ]);
    const withHeld: CatalogSnapshot = { ...base, held };
    const spec = toolset(['github__*', { name: 'slack__purge', rename: 'purge' }]);
    const { snapshot } = scopeSnapshot(withHeld, spec, { separator: '__', hash });
    expect([...(snapshot.held?.keys() ?? [])].sort()).toEqual([
      'github__delete_repo',
      'github__fork',
      'purge',
    ]);
    expect(scope(['score']).snapshot.held).toBeUndefined();
  });

  it('gives a single member the name a wildcard tool would take, and leaves that tool out', () => {
    const { snapshot } = scope(['github__*', { name: 'score', rename: 'github__close_issue' }]);
    expect(snapshot.entries.map((e) => e.name)).toEqual(['github__close_issue', 'github__create_issue']);
    expect(snapshot.byName.get('github__close_issue')!.target.kind).toBe('registered');
  });

  it('reports members that stand for no tool the reader may use', () => {
    const { members } = scope(['score', 'bobs', 'later__tool', 'nobody__*', 'git*']);
    const alice = { userId: 'alice', roles: [] };
    expect(unresolvedFor(members, alice)).toEqual(['bobs', 'later__tool', 'nobody__*', 'git*']);
    expect(unresolvedFor(members, { userId: 'root', roles: ['mcp.admin'] })).toEqual([
      'later__tool',
      'nobody__*',
      'git*',
    ]);
  });

  it('changes its fingerprint when the membership does, not otherwise', () => {
    expect(scope(['score']).snapshot.fingerprint).toBe(scope(['score']).snapshot.fingerprint);
    expect(scope(['score']).snapshot.fingerprint).not.toBe(
      scope(['score', 'slack__post']).snapshot.fingerprint,
    );
    expect(scope(['score']).snapshot.fingerprint).not.toBe(
      scope([{ name: 'score', description: 'other' }]).snapshot.fingerprint,
    );
  });
});
