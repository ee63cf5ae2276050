/** @module resource-list: the adapters or tools, with their status, a filter, and edit and delete actions. */
import { useCallback, useEffect, useState } from 'react';
import { deleteResource, getStatus, listResources } from '../api.js';
import type { Kind, Resource, ResourceStatus } from '../api.js';
import { Link } from '../router.js';
import { ErrorMessage, StatusBadge } from '../widgets.js';

/** How often statuses are read again while the page is open. */
const REFRESH_MS = 3000;

/** Where a resource runs: a command on the gateway host, URLs that already run, or an image. */
export function runtimeOf(resource: Resource): string {
  if (resource.command) return `command: ${[resource.command, ...(resource.args ?? [])].join(' ')}`;
  if (resource.endpoints?.length) return `endpoints: ${resource.endpoints.join(', ')}`;
  if (resource.imageName) return `image: ${resource.imageName}:${resource.imageVersion ?? 'latest'}`;
  return '—';
}

export const singular = (kind: Kind) => (kind === 'adapters' ? 'adapter' : 'tool');

function DeleteButton({ kind, name, onDeleted }: { kind: Kind; name: string; onDeleted: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<unknown>();
  const remove = async () => {
    try {
      await deleteResource(kind, name);
      onDeleted();
    } catch (err) {
      setError(err);
    }
  };
  if (!confirming)
    return (
      <button type="button" className="danger small" onClick={() => setConfirming(true)}>
        Delete<span className="visually-hidden"> {name}</span>
      </button>
    );
  return (
    <span className="confirm" role="group" aria-label={`Confirm deleting ${name}`}>
      <span>Delete {name}?</span>
      <button type="button" className="danger small" onClick={() => void remove()} autoFocus>
        Yes, delete
      </button>
      <button type="button" className="secondary small" onClick={() => setConfirming(false)}>
        Cancel
      </button>
      <ErrorMessage error={error} />
    </span>
  );
}

/** `/adapters` or `/tools`. */
export function ResourceList({ kind }: { kind: Kind }) {
  const [items, setItems] = useState<Resource[]>();
  const [statuses, setStatuses] = useState<Record<string, ResourceStatus | Error>>({});
  const [error, setError] = useState<unknown>();
  const [filter, setFilter] = useState('');

  const load = useCallback(async () => {
    try {
      const list = await listResources(kind);
      setItems(list);
      setError(undefined);
      const entries = await Promise.all(
        list.map(async (r) => [r.name, await getStatus(kind, r.name).catch((e: Error) => e)] as const),
      );
      setStatuses(Object.fromEntries(entries));
    } catch (err) {
      setError(err);
    }
  }, [kind]);

  useEffect(() => {
    setItems(undefined);
    setStatuses({});
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [load]);

  const needle = filter.trim().toLowerCase();
  const shown = (items ?? []).filter(
    (r) => !needle || r.name.includes(needle) || r.description.toLowerCase().includes(needle),
  );
  const title = kind === 'adapters' ? 'Adapters' : 'Tools';
  return (
    <section aria-labelledby="list-title">
      <div className="page-head">
        <h1 id="list-title">{title}</h1>
        <Link to={`/${kind}/new`} className="button">
          New {singular(kind)}
        </Link>
      </div>
      <p className="lead">
        {kind === 'adapters'
          ? 'MCP servers, each proxied at /adapters/{name}/mcp.'
          : 'Tool servers with one MCP tool each, listed by the tool router at /mcp.'}
      </p>
      <div className="toolbar">
        <label htmlFor="filter">Filter</label>
        <input
          id="filter"
          type="search"
          value={filter}
          placeholder="name or description"
          onChange={(e) => setFilter(e.target.value)}
        />
      </div>
      <ErrorMessage error={error} />
      {items === undefined && !error && <p>Loading…</p>}
      {items !== undefined && shown.length === 0 && (
        <p className="empty">
          {items.length === 0 ? `No ${kind} registered yet.` : `No ${kind} match “${filter}”.`}
        </p>
      )}
      {shown.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Ready</th>
              <th scope="col">Runs as</th>
              <th scope="col">Description</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => {
              const status = statuses[r.name];
              const known = status && !(status instanceof Error) ? status : undefined;
              return (
                <tr key={r.name}>
                  <td>
                    <Link to={`/${kind}/${encodeURIComponent(r.name)}`}>{r.name}</Link>
                  </td>
                  <td>
                    <StatusBadge
                      status={status instanceof Error ? `Unknown: ${status.message}` : known?.replicaStatus}
                    />
                  </td>
                  <td>{known ? `${known.readyReplicas}/${r.replicaCount}` : '—'}</td>
                  <td className="mono clip" title={runtimeOf(r)}>
                    {runtimeOf(r)}
                  </td>
                  <td className="clip" title={r.description}>
                    {r.description}
                  </td>
                  <td className="actions">
                    <Link
                      to={`/${kind}/${encodeURIComponent(r.name)}/edit`}
                      className="button secondary small"
                    >
                      Edit<span className="visually-hidden"> {r.name}</span>
                    </Link>
                    <DeleteButton kind={kind} name={r.name} onDeleted={() => void load()} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
