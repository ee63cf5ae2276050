/**
 * @module schema-form: a form for a tool's arguments, generated from its `inputSchema`: a text field per string
 * (a list for an `enum`), a number field per number or integer, a checkbox per boolean, and a JSON field for
 * anything else (objects, arrays, unions). "Raw JSON" edits the whole arguments object instead.
 */
import { useEffect, useState } from 'react';
import type { FormEvent } from 'react';

/** The subset of JSON Schema the form reads; every other keyword is left to the server. */
interface PropertySchema {
  type?: string | string[];
  enum?: unknown[];
  description?: string;
  title?: string;
  default?: unknown;
}

/** A tool's `inputSchema` as the form reads it. */
export interface InputSchema {
  properties?: Record<string, PropertySchema>;
  required?: string[];
}

type Control = 'text' | 'enum' | 'number' | 'integer' | 'boolean' | 'json';

function controlOf(schema: PropertySchema): Control {
  if (schema.enum && schema.enum.every((v) => typeof v === 'string')) return 'enum';
  const type = Array.isArray(schema.type) ? schema.type.filter((t) => t !== 'null') : [schema.type];
  if (type.length !== 1) return 'json';
  switch (type[0]) {
    case 'string':
      return 'text';
    case 'number':
      return 'number';
    case 'integer':
      return 'integer';
    case 'boolean':
      return 'boolean';
    default:
      return 'json';
  }
}

const initialOf = (schema: PropertySchema, control: Control): string | boolean => {
  if (control === 'boolean') return schema.default === true;
  if (schema.default === undefined) return '';
  return control === 'json' ? JSON.stringify(schema.default) : String(schema.default);
};

/** The arguments the fields describe; empty optional fields are left out. */
function argumentsOf(schema: InputSchema, values: Record<string, string | boolean>): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  const required = new Set(schema.required ?? []);
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const control = controlOf(property);
    const value = values[name];
    if (control === 'boolean') {
      if (value || required.has(name)) args[name] = Boolean(value);
      continue;
    }
    if (value === '' || value === undefined) continue;
    const text = String(value);
    if (control === 'number' || control === 'integer') args[name] = Number(text);
    else if (control === 'json') {
      try {
        args[name] = JSON.parse(text);
      } catch {
        throw new Error(`${name}: not JSON`);
      }
    } else args[name] = text;
  }
  return args;
}

/** The form; `onSubmit` gets the arguments object. */
export function SchemaForm({
  schema,
  busy,
  onSubmit,
}: {
  schema: InputSchema;
  busy: boolean;
  onSubmit: (args: Record<string, unknown>) => void;
}) {
  const properties = Object.entries(schema.properties ?? {});
  const [values, setValues] = useState<Record<string, string | boolean>>({});
  const [raw, setRaw] = useState(false);
  const [rawText, setRawText] = useState('{}');
  const [error, setError] = useState<string>();

  useEffect(() => {
    setValues(Object.fromEntries(properties.map(([n, p]) => [n, initialOf(p, controlOf(p))])));
    setRaw(false);
    setRawText('{}');
    setError(undefined);
    // A new tool's schema starts a fresh form; `properties` is derived from it.
  }, [schema]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    try {
      onSubmit(raw ? (JSON.parse(rawText) as Record<string, unknown>) : argumentsOf(schema, values));
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const toggleRaw = (on: boolean) => {
    if (on) {
      try {
        setRawText(JSON.stringify(argumentsOf(schema, values), null, 2));
      } catch {
        setRawText('{}');
      }
    }
    setRaw(on);
  };

  const required = new Set(schema.required ?? []);
  return (
    <form onSubmit={submit} className="form" aria-label="Tool arguments">
      {!raw && properties.length === 0 && <p>This tool takes no arguments.</p>}
      {!raw &&
        properties.map(([name, property]) => {
          const control = controlOf(property);
          const id = `arg-${name}`;
          const value = values[name] ?? '';
          const label = (
            <>
              {property.title ?? name}
              {required.has(name) && <span aria-hidden="true"> *</span>}
              {required.has(name) && <span className="visually-hidden"> (required)</span>}
            </>
          );
          const help = property.description && <small id={`${id}-help`}>{property.description}</small>;
          const describedBy = property.description ? `${id}-help` : undefined;
          if (control === 'boolean')
            return (
              <div className="field" key={name}>
                <label className="inline">
                  <input
                    type="checkbox"
                    checked={value === true}
                    onChange={(e) => setValues((v) => ({ ...v, [name]: e.target.checked }))}
                    aria-describedby={describedBy}
                  />
                  {label}
                </label>
                {help}
              </div>
            );
          return (
            <div className="field" key={name}>
              <label htmlFor={id}>{label}</label>
              {control === 'enum' ? (
                <select
                  id={id}
                  value={String(value)}
                  onChange={(e) => setValues((v) => ({ ...v, [name]: e.target.value }))}
                  aria-describedby={describedBy}
                >
                  <option value="">—</option>
                  {(property.enum as string[]).map((option) => (
                    <option key={option} value={option}>
                      {option}
                    </option>
                  ))}
                </select>
              ) : control === 'json' ? (
                <textarea
                  id={id}
                  rows={3}
                  className="mono"
                  value={String(value)}
                  onChange={(e) => setValues((v) => ({ ...v, [name]: e.target.value }))}
                  aria-describedby={describedBy}
                  placeholder="JSON"
                />
              ) : (
                <input
                  id={id}
                  type={control === 'text' ? 'text' : 'number'}
                  step={control === 'integer' ? 1 : 'any'}
                  value={String(value)}
                  onChange={(e) => setValues((v) => ({ ...v, [name]: e.target.value }))}
                  aria-describedby={describedBy}
                  required={required.has(name)}
                />
              )}
              {help}
            </div>
          );
        })}
      {raw && (
        <div className="field">
          <label htmlFor="raw-args">Arguments (JSON)</label>
          <textarea
            id="raw-args"
            rows={8}
            className="mono"
            value={rawText}
            spellCheck={false}
            onChange={(e) => setRawText(e.target.value)}
          />
        </div>
      )}
      <label className="inline">
        <input type="checkbox" checked={raw} onChange={(e) => toggleRaw(e.target.checked)} />
        Raw JSON
      </label>
      {error && (
        <div className="error" role="alert">
          <p>{error}</p>
        </div>
      )}
      <div className="buttons">
        <button type="submit" disabled={busy}>
          {busy ? 'Calling…' : 'Call tool'}
        </button>
      </div>
    </form>
  );
}
