/**
 * @module output: how results are printed — `-o table` (aligned columns, for people), `-o json` and `-o yaml`
 * (the API's objects unchanged, for scripts).
 */
import { stringify } from 'yaml';
import type { OutputFormat } from './args.js';

/** Where the CLI writes. */
export interface Writer {
  write(text: string): unknown;
}

/** Rows (the first is the header) as left-aligned columns separated by two spaces. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, [...cell].length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(widths[i]! - [...cell].length)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
    .concat('\n');
}

/** A value in one table cell: strings as they are, anything else as compact JSON. */
export function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  // One line per row, whatever the value holds.
  return text.replace(/[\r\n\t]+/g, ' ');
}

/** Prints `data` as JSON or YAML, or as the table `rows` builds. */
export function print(
  out: Writer,
  format: OutputFormat,
  data: unknown,
  rows: () => readonly (readonly string[])[],
): void {
  if (format === 'json') out.write(`${JSON.stringify(data, null, 2)}\n`);
  else if (format === 'yaml') out.write(stringify(data, { lineWidth: 0 }));
  else out.write(formatTable(rows()));
}

/** One object as FIELD/VALUE rows. */
export function fieldRows(object: Record<string, unknown>, extra: [string, string][] = []): string[][] {
  return [['FIELD', 'VALUE'], ...Object.entries(object).map(([key, value]) => [key, cell(value)]), ...extra];
}
