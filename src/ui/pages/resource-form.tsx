/**
 * @module resource-form: create or edit an adapter or tool. The form builds the same JSON body the API takes and
 * leaves validation to the API: a refusal is shown as the gateway words it, field by field. An edit sends the
 * ETag it read as `If-Match`, so a change made meanwhile elsewhere is a 412, not silently overwritten.
 */
import { useEffect, useState } from 'react';
import type { FormEvent } from 'react';
import { createResource, getResource, updateResource } from '../api.js';
import type { Kind, Resource } from '../api.js';
import { Link, navigate } from '../router.js';
import { ErrorMessage } from '../widgets.js';
import { singular } from './resource-list.js';

type Runtime = 'endpoints' | 'command' | 'image';

interface Fields {
  name: string;
  description: string;
  runtime: Runtime;
  endpoints: string;
  command: string;
  args: string;
  transport: '' | 'stdio' | 'streamable-http';
  imageName: string;
  imageVersion: string;
  replicaCount: string;
  environment: string;
  requiredRoles: string;
  federate: boolean;
  toolDefinition: string;
}

const EXAMPLE_TOOL = JSON.stringify(
  {
    tool: {
      name: 'score',
      description: 'Scores a text',
      inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
    },
  },
  null,
  2,
);

const EMPTY: Fields = {
  name: '',
  description: '',
  runtime: 'endpoints',
  endpoints: '',
  command: '',
  args: '',
  transport: '',
  imageName: '',
  imageVersion: '',
  replicaCount: '1',
  environment: '',
  requiredRoles: '',
  federate: false,
  toolDefinition: EXAMPLE_TOOL,
};

/** The keys the form owns; an edit replaces them and keeps every other field of the resource as it was. */
const OWNED = [
  'description',
  'endpoints',
  'command',
  'args',
  'transport',
  'imageName',
  'imageVersion',
  'replicaCount',
  'environmentVariables',
  'requiredRoles',
  'federate',
  'toolDefinition',
  'id',
  'createdBy',
  'createdAt',
  'lastUpdatedAt',
];

const lines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

function fieldsOf(resource: Resource): Fields {
  const r = resource as Resource & {
    transport?: Fields['transport'];
    federate?: boolean;
    toolDefinition?: unknown;
  };
  return {
    ...EMPTY,
    name: r.name,
    description: r.description,
    runtime: r.command ? 'command' : r.imageName ? 'image' : 'endpoints',
    endpoints: (r.endpoints ?? []).join('\n'),
    command: r.command ?? '',
    args: (r.args ?? []).join('\n'),
    transport: r.transport ?? '',
    imageName: r.imageName ?? '',
    imageVersion: r.imageVersion ?? '',
    replicaCount: String(r.replicaCount),
    environment: Object.entries(r.environmentVariables)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
    requiredRoles: r.requiredRoles.join(', '),
    federate: r.federate ?? false,
    toolDefinition: JSON.stringify(r.toolDefinition ?? {}, null, 2),
  };
}

/** The request body, or a message about the form's own syntax (one `NAME=value` per line, JSON). */
function bodyOf(kind: Kind, f: Fields, base: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = { ...base };
  for (const key of OWNED) delete body[key];
  body.name = f.name.trim();
  if (f.description) body.description = f.description;
  if (f.runtime === 'endpoints') body.endpoints = lines(f.endpoints);
  if (f.runtime === 'command') {
    body.command = f.command.trim();
    const args = lines(f.args);
    if (args.length > 0) body.args = args;
    if (kind === 'adapters' && f.transport) body.transport = f.transport;
  }
  if (f.runtime === 'image') {
    body.imageName = f.imageName.trim();
    if (f.imageVersion.trim()) body.imageVersion = f.imageVersion.trim();
  }
  // Sent as typed: the API says what a replica count must be.
  if (f.replicaCount.trim())
    body.replicaCount = Number.isNaN(Number(f.replicaCount)) ? f.replicaCount : Number(f.replicaCount);
  const env = lines(f.environment);
  if (env.length > 0) {
    body.environmentVariables = Object.fromEntries(
      env.map((line, i) => {
        const eq = line.indexOf('=');
        if (eq < 0) throw new Error(`Environment variables, line ${i + 1}: write NAME=value.`);
        return [line.slice(0, eq), line.slice(eq + 1)];
      }),
    );
  }
  const roles = f.requiredRoles
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  if (roles.length > 0) body.requiredRoles = roles;
  if (kind === 'adapters' && f.federate) body.federate = true;
  if (kind === 'tools') {
    try {
      body.toolDefinition = JSON.parse(f.toolDefinition);
    } catch (err) {
      throw new Error(`Tool definition is not JSON: ${(err as Error).message}`, { cause: err });
    }
  }
  return body;
}

/** `/adapters/new`, `/adapters/{name}/edit` and the same for tools. */
export function ResourceForm({ kind, name }: { kind: Kind; name?: string }) {
  const editing = name !== undefined;
  const [fields, setFields] = useState<Fields>(EMPTY);
  const [original, setOriginal] = useState<{ resource: Resource; etag: string | null }>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!editing) return;
    getResource(kind, name).then(
      (loaded) => {
        setOriginal(loaded);
        setFields(fieldsOf(loaded.resource));
      },
      (err: unknown) => setError(err),
    );
  }, [kind, name, editing]);

  const set =
    <K extends keyof Fields>(key: K) =>
    (value: Fields[K]) =>
      setFields((f) => ({ ...f, [key]: value }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const body = bodyOf(kind, fields, (original?.resource as Record<string, unknown> | undefined) ?? {});
      const saved = editing
        ? await updateResource(kind, name, body, original?.etag ?? null)
        : await createResource(kind, body);
      navigate(`/${kind}/${encodeURIComponent(saved.name)}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const title = editing ? `Edit ${singular(kind)} ${name}` : `New ${singular(kind)}`;
  return (
    <section aria-labelledby="form-title">
      <h1 id="form-title">{title}</h1>
      <form onSubmit={(e) => void submit(e)} className="form" noValidate>
        <div className="row">
          <div className="field">
            <label htmlFor="f-name">Name</label>
            <input
              id="f-name"
              value={fields.name}
              onChange={(e) => set('name')(e.target.value)}
              disabled={editing}
              aria-describedby="f-name-help"
              autoComplete="off"
            />
            <small id="f-name-help">Lowercase letters, digits and “-”; cannot change later.</small>
          </div>
          <div className="field">
            <label htmlFor="f-description">Description</label>
            <input
              id="f-description"
              value={fields.description}
              onChange={(e) => set('description')(e.target.value)}
            />
          </div>
        </div>
        <fieldset>
          <legend>Runs as</legend>
          {(
            [
              ['endpoints', 'URLs that already run (remote)'],
              ['command', 'A command on the gateway host'],
              ['image', 'A container image (Kubernetes)'],
            ] as const
          ).map(([value, label]) => (
            <label key={value} className="inline">
              <input
                type="radio"
                name="runtime"
                value={value}
                checked={fields.runtime === value}
                onChange={() => set('runtime')(value)}
              />
              {label}
            </label>
          ))}
        </fieldset>
        {fields.runtime === 'endpoints' && (
          <div className="field">
            <label htmlFor="f-endpoints">Endpoints</label>
            <textarea
              id="f-endpoints"
              rows={2}
              value={fields.endpoints}
              onChange={(e) => set('endpoints')(e.target.value)}
              placeholder="http://127.0.0.1:8080/mcp"
              aria-describedby="f-endpoints-help"
            />
            <small id="f-endpoints-help">One URL per line; each is a replica.</small>
          </div>
        )}
        {fields.runtime === 'command' && (
          <>
            <div className="field">
              <label htmlFor="f-command">Command</label>
              <input
                id="f-command"
                value={fields.command}
                onChange={(e) => set('command')(e.target.value)}
                placeholder="npx"
                className="mono"
              />
            </div>
            <div className="field">
              <label htmlFor="f-args">Arguments</label>
              <textarea
                id="f-args"
                rows={3}
                value={fields.args}
                onChange={(e) => set('args')(e.target.value)}
                placeholder={'-y\n@modelcontextprotocol/server-everything'}
                className="mono"
                aria-describedby="f-args-help"
              />
              <small id="f-args-help">One argument per line.</small>
            </div>
            {kind === 'adapters' && (
              <div className="field">
                <label htmlFor="f-transport">Transport</label>
                <select
                  id="f-transport"
                  value={fields.transport}
                  onChange={(e) => set('transport')(e.target.value as Fields['transport'])}
                >
                  <option value="">Default (stdio)</option>
                  <option value="stdio">stdio</option>
                  <option value="streamable-http">Streamable HTTP on $PORT</option>
                </select>
              </div>
            )}
          </>
        )}
        {fields.runtime === 'image' && (
          <div className="row">
            <div className="field">
              <label htmlFor="f-image">Image</label>
              <input
                id="f-image"
                value={fields.imageName}
                onChange={(e) => set('imageName')(e.target.value)}
              />
            </div>
            <div className="field">
              <label htmlFor="f-version">Version</label>
              <input
                id="f-version"
                value={fields.imageVersion}
                onChange={(e) => set('imageVersion')(e.target.value)}
              />
            </div>
          </div>
        )}
        <div className="row">
          <div className="field narrow">
            <label htmlFor="f-replicas">Replicas</label>
            <input
              id="f-replicas"
              type="number"
              inputMode="numeric"
              value={fields.replicaCount}
              onChange={(e) => set('replicaCount')(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor="f-roles">Required roles</label>
            <input
              id="f-roles"
              value={fields.requiredRoles}
              onChange={(e) => set('requiredRoles')(e.target.value)}
              placeholder="comma-separated; empty: only you and mcp.admin"
            />
          </div>
        </div>
        <div className="field">
          <label htmlFor="f-env">Environment variables</label>
          <textarea
            id="f-env"
            rows={2}
            value={fields.environment}
            onChange={(e) => set('environment')(e.target.value)}
            placeholder="LOG_LEVEL=info"
            className="mono"
            aria-describedby="f-env-help"
          />
          <small id="f-env-help">One NAME=value per line. Secrets belong in Secrets, not here.</small>
        </div>
        {kind === 'adapters' && (
          <label className="inline">
            <input
              type="checkbox"
              checked={fields.federate}
              onChange={(e) => set('federate')(e.target.checked)}
            />
            List this adapter’s tools on the tool router (/mcp)
          </label>
        )}
        {kind === 'tools' && (
          <div className="field">
            <label htmlFor="f-tool">Tool definition (JSON)</label>
            <textarea
              id="f-tool"
              rows={10}
              value={fields.toolDefinition}
              onChange={(e) => set('toolDefinition')(e.target.value)}
              className="mono"
              spellCheck={false}
            />
          </div>
        )}
        <ErrorMessage error={error} />
        <div className="buttons">
          <button type="submit" disabled={busy}>
            {editing ? 'Save' : `Create ${singular(kind)}`}
          </button>
          <Link
            to={editing ? `/${kind}/${encodeURIComponent(name)}` : `/${kind}`}
            className="button secondary"
          >
            Cancel
          </Link>
        </div>
      </form>
    </section>
  );
}
