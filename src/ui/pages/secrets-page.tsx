/**
 * @module secrets-page: the secret store. Values are write-only: the page sends one in a password field and
 * never shows or keeps it (the API never returns it); it lists names, who uses each, and when it changed.
 */
import { useCallback, useEffect, useState } from 'react';
import type { FormEvent } from 'react';
import { createSecret, deleteResource, listSecrets, rotateSecret } from '../api.js';
import type { SecretResource } from '../api.js';
import { ErrorMessage } from '../widgets.js';

function RotateForm({ name, onDone }: { name: string; onDone: () => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<unknown>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      await rotateSecret(name, value);
      setValue('');
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} className="inline-form">
      <label htmlFor={`rotate-${name}`}>New value for {name}</label>
      <input
        id={`rotate-${name}`}
        type="password"
        autoComplete="new-password"
        value={value}
        onChange={(e) => setValue(e.target.value)}
        autoFocus
      />
      <button type="submit" className="small">
        Rotate
      </button>
      <button type="button" className="secondary small" onClick={onDone}>
        Cancel
      </button>
      <ErrorMessage error={error} />
    </form>
  );
}

function SecretRow({ secret, reload }: { secret: SecretResource; reload: () => void }) {
  const [mode, setMode] = useState<'idle' | 'rotate' | 'delete'>('idle');
  const [error, setError] = useState<unknown>();
  const remove = async () => {
    try {
      await deleteResource('secrets', secret.name);
      reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <tr>
      <td className="mono">{secret.name}</td>
      <td>{secret.usedBy.length === 0 ? '—' : secret.usedBy.map((u) => `${u.kind} ${u.name}`).join(', ')}</td>
      <td>{new Date(secret.lastUpdatedAt).toLocaleString()}</td>
      <td className="actions">
        {mode === 'idle' && (
          <>
            <button type="button" className="secondary small" onClick={() => setMode('rotate')}>
              Rotate<span className="visually-hidden"> {secret.name}</span>
            </button>
            <button type="button" className="danger small" onClick={() => setMode('delete')}>
              Delete<span className="visually-hidden"> {secret.name}</span>
            </button>
          </>
        )}
        {mode === 'rotate' && (
          <RotateForm
            name={secret.name}
            onDone={() => {
              setMode('idle');
              reload();
            }}
          />
        )}
        {mode === 'delete' && (
          <span className="confirm" role="group" aria-label={`Confirm deleting ${secret.name}`}>
            <span>Delete {secret.name}?</span>
            <button type="button" className="danger small" onClick={() => void remove()} autoFocus>
              Yes, delete
            </button>
            <button type="button" className="secondary small" onClick={() => setMode('idle')}>
              Cancel
            </button>
          </span>
        )}
        <ErrorMessage error={error} />
      </td>
    </tr>
  );
}

/** `/secrets`. */
export function SecretsPage() {
  const [secrets, setSecrets] = useState<SecretResource[]>();
  const [error, setError] = useState<unknown>();
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const [createError, setCreateError] = useState<unknown>();

  const load = useCallback(() => {
    listSecrets().then(
      (list) => (setSecrets(list), setError(undefined)),
      (err: unknown) => setError(err),
    );
  }, []);
  useEffect(load, [load]);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setCreateError(undefined);
    try {
      await createSecret(name.trim(), value);
      setName('');
      setValue('');
      load();
    } catch (err) {
      setCreateError(err);
    }
  };

  return (
    <section aria-labelledby="secrets-title">
      <h1 id="secrets-title">Secrets</h1>
      <p className="lead">
        Stored encrypted; adapters and tools name them in <code>secretEnvironmentVariables</code>. A value can
        be replaced, never read back.
      </p>
      <form onSubmit={(e) => void create(e)} className="card form" aria-labelledby="new-secret-title">
        <h2 id="new-secret-title">New secret</h2>
        <div className="row">
          <div className="field">
            <label htmlFor="s-name">Name</label>
            <input id="s-name" value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" />
          </div>
          <div className="field">
            <label htmlFor="s-value">Value</label>
            <input
              id="s-value"
              type="password"
              autoComplete="new-password"
              value={value}
              onChange={(e) => setValue(e.target.value)}
            />
          </div>
        </div>
        <ErrorMessage error={createError} />
        <div className="buttons">
          <button type="submit">Store secret</button>
        </div>
      </form>
      <ErrorMessage error={error} />
      {secrets && secrets.length === 0 && <p className="empty">No secrets stored yet.</p>}
      {secrets && secrets.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Used by</th>
              <th scope="col">Last changed</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {secrets.map((s) => (
              <SecretRow key={s.name} secret={s} reload={load} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
