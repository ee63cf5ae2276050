/**
 * @module resource-page: one adapter or tool — its status per replica (read again every few seconds), its logs
 * (once, or followed: the API keeps the answer open and streams lines as they are written), and how to connect
 * an MCP client to it, with copy buttons; for an `oauth-user` adapter, the caller's own connection to its upstream.
 */
import { useEffect, useRef, useState } from 'react';
import { getResource, getStatus, isOAuthUser, logsUrl } from '../api.js';
import { authHeaders } from '../auth.js';
import type { Kind, Resource, ResourceStatus } from '../api.js';
import { Link } from '../router.js';
import { ErrorMessage, Snippet, StatusBadge } from '../widgets.js';
import { AdapterConnection } from './connections-page.js';
import { runtimeOf, singular } from './resource-list.js';

const REFRESH_MS = 2000;
/** Lines kept on screen while following: a chatty server must not grow the page without bound. */
const MAX_LOG_CHARS = 200_000;

function StatusSection({ kind, name, replicas }: { kind: Kind; name: string; replicas: number }) {
  const [status, setStatus] = useState<ResourceStatus>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    let live = true;
    const read = () =>
      getStatus(kind, name).then(
        (s) => live && (setStatus(s), setError(undefined)),
        (err: unknown) => live && setError(err),
      );
    void read();
    const timer = setInterval(() => void read(), REFRESH_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [kind, name]);
  return (
    <section aria-labelledby="status-title" className="card">
      <h2 id="status-title">
        Status <StatusBadge status={status?.replicaStatus} />
      </h2>
      <ErrorMessage error={error} />
      {status && (
        <>
          <p>
            {status.readyReplicas} of {replicas} replicas ready · runtime {status.runtime}
            {status.federation &&
              ` · federation ${status.federation.state} (${status.federation.tools} tools${status.federation.error ? `: ${status.federation.error}` : ''})`}
          </p>
          <table>
            <thead>
              <tr>
                <th scope="col">Replica</th>
                <th scope="col">State</th>
                <th scope="col">Endpoint</th>
                <th scope="col">Sessions</th>
                <th scope="col">Latency</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {status.replicas.map((r) => (
                <tr key={r.instance}>
                  <td>{r.instance}</td>
                  <td className="nowrap">
                    <span className={`dot ${r.ready ? 'dot-ready' : 'dot-not-ready'}`} aria-hidden="true" />
                    {r.state}
                    <span className="visually-hidden">{r.ready ? ' (ready)' : ' (not ready)'}</span>
                  </td>
                  <td className="mono">{r.endpoint ?? '—'}</td>
                  <td>
                    {r.sessions === undefined
                      ? '—'
                      : `${r.sessions}${r.maxSessions ? ` / ${r.maxSessions}` : ''}`}
                  </td>
                  <td>{r.latencyMs === undefined ? '—' : `${Math.round(r.latencyMs)} ms`}</td>
                  <td>{r.detail ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

function LogsSection({ kind, name, replicas }: { kind: Kind; name: string; replicas: number }) {
  const [instance, setInstance] = useState(0);
  const [follow, setFollow] = useState(false);
  const [text, setText] = useState('');
  const [error, setError] = useState<unknown>();
  const [loads, setLoads] = useState(0);
  const box = useRef<HTMLPreElement>(null);

  useEffect(() => {
    const abort = new AbortController();
    setText('');
    setError(undefined);
    (async () => {
      const res = await fetch(logsUrl(kind, name, instance, follow), {
        signal: abort.signal,
        headers: authHeaders(),
      });
      if (!res.ok) {
        const body = (await res.json().catch(() => undefined)) as
          { error?: { message?: string } } | undefined;
        throw new Error(body?.error?.message ?? `${res.status} ${res.statusText}`);
      }
      if (!res.body) return setText(await res.text());
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        setText((t) => (t + value).slice(-MAX_LOG_CHARS));
      }
    })().catch((err: unknown) => {
      if (!abort.signal.aborted) setError(err);
    });
    return () => abort.abort();
  }, [kind, name, instance, follow, loads]);

  // Keeps the newest line in view while following.
  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [text, follow]);

  return (
    <section aria-labelledby="logs-title" className="card">
      <h2 id="logs-title">Logs</h2>
      <div className="toolbar">
        <label htmlFor="log-instance">Replica</label>
        <select id="log-instance" value={instance} onChange={(e) => setInstance(Number(e.target.value))}>
          {Array.from({ length: Math.max(replicas, 1) }, (_, i) => (
            <option key={i} value={i}>
              {i}
            </option>
          ))}
        </select>
        <label className="inline">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} />
          Follow
        </label>
        {!follow && (
          <button type="button" className="secondary small" onClick={() => setLoads((n) => n + 1)}>
            Refresh
          </button>
        )}
      </div>
      <ErrorMessage error={error} />
      <pre className="logs" ref={box} tabIndex={0} aria-label={`Logs of replica ${instance}`} aria-live="off">
        {text || (follow ? 'Waiting for lines…' : 'No lines.')}
      </pre>
    </section>
  );
}

function ConnectSection({ kind, name }: { kind: Kind; name: string }) {
  const url = kind === 'adapters' ? `${location.origin}/adapters/${name}/mcp` : `${location.origin}/mcp`;
  const server = kind === 'adapters' ? name : 'mcp-gateway';
  const vscode = JSON.stringify({ servers: { [server]: { type: 'http', url } } }, null, 2);
  return (
    <section aria-labelledby="connect-title" className="card">
      <h2 id="connect-title">Connect</h2>
      {kind === 'tools' && <p>A tool is served by the tool router, with every other tool you may see.</p>}
      <h3>MCP URL</h3>
      <Snippet text={url} label="MCP URL" />
      <h3>Claude Code</h3>
      <Snippet text={`claude mcp add --transport http ${server} ${url}`} label="claude mcp add command" />
      <h3>VS Code (.vscode/mcp.json)</h3>
      <Snippet text={vscode} label="VS Code mcp.json" />
      <p>
        <Link to={`/console?target=${kind === 'adapters' ? encodeURIComponent(name) : ''}`}>
          Open in the test console
        </Link>
      </p>
    </section>
  );
}

/** `/adapters/{name}` or `/tools/{name}`. */
export function ResourcePage({ kind, name }: { kind: Kind; name: string }) {
  const [resource, setResource] = useState<Resource>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    setResource(undefined);
    getResource(kind, name).then(
      ({ resource }) => setResource(resource),
      (err: unknown) => setError(err),
    );
  }, [kind, name]);
  return (
    <section aria-labelledby="resource-title">
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to={`/${kind}`}>{kind === 'adapters' ? 'Adapters' : 'Tools'}</Link> / {name}
      </nav>
      <div className="page-head">
        <h1 id="resource-title">
          {name} <span className="kind">{singular(kind)}</span>
        </h1>
        <Link to={`/${kind}/${encodeURIComponent(name)}/edit`} className="button secondary">
          Edit
        </Link>
      </div>
      <ErrorMessage error={error} />
      {resource && (
        <>
          {resource.description && <p className="lead">{resource.description}</p>}
          <p className="mono">{runtimeOf(resource)}</p>
          <div className="columns">
            <div>
              <StatusSection kind={kind} name={name} replicas={resource.replicaCount} />
              <LogsSection kind={kind} name={name} replicas={resource.replicaCount} />
            </div>
            <div>
              {kind === 'adapters' && isOAuthUser(resource) && <AdapterConnection adapter={name} />}
              <ConnectSection kind={kind} name={name} />
            </div>
          </div>
        </>
      )}
    </section>
  );
}
