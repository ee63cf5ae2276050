/**
 * @module connections-page: the caller's per-user OAuth grants (`oauth-user` adapters, the token vault) — what is
 * connected, disconnecting after a confirmation, and a Connect link for every readable `oauth-user` adapter
 * without a grant. Connecting is a browser flow in its own tab (`/connect/{adapter}` → the upstream's sign-in →
 * `/connect/callback`), so the list is read again when this window gets the focus back, or with Refresh. The
 * same pieces show one adapter's connection on its own page.
 */
import { useCallback, useEffect, useState } from 'react';
import { connectUrl, deleteConnection, isOAuthUser, listConnections, listResources } from '../api.js';
import type { Connection, Resource } from '../api.js';
import { signedIn } from '../auth.js';
import { Link } from '../router.js';
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

/** Why a signed-in console offers no Connect link. */
function NoBrowserConnect({ adapter }: { adapter?: string }) {
  return (
    <p className="note">
      Connecting from the browser is not possible on this gateway yet: it signs callers in with bearer tokens,
      which a browser does not send when it opens <code>{connectUrl(adapter ?? '{adapter}')}</code>, and the
      gateway has no login page. (On a dev-mode gateway, where the browser is the local user, Connect works
      from here.) Disconnecting works.
    </p>
  );
}

/**
 * A link that opens `/connect/{adapter}` in a new tab. With a signed-in console (oidc/jwt) there is no such link:
 * the gateway authenticates `/connect/{adapter}` by the bearer token, which a browser's top-level navigation
 * cannot carry (the console's token lives in this tab's memory), and the gateway has no login page yet.
 */
export function ConnectAction({ adapter }: { adapter: string }) {
  if (signedIn()) return <NoBrowserConnect adapter={adapter} />;
  return (
    <a href={connectUrl(adapter)} target="_blank" rel="noopener" className="button small">
      Connect<span className="visually-hidden"> {adapter}</span>
    </a>
  );
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
              <NoBrowserConnect />
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
                    <td className="actions">{signedIn() ? '—' : <ConnectAction adapter={a.name} />}</td>
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
