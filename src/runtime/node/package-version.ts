/** @module package-version: the gateway's version, as `package.json` says, for logs, OpenAPI and MCP `serverInfo`. */
import { readFileSync } from 'node:fs';

/** `version` of the package this module was built in; `0.0.0` when it cannot be read. */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}
