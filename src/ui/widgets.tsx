/** @module widgets: the small pieces every page shares — an error as the API said it, a copy button, a badge. */
import { useState } from 'react';
import { ApiError } from './api.js';

/** An error as the gateway worded it: its message and, for a validation error, each field's message. */
export function ErrorMessage({ error }: { error: unknown }) {
  if (error === undefined || error === null) return null;
  const api = error instanceof ApiError ? error : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div className="error" role="alert">
      <p>
        {api && <strong>{api.status} </strong>}
        {message}
      </p>
      {api && api.details.length > 0 && (
        <ul>
          {api.details.map((d) => (
            <li key={`${d.path}:${d.message}`}>
              <code>{d.path || '(body)'}</code>: {d.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Copies `text` to the clipboard; says so for screen readers too. */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      setState('failed');
    }
    setTimeout(() => setState('idle'), 2000);
  };
  return (
    <button type="button" className="secondary small" onClick={() => void copy()} aria-label={label}>
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed' : 'Copy'}
      <span className="visually-hidden" aria-live="polite">
        {state === 'copied' ? ' copied to the clipboard' : ''}
      </span>
    </button>
  );
}

/** A code block with a copy button. */
export function Snippet({ text, label }: { text: string; label: string }) {
  return (
    <div className="snippet">
      <pre>
        <code>{text}</code>
      </pre>
      <CopyButton text={text} label={`Copy ${label}`} />
    </div>
  );
}

/** The first word of a status (`Healthy`, `Degraded: 1/2 ready`, `Failed: …`) decides its colour. */
export function StatusBadge({ status }: { status: string | undefined }) {
  if (status === undefined) return <span className="badge">…</span>;
  const word = /^\w+/.exec(status)?.[0]?.toLowerCase() ?? 'unknown';
  return <span className={`badge badge-${word}`}>{status}</span>;
}
