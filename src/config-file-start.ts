/**
 * @module config-file-start: wires `MCP_GATEWAY_CONFIG` for `main.ts` — reads the file, and applies it with the
 * CLI's parser and reconciler (`src/cli/config-file-apply.ts`) to the runtime's in-process control plane, as the
 * {@link CONFIG_FILE_PRINCIPAL}, keeping what the file manages in the runtime's registry.
 */
import { readFile } from 'node:fs/promises';
import { createApiClient } from './cli/api-client.js';
import {
  ConfigApplyError,
  GatewayFileError,
  applyConfigFile,
  settingsManagedRecord,
} from './cli/config-file-apply.js';
import type { ConfigChange } from './cli/config-file-apply.js';
import type { Logger } from './observability/index.js';
import { CONFIG_FILE_PRINCIPAL } from './runtime/config-file-control.js';
import type { InProcessFetch } from './runtime/config-file-control.js';
import type { GatewayRuntime } from './runtime/node/index.js';

/** Why the file could not be applied: one line per problem, each naming the file (and line, where there is one). */
export class ConfigFileStartError extends Error {
  constructor(readonly lines: readonly string[]) {
    super(lines.join('\n'));
    this.name = 'ConfigFileStartError';
  }
}

/** An API client whose requests are answered by `handler` in this process. */
function inProcessClient(handler: InProcessFetch) {
  const fetchInProcess = (input: RequestInfo | URL, init?: RequestInit) => handler(new Request(input, init));
  return createApiClient({ url: 'http://127.0.0.1', fetch: fetchInProcess as typeof fetch });
}

/**
 * Applies the file at `path` to `runtime`'s registry; resolves with what changed (also logged). Throws
 * {@link ConfigFileStartError} for a file that cannot be read, does not check, or that the gateway refuses.
 */
export async function applyConfigFileAtStart(
  runtime: Pick<GatewayRuntime, 'configFileControl' | 'store'>,
  path: string,
  logger: Logger,
): Promise<ConfigChange[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigFileStartError([`MCP_GATEWAY_CONFIG: cannot read ${path}: ${reason}`]);
  }
  try {
    const changes = await applyConfigFile({
      text,
      fileName: path,
      client: inProcessClient(runtime.configFileControl.fetch),
      dryRunClient: inProcessClient(runtime.configFileControl.dryRun),
      managed: settingsManagedRecord(runtime.store),
      principal: CONFIG_FILE_PRINCIPAL.userId,
    });
    const count = (action: ConfigChange['action']) => changes.filter((c) => c.action === action).length;
    logger.info(
      {
        file: path,
        created: count('created'),
        updated: count('updated'),
        deleted: count('deleted'),
        unchanged: count('unchanged'),
        changes: changes
          .filter((c) => c.action !== 'unchanged')
          .map((c) => `${c.action} ${c.kind}/${c.name}`),
      },
      'configuration file applied',
    );
    return changes;
  } catch (err) {
    if (err instanceof GatewayFileError)
      throw new ConfigFileStartError(err.problems.map((p) => `MCP_GATEWAY_CONFIG: ${p}`));
    if (err instanceof ConfigApplyError)
      throw new ConfigFileStartError([`MCP_GATEWAY_CONFIG: ${err.message}`]);
    throw err;
  }
}
