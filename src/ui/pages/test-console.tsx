/**
 * @module test-console: an MCP client in the browser — the official SDK's `Client` over Streamable HTTP — that
 * connects to one adapter (`/adapters/{name}/mcp`) or the tool router (`/mcp`) of this gateway, lists its tools,
 * resources and prompts, and calls a tool with a form generated from its `inputSchema`, showing the progress
 * notifications the server sends and the result.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult, Prompt, Resource, Tool } from '@modelcontextprotocol/sdk/types.js';
import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/cfworker';
import { useEffect, useRef, useState } from 'react';
import { listResources } from '../api.js';
import { authHeaders } from '../auth.js';
import { navigate } from '../router.js';
import { SchemaForm } from '../schema-form.js';
import type { InputSchema } from '../schema-form.js';
import { ErrorMessage } from '../widgets.js';

/** What the connected server offers. */
interface Listing {
  server: string;
  tools: Tool[];
  resources: Resource[] | string;
  prompts: Prompt[] | string;
}

interface Progress {
  progress: number;
  total?: number;
  message?: string;
}

/** Calls a server-wide method only when the server declared the capability; says so otherwise. */
async function listed<T>(offered: boolean, list: () => Promise<T[]>): Promise<T[] | string> {
  if (!offered) return 'not offered by this server';
  try {
    return await list();
  } catch (err) {
    return `failed: ${(err as Error).message}`;
  }
}

function ResultView({ result }: { result: CallToolResult }) {
  return (
    <div className={result.isError ? 'result result-error' : 'result'}>
      <h3>{result.isError ? 'Tool error' : 'Result'}</h3>
      {result.content.map((item, i) =>
        item.type === 'text' ? (
          <pre key={i} className="result-text">
            {item.text}
          </pre>
        ) : (
          <pre key={i}>{JSON.stringify(item, null, 2)}</pre>
        ),
      )}
      {result.structuredContent !== undefined && (
        <>
          <h4>Structured content</h4>
          <pre>{JSON.stringify(result.structuredContent, null, 2)}</pre>
        </>
      )}
    </div>
  );
}

/** `/console?target=NAME` (an adapter) or `/console?target=` (the tool router). */
export function TestConsole({ target }: { target: string }) {
  const [adapters, setAdapters] = useState<string[]>([]);
  const [listing, setListing] = useState<Listing>();
  const [error, setError] = useState<unknown>();
  const [connecting, setConnecting] = useState(false);
  const [selected, setSelected] = useState<Tool>();
  const [calling, setCalling] = useState(false);
  const [progress, setProgress] = useState<Progress[]>([]);
  const [result, setResult] = useState<CallToolResult>();
  const [callError, setCallError] = useState<unknown>();
  const client = useRef<Client>(undefined);

  useEffect(() => {
    listResources('adapters').then(
      (list) => setAdapters(list.map((a) => a.name)),
      () => setAdapters([]),
    );
  }, []);

  const disconnect = async () => {
    const current = client.current;
    client.current = undefined;
    setListing(undefined);
    setSelected(undefined);
    setResult(undefined);
    setProgress([]);
    // Ends the session upstream (DELETE) before the transport closes.
    await (current?.transport as StreamableHTTPClientTransport | undefined)
      ?.terminateSession()
      .catch(() => undefined);
    await current?.close().catch(() => undefined);
  };
  // Leaving the page or choosing another target ends the session.
  useEffect(
    () => () => {
      void disconnect();
    },
    [target],
  );

  const url = target ? `/adapters/${encodeURIComponent(target)}/mcp` : '/mcp';

  const connect = async () => {
    await disconnect();
    setError(undefined);
    setConnecting(true);
    try {
      // Without eval: the console's policy allows no `unsafe-eval`, which the default (Ajv) validator needs.
      const next = new Client(
        { name: 'mcp-gateway-console', version: '1.0.0' },
        { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() },
      );
      await next.connect(
        new StreamableHTTPClientTransport(new URL(url, location.origin), {
          requestInit: { headers: authHeaders() },
        }),
      );
      client.current = next;
      const caps = next.getServerCapabilities() ?? {};
      const info = next.getServerVersion();
      const [tools, resources, prompts] = await Promise.all([
        caps.tools ? next.listTools().then((r) => r.tools) : Promise.resolve([]),
        listed(Boolean(caps.resources), () => next.listResources().then((r) => r.resources)),
        listed(Boolean(caps.prompts), () => next.listPrompts().then((r) => r.prompts)),
      ]);
      setListing({
        server: info ? `${info.name} ${info.version}` : 'unnamed server',
        tools,
        resources,
        prompts,
      });
    } catch (err) {
      setError(err);
      await disconnect();
    } finally {
      setConnecting(false);
    }
  };

  const callTool = async (args: Record<string, unknown>) => {
    if (!client.current || !selected) return;
    setCalling(true);
    setProgress([]);
    setResult(undefined);
    setCallError(undefined);
    try {
      const answer = (await client.current.callTool({ name: selected.name, arguments: args }, undefined, {
        onprogress: (p) => setProgress((list) => [...list, p]),
        resetTimeoutOnProgress: true,
      })) as CallToolResult;
      setResult(answer);
    } catch (err) {
      setCallError(err);
    } finally {
      setCalling(false);
    }
  };

  return (
    <section aria-labelledby="console-title">
      <h1 id="console-title">Test console</h1>
      <p className="lead">
        An MCP client in this page (the official TypeScript SDK), connected through the gateway.
      </p>
      <div className="toolbar">
        <label htmlFor="target">Server</label>
        <select
          id="target"
          value={target}
          onChange={(e) => navigate(`/console?target=${encodeURIComponent(e.target.value)}`, true)}
        >
          <option value="">Tool router (/mcp)</option>
          {/* The target is offered before the list arrives (and if the list does not name it). */}
          {[...new Set(target ? [...adapters, target] : adapters)].map((name) => (
            <option key={name} value={name}>
              Adapter {name} (/adapters/{name}/mcp)
            </option>
          ))}
        </select>
        <button type="button" onClick={() => void connect()} disabled={connecting}>
          {connecting ? 'Connecting…' : listing ? 'Reconnect' : 'Connect'}
        </button>
        {listing && (
          <button type="button" className="secondary" onClick={() => void disconnect()}>
            Disconnect
          </button>
        )}
      </div>
      <ErrorMessage error={error} />
      {listing && (
        <>
          <p role="status">
            Connected to <strong>{listing.server}</strong> at <code>{url}</code>
          </p>
          <div className="columns">
            <div>
              <section className="card" aria-labelledby="tools-title">
                <h2 id="tools-title">Tools ({listing.tools.length})</h2>
                {listing.tools.length === 0 && <p className="empty">No tools.</p>}
                <ul className="pick-list">
                  {listing.tools.map((tool) => (
                    <li key={tool.name}>
                      <button
                        type="button"
                        className={selected?.name === tool.name ? 'pick selected' : 'pick'}
                        aria-pressed={selected?.name === tool.name}
                        onClick={() => {
                          setSelected(tool);
                          setResult(undefined);
                          setProgress([]);
                          setCallError(undefined);
                        }}
                      >
                        <span className="mono">{tool.name}</span>
                        {tool.description && <small>{tool.description}</small>}
                      </button>
                    </li>
                  ))}
                </ul>
              </section>
              <section className="card" aria-labelledby="resources-title">
                <h2 id="resources-title">Resources</h2>
                {typeof listing.resources === 'string' ? (
                  <p className="empty">{listing.resources}</p>
                ) : listing.resources.length === 0 ? (
                  <p className="empty">None.</p>
                ) : (
                  <ul>
                    {listing.resources.map((r) => (
                      <li key={r.uri}>
                        <span className="mono">{r.uri}</span> {r.name}
                      </li>
                    ))}
                  </ul>
                )}
              </section>
              <section className="card" aria-labelledby="prompts-title">
                <h2 id="prompts-title">Prompts</h2>
                {typeof listing.prompts === 'string' ? (
                  <p className="empty">{listing.prompts}</p>
                ) : listing.prompts.length === 0 ? (
                  <p className="empty">None.</p>
                ) : (
                  <ul>
                    {listing.prompts.map((p) => (
                      <li key={p.name}>
                        <span className="mono">{p.name}</span> {p.description}
                      </li>
                    ))}
                  </ul>
                )}
              </section>
            </div>
            <section className="card" aria-labelledby="call-title">
              <h2 id="call-title">{selected ? `Call ${selected.name}` : 'Call a tool'}</h2>
              {!selected && <p className="empty">Choose a tool.</p>}
              {selected && (
                <>
                  {selected.description && <p>{selected.description}</p>}
                  <SchemaForm
                    schema={selected.inputSchema as InputSchema}
                    busy={calling}
                    onSubmit={(args) => void callTool(args)}
                  />
                  {progress.length > 0 && (
                    <div aria-live="polite">
                      <h3>Progress</h3>
                      <ol className="progress">
                        {progress.map((p, i) => (
                          <li key={i}>
                            {p.progress}
                            {p.total !== undefined && ` / ${p.total}`}
                            {p.message && ` — ${p.message}`}
                          </li>
                        ))}
                      </ol>
                    </div>
                  )}
                  <ErrorMessage error={callError} />
                  {result && <ResultView result={result} />}
                </>
              )}
            </section>
          </div>
        </>
      )}
    </section>
  );
}
