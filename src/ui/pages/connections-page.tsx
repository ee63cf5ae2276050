/**
 * @module connections-page: the caller's per-user OAuth grants (`oauth-user` adapters, the token vault) — what is
 * connected, disconnecting after a confirmation, and Connect for every readable `oauth-user` adapter without a
 * grant. Connecting is a browser flow (`/connect/{adapter}` → the upstream's sign-in → `/connect/callback`): on a
 * dev-mode gateway a link opens it in its own tab, so the list is read again when this window gets the focus
 * back, or with Refresh; a signed-in console (oidc/jwt), whose token a navigation cannot carry, starts it with
 * `POST /connect/{adapter}` and sends this tab to the authorization server. `?connect={adapter}` (where the
 * gateway sends a browser that opened the elicitation's link without a token) starts it once signed in. The same
 * pieces show one adapter's connection on its own page.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import {
  connectUrl,
  deleteConnection,
  isOAuthUser,
  listConnections,
  listResources,
  startConnection,
} from '../api.js';
import type { Connection, Resource } from '../api.js';
import { signedIn } from '../auth.js';
import { Link, navigate, useLocation } from '../router.js';
import { ErrorMessage } from '../widgets.js';

/** The caller's grants, read again on focus (back from the connect tab) and on `reload`. */
export function useConnections(): {
  connections: Connection[] | undefined;
  error: unknown;
  reload: () => void;
} {
  const [connections, setConnections] = useState<Connection[]>();
  const [error, setError] = useState<unknown>();
  const reload = useCallback(() => {
    listConnections().then(
      (list) => (setConnections(list), setError(undefined)),
      (err: unknown) => setError(err),
    );
  }, []);
  useEffect(() => {
    reload();
    const onVisible = () => document.visibilityState === 'visible' && reload();
    window.addEventListener('focus', reload);
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      window.removeEventListener('focus', reload);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [reload]);
  return { connections, error, reload };
}

const when = (iso: string | null) => (iso === null ? '—' : new Date(iso).toLocaleString());

/** Starts the flow with the console's token and sends this tab to the upstream's authorization server. */
async function connectHere(adapter: string): Promise<void> {
  location.assign(await startConnection(adapter));
}

/**
 * Connect: on a dev-mode gateway a link that opens `/connect/{adapter}` in a new tab (the browser is the local
 * user); with a signed-in console (oidc/jwt) a button that starts the flow with the token ({@link connectHere}).
 */
export function ConnectAction({ adapter }: { adapter: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  if (!signedIn())
    return (
      <a href={connectUrl(adapter)} target="_blank" rel="noopener" className="button small">
        Connect<span className="visually-hidden"> {adapter}</span>
      </a>
    );
  const connect = () => {
    setBusy(true);
    setError(undefined);
    connectHere(adapter).catch((err: unknown) => {
      setError(err);
      setBusy(false);
    });
  };
  return (
    <>
      <button type="button" className="small" onClick={connect} disabled={busy}>
        {busy ? 'Redirecting…' : 'Connect'}
        <span className="visually-hidden"> {adapter}</span>
      </button>
      <ErrorMessage error={error} />
    </>
  );
}

/**
 * `?connect={adapter}`: once, the parameter is dropped from the address and the flow started (the tab leaves for
 * the authorization server); what went wrong is shown on the page.
 */
function useConnectParameter(): { connecting: string | undefined; error: unknown } {
  const { query } = useLocation();
  const wanted = query.get('connect') ?? undefined;
  const started = useRef(false);
  const [connecting, setConnecting] = useState<string>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    if (wanted === undefined || started.current) return;
    started.current = true;
    navigate('/connections', true);
    setConnecting(wanted);
    connectHere(wanted).catch((err: unknown) => {
      setError(err);
      setConnecting(undefined);
    });
  }, [wanted]);
  return { connecting, error };
}

/** Disconnect after a confirmation: the gateway deletes the grant and revokes it at the upstream. */
export function DisconnectButton({ adapter, onDone }: { adapter: string; onDone: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<unknown>();
  const disconnect = async () => {
    try {
      await deleteConnection(adapter);
      setConfirming(false);
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  if (!confirming)
    return (
      <button type="button" className="danger small" onClick={() => setConfirming(true)}>
        Disconnect<span className="visually-hidden"> {adapter}</span>
      </button>
    );
  return (
    <span className="confirm" role="group" aria-label={`Confirm disconnecting ${adapter}`}>
      <span>Disconnect {adapter}?</span>
      <button type="button" className="danger small" onClick={() => void disconnect()} autoFocus>
        Yes, disconnect
      </button>
      <button type="button" className="secondary small" onClick={() => setConfirming(false)}>
        Cancel
      </button>
      <ErrorMessage error={error} />
    </span>
  );
}

function RefreshButton({ onClick }: { onClick: () => void }) {
  return (
    <button type="button" className="secondary small" onClick={onClick}>
      Refresh
    </button>
  );
}

/** An `oauth-user` adapter's own page: whether the caller is connected, and Connect or Disconnect. */
export function AdapterConnection({ adapter }: { adapter: string }) {
  const { connections, error, reload } = useConnections();
  const grant = connections?.find((c) => c.adapter === adapter);
  return (
    <section aria-labelledby="oauth-title" className="card">
      <h2 id="oauth-title">Your connection</h2>
      <p>This adapter’s upstream signs each caller in (OAuth); the gateway sends it your own token.</p>
      <ErrorMessage error={error} />
      {connections && grant && (
        <>
          <p>
            <strong>Connected</strong> since {when(grant.createdAt)} · scopes{' '}
            {grant.scopes.length ? grant.scopes.join(' ') : '—'} · access token expires{' '}
            {when(grant.expiresAt)}
          </p>
          <div className="toolbar">
            <DisconnectButton adapter={adapter} onDone={reload} />
          </div>
        </>
      )}
      {connections && !grant && (
        <>
          <p>
            <strong>Not connected</strong>: its MCP requests are answered with the sign-in URL (-32042) until
            you connect.
          </p>
          <div className="toolbar">
            <ConnectAction adapter={adapter} />
            <RefreshButton onClick={reload} />
          </div>
        </>
      )}
    </section>
  );
}

/** `/connections`. */
export function ConnectionsPage() {
  const { connections, error, reload } = useConnections();
  const requested = useConnectParameter();
  const [adapters, setAdapters] = useState<Resource[]>();
  const [adaptersError, setAdaptersError] = useState<unknown>();
  const loadAdapters = useCallback(() => {
    listResources('adapters').then(
      (list) => (setAdapters(list.filter(isOAuthUser)), setAdaptersError(undefined)),
      (err: unknown) => setAdaptersError(err),
    );
  }, []);
  useEffect(loadAdapters, [loadAdapters]);
  const refresh = () => {
    reload();
    loadAdapters();
  };
  const connected = new Set(connections?.map((c) => c.adapter));
  const unconnected = adapters?.filter((a) => !connected.has(a.name));

  return (
    <section aria-labelledby="connections-title">
      <div className="page-head">
        <h1 id="connections-title">Connections</h1>
        <RefreshButton onClick={refresh} />
      </div>
      <p className="lead">
        Your own OAuth grants for adapters whose upstream signs each caller in (<code>oauth-user</code>). The
        gateway keeps them encrypted and never shows a token; access tokens are refreshed for you.
      </p>
      {requested.connecting !== undefined && (
        <p role="status">
          Connecting <code>{requested.connecting}</code>: on to its sign-in…
        </p>
      )}
      <ErrorMessage error={requested.error} />
      <section aria-labelledby="connected-title" className="card">
        <h2 id="connected-title">Connected</h2>
        <ErrorMessage error={error} />
        {connections && connections.length === 0 && (
          <p className="empty">You have not connected any adapter.</p>
        )}
        {connections && connections.length > 0 && (
          <table aria-label="Your connections">
            <thead>
              <tr>
                <th scope="col">Adapter</th>
                <th scope="col">Scopes</th>
                <th scope="col">Connected</th>
                <th scope="col">Access token expires</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {connections.map((c) => (
                <tr key={c.adapter}>
                  <td className="mono">
                    <Link to={`/adapters/${encodeURIComponent(c.adapter)}`}>{c.adapter}</Link>
                  </td>
                  <td className="mono">{c.scopes.length ? c.scopes.join(' ') : '—'}</td>
                  <td>{when(c.createdAt)}</td>
                  <td>{when(c.expiresAt)}</td>
                  <td className="actions">
                    <DisconnectButton adapter={c.adapter} onDone={reload} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section aria-labelledby="unconnected-title" className="card">
        <h2 id="unconnected-title">Not connected</h2>
        <ErrorMessage error={adaptersError} />
        {unconnected && unconnected.length === 0 && (
          <p className="empty">Every OAuth adapter you can use is connected.</p>
        )}
        {unconnected && unconnected.length > 0 && (
          <>
            {signedIn() ? (
              <p>Connect takes this tab to the upstream’s sign-in; it ends on a page that says Connected.</p>
            ) : (
              <p>Connect opens the upstream’s sign-in in a new tab; come back here when it says Connected.</p>
            )}
            <table aria-label="Adapters you can connect">
              <thead>
                <tr>
                  <th scope="col">Adapter</th>
                  <th scope="col">Description</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {unconnected.map((a) => (
                  <tr key={a.name}>
                    <td className="mono">
                      <Link to={`/adapters/${encodeURIComponent(a.name)}`}>{a.name}</Link>
                    </td>
                    <td>{a.description || '—'}</td>
                    <td className="actions">
                      <ConnectAction adapter={a.name} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </section>
    </section>
  );
}
