/** @module mcp-name: the `Mcp-Name` request header's value, as the SDK client writes it (SEP-2243). */

/** Visible ASCII as is; anything else (or a value that would read as the sentinel) base64 in the sentinel form. */
export function mcpNameValue(value: string): string {
  if (/^[\x21-\x7e]*$/.test(value) && !value.startsWith('=?base64?')) return value;
  const bytes = new TextEncoder().encode(value);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return `=?base64?${btoa(binary)}?=`;
}
